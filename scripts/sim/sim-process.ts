// One incarnation of a simulated node: the real Replica over a SimStorage, the real HintStore,
// the real Coordinator and KvService with a SimClock and a view whose up set the simulation
// controls, and the node's services: the KV service as kv-server.ts serves it (the service's
// failures become values, as the adapter maps them to gRPC statuses), and the replica services,
// which follow node/replica-server.ts and node/hints/handoff-server.ts.
// A crash kills it for good; a restart builds a new one over the same disks.

import { isKvError, KvError } from "../../node/core/errors.js";
import type { Limits } from "../../node/core/limits.js";
import type { NodeId } from "../../node/core/node-id.js";
import type { Ring } from "../../node/core/ring.js";
import { Replica, type ObjectCheck } from "../../node/replica.js";
import { limitCheck } from "../../node/core/object-limit.js";
import { ReplicaPutReason } from "../../proto/generated/dkv/v1/ReplicaPutReason.js";
import { HintStore } from "../../node/hints/hint-store.js";
import type { Logger } from "../../node/logger.js";
import type { GetRequest__Output } from "../../proto/generated/dkv/v1/GetRequest.js";
import type { PutRequest__Output } from "../../proto/generated/dkv/v1/PutRequest.js";
import type { DeleteRequest__Output } from "../../proto/generated/dkv/v1/DeleteRequest.js";
import type { BucketDefaults } from "../../coordinator/core/quorum-options.js";
import type { ForwardPolicy } from "../../coordinator/core/forward-policy.js";
import { Coordinator, type CoordinatorView } from "../../coordinator/coordinator.js";
import {
  KvService,
  PeerError,
  type DeleteReply,
  type GetReply,
  type KvCall,
  type PutReply,
} from "../../coordinator/kv-service.js";
import { SimClock } from "./sim-clock.js";
import { SimForwardPort } from "./sim-forward-port.js";
import type {
  KvWireReply,
  SimEndpoint,
  WireGetReply,
  WireHandoffReply,
  WireHintItem,
  WirePutReply,
  WireFailure,
  WirePutRequest,
} from "./sim-endpoint.js";
import type { SimNetwork } from "./sim-network.js";
import type { SimRandom } from "./sim-random.js";
import type { SimScheduler } from "./sim-scheduler.js";
import { SimStorage, type SimDisk, type SimStorageFaults } from "./sim-storage.js";
import { SimTransport, type ObjectMangler } from "./sim-transport.js";

/** Everything a node incarnation is built from. */
export interface SimProcessOptions {
  readonly self: NodeId;
  readonly incarnation: number;
  /** Actor id of this incarnation's dots: `node.<hex>`, fresh at every start as in production. */
  readonly actor: string;
  readonly ring: Ring;
  readonly upNodes: ReadonlySet<NodeId>;
  readonly scheduler: SimScheduler;
  readonly network: SimNetwork<SimEndpoint>;
  readonly random: SimRandom;
  readonly disk: SimDisk;
  readonly hintDisk: SimDisk;
  readonly fsyncMs: readonly [number, number];
  readonly storageFaults: SimStorageFaults;
  readonly skewMs: number;
  readonly limits: Limits;
  readonly bucket: BucketDefaults;
  readonly hintedHandoff: boolean;
  readonly hintBytesMaxPerTarget: number;
  readonly logger: Logger;
  readonly mangle?: ObjectMangler | undefined;
  /** The KV service's forwarding policy: the default, or a mutation's. */
  readonly forwardPolicy: ForwardPolicy;
}

/** A running node incarnation; it is the network endpoint of its node while it lives. */
export class SimProcess implements SimEndpoint, CoordinatorView {
  readonly self: NodeId;
  readonly incarnation: number;
  readonly ring: Ring;
  readonly clock: SimClock;
  readonly network: SimNetwork<SimEndpoint>;
  readonly bucket: BucketDefaults;
  readonly storage: SimStorage;
  readonly hintStorage: SimStorage;
  readonly replica: Replica;
  readonly hints: HintStore;
  readonly coordinator: Coordinator;
  readonly kv: KvService;
  readonly #members: ReadonlySet<NodeId>;
  readonly #limitCheck: ObjectCheck;
  #upNodes: ReadonlySet<NodeId>;
  #alive = true;

  private constructor(options: SimProcessOptions) {
    this.self = options.self;
    this.incarnation = options.incarnation;
    this.ring = options.ring;
    this.network = options.network;
    this.bucket = options.bucket;
    this.#limitCheck = limitCheck(options.limits, options.self);
    this.#members = new Set(options.ring.nodes);
    this.#upNodes = options.upNodes;
    this.clock = new SimClock(options.scheduler, options.skewMs);
    const engine = (disk: SimDisk): SimStorage =>
      new SimStorage({
        disk,
        scheduler: options.scheduler,
        random: options.random,
        fsyncMs: options.fsyncMs,
        faults: options.storageFaults,
      });
    this.storage = engine(options.disk);
    this.hintStorage = engine(options.hintDisk);
    this.replica = new Replica(this.storage, options.actor);
    this.hints = new HintStore(this.hintStorage, {
      bytesMaxPerTarget: options.hintBytesMaxPerTarget,
    });
    const transport = new SimTransport({
      self: this.self,
      incarnation: this.incarnation,
      replica: this.replica,
      clock: this.clock,
      network: this.network,
      mangle: options.mangle,
    });
    this.coordinator = new Coordinator({
      view: this,
      replica: this.replica,
      transport,
      limits: options.limits,
      logger: options.logger,
      clock: this.clock,
      readRepair: true,
      hints: this.hints,
      hintedHandoff: options.hintedHandoff,
    });
    this.kv = new KvService({
      coordinator: this.coordinator,
      self: this.self,
      limits: options.limits,
      bucket: options.bucket,
      logger: options.logger,
      clock: this.clock,
      forward: new SimForwardPort({
        self: this.self,
        incarnation: this.incarnation,
        clock: this.clock,
        network: this.network,
      }),
      // The simulation runs insecure nodes: contexts are unsealed.
      contextKeys: () => undefined,
      forwardPolicy: options.forwardPolicy,
    });
  }

  /** Opens the storage engines (recovering what the disks kept) and starts the node. */
  static async start(options: SimProcessOptions): Promise<SimProcess> {
    const process = new SimProcess(options);
    await process.storage.open();
    await process.hints.open();
    return process;
  }

  /** The failure detector's belief (CoordinatorView). */
  upNodes(): ReadonlySet<NodeId> {
    return this.#upNodes;
  }

  /** What the simulated failure detector decided. */
  setUpNodes(upNodes: ReadonlySet<NodeId>): void {
    this.#upNodes = upNodes;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Kills the process: timers stop, storage hangs, unsynced writes are lost. */
  crash(): { readonly lostWrites: number; readonly lostHintWrites: number } {
    this.#alive = false;
    this.clock.stop();
    return { lostWrites: this.storage.crash(), lostHintWrites: this.hintStorage.crash() };
  }

  /** `work`'s result while this process lives; a dead process never answers. */
  guard<T>(work: Promise<T>): Promise<T> {
    return work.then((value) => (this.#alive ? value : new Promise<T>(() => undefined)));
  }

  // The Replica service (node/replica-server.ts).

  async replicaGet(bucket: string, key: Uint8Array, digest?: Uint8Array): Promise<WireGetReply> {
    try {
      if (digest !== undefined) {
        const answer = await this.replica.getUnlessSame(bucket, key, digest);
        return answer.same ? { ok: true, same: true } : { ok: true, object: answer.object };
      }
      const object = await this.replica.get(bucket, key);
      return { ok: true, object };
    } catch (error) {
      return failureOf(error);
    }
  }

  async replicaPut(request: WirePutRequest): Promise<WirePutReply> {
    try {
      if (request.hintFor !== "") await this.#addHint(request);
      // replica-server's servePut: only a coordinated write may be refused at the limits.
      const write = request.reason === ReplicaPutReason.REPLICA_PUT_REASON_WRITE;
      const result = await this.replica.merge(request.bucket, request.key, request.object, {
        durable: request.durable,
        check: write ? this.#limitCheck : undefined,
      });
      return { ok: true, durable: result.durable };
    } catch (error) {
      return failureOf(error);
    }
  }

  /** replica-server's addHint: the hint is durable before the object is stored. */
  async #addHint(request: WirePutRequest): Promise<void> {
    const hintFor = request.hintFor;
    if (!this.#members.has(hintFor as NodeId) || hintFor === this.self) {
      throw new KvError("invalid-argument", `hint_for names ${hintFor}, not another member`);
    }
    const target = hintFor as NodeId;
    const bytes = request.bytes();
    if (!this.hints.hasRoom(target, bytes)) {
      const pending = this.hints.totals(target);
      throw new KvError(
        "too-large",
        `hint store of ${this.self} for ${target} is full: ${pending.bytes} bytes pending, ` +
          `limit ${this.hints.bytesMaxPerTarget}`,
      );
    }
    await this.hints.add(target, request.bucket, request.key, bytes);
  }

  // The Handoff service (node/hints/handoff-server.ts applyBatch).

  async handoff(target: string, items: readonly WireHintItem[]): Promise<WireHandoffReply> {
    try {
      if (target !== this.self) {
        throw new KvError("invalid-argument", `hints for ${target} sent to ${this.self}`);
      }
      await Promise.all(
        items.map((item) =>
          this.replica.merge(item.bucket, item.key, item.object, { durable: true }),
        ),
      );
      return { ok: true, ids: items.map((item) => item.id) };
    } catch (error) {
      return failureOf(error);
    }
  }

  // The KV service (kv-server.ts): a client's calls, and writes other nodes forwarded here.
  // Deadlines arrive in virtual time and are read on this node's clock, as grpc-js turns a
  // call's timeout into a deadline on the server's clock.

  /** KV.Get from a client. */
  clientGet(request: GetRequest__Output, deadlineMs: number): Promise<KvWireReply<GetReply>> {
    return wire(this.kv.get(request, this.#call(deadlineMs, false)));
  }

  /** KV.Put from a client. */
  clientPut(request: PutRequest__Output, deadlineMs: number): Promise<KvWireReply<PutReply>> {
    return wire(this.kv.put(request, this.#call(deadlineMs, false)));
  }

  /** KV.Delete from a client. */
  clientDelete(
    request: DeleteRequest__Output,
    deadlineMs: number,
  ): Promise<KvWireReply<DeleteReply>> {
    return wire(this.kv.delete(request, this.#call(deadlineMs, false)));
  }

  forwardedPut(request: PutRequest__Output, deadlineMs: number): Promise<KvWireReply<PutReply>> {
    return wire(this.kv.put(request, this.#call(deadlineMs, true)));
  }

  forwardedDelete(
    request: DeleteRequest__Output,
    deadlineMs: number,
  ): Promise<KvWireReply<DeleteReply>> {
    return wire(this.kv.delete(request, this.#call(deadlineMs, true)));
  }

  #call(virtualDeadlineMs: number, forwarded: boolean): KvCall {
    return { deadlineMs: this.clock.fromVirtualMs(virtualDeadlineMs), forwarded };
  }
}

/** A KV call's outcome as a value: the reply, or the failure the gRPC adapter would send. */
function wire<Reply>(answer: Promise<Reply>): Promise<KvWireReply<Reply>> {
  return answer.then((reply) => ({ ok: true, reply }), failureOf);
}

/**
 * A thrown error as a reply: a KvError by its code; a peer's failure of a forwarded write
 * unchanged (kv-server.ts passes it through); anything else is a bug ("internal").
 */
function failureOf(error: unknown): WireFailure {
  if (error instanceof PeerError) return failureOf(error.answer);
  if (isKvError(error)) {
    return { ok: false, code: error.code, error: error.message, notApplied: error.notApplied };
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { ok: false, code: "internal", error: `internal error: ${message}`, notApplied: false };
}
