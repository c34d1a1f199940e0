// One incarnation of a simulated node, wired as cli/start-node.ts wires a real one (Replica over a
// SimStorage, HintStore, Coordinator, KvService, MemberView and HeartbeatLoop, HintDelivery,
// AntiEntropy and its TombstoneReaper, gossip, TransferLoop, DropLoop, a MetadataStore in the
// simulated metadata file) on its SimClock, with sim-ports.ts for gRPC clients. Its services call
// what the gRPC servers call; failures become values. A crash kills it for good; a restart builds
// a new one over the same disks.

import type { Limits } from "../../node/core/limits.js";
import type { NodeId } from "../../node/core/node-id.js";
import type { Ring } from "../../node/core/ring.js";
import { isRemovedFrom, type Layout } from "../../node/core/layout.js";
import { MetadataGossip, answerExchange } from "../../node/membership/metadata-gossip.js";
import type { TransferLoop } from "../../node/membership/transfer-loop.js";
import type {
  PartitionPuller,
  PullRequest,
  ReceivedBatch,
} from "../../node/membership/partition-puller.js";
import type { TransferSource } from "../../node/membership/transfer-source.js";
import { nextTransferBatch, simTransfers } from "./sim-transfer-port.js";
import { DropLoop } from "../../node/membership/drop-loop.js";
import type { MembershipView } from "../../node/membership/membership-view.js";
import { Replica } from "../../node/replica.js";
import { replicaCalls } from "../../node/replica-server.js";
import type { ReplicaCalls } from "../../node/replica-stream-server.js";
import { HintStore } from "../../node/hints/hint-store.js";
import { HintDelivery, type DeliveryOptions } from "../../node/hints/hint-delivery.js";
import { applyHandoffBatch, type HandoffBatch } from "../../node/hints/handoff-server.js";
import { MemberView, type PeerTransition } from "../../node/membership/member-view.js";
import { HeartbeatLoop } from "../../node/membership/heartbeat-loop.js";
import type { FailureDetectorOptions } from "../../node/membership/failure-detector-options.js";
import { AntiEntropy } from "../../node/anti-entropy/anti-entropy.js";
import type { AntiEntropyOptions } from "../../node/anti-entropy/aae-options.js";
import type {
  ReapAnswer,
  ReapOptions,
  ReapRequest,
} from "../../node/anti-entropy/tombstone-reaper.js";
import type { Logger } from "../../node/logger.js";
import type { GetRequest__Output } from "../../proto/generated/dkv/v1/GetRequest.js";
import type { PutRequest__Output } from "../../proto/generated/dkv/v1/PutRequest.js";
import type { DeleteRequest__Output } from "../../proto/generated/dkv/v1/DeleteRequest.js";
import type { ReplicaGetRequest__Output } from "../../proto/generated/dkv/v1/ReplicaGetRequest.js";
import type { ReplicaPutRequest__Output } from "../../proto/generated/dkv/v1/ReplicaPutRequest.js";
import type { ReplicaPutResponse } from "../../proto/generated/dkv/v1/ReplicaPutResponse.js";
import type { BucketDefaults } from "../../coordinator/core/quorum-options.js";
import type { ForwardPolicy } from "../../coordinator/core/forward-policy.js";
import { Coordinator, type CoordinatorView } from "../../coordinator/coordinator.js";
import {
  KvService,
  type DeleteReply,
  type GetReply,
  type KvCall,
  type PutReply,
} from "../../coordinator/kv-service.js";
import { SimClock } from "./sim-clock.js";
import { SimForwardPort } from "./sim-forward-port.js";
import type {
  KvWireReply,
  PingAnswer,
  ReplicaGetReply,
  SimEndpoint,
  WireReply,
} from "./sim-endpoint.js";
import { answerExchangeBytes, wire } from "./sim-wire.js";
import type { SimNetwork } from "./sim-network.js";
import {
  SimExchangeOpener,
  SimHandoffPort,
  SimLink,
  SimPingPort,
  SimReapPort,
  simMetadataExchange,
} from "./sim-ports.js";
import type { SimMetadataFile } from "./sim-layout-view.js";
import { LayoutFollower } from "../../node/membership/layout-follower.js";
import { primariesFollowing } from "../../coordinator/preference-lists.js";
import type { SeededRandom } from "../../node/core/seeded-random.js";
import type { SimScheduler } from "./sim-scheduler.js";
import { SimStorage, type SimDisk, type SimStorageFaults } from "./sim-storage.js";
import { SimTransport, type ObjectMangler } from "./sim-transport.js";

/** How the background protocols of every node run (drawn from the seed; mutations included). */
export interface BackgroundConfig {
  readonly failureDetector: FailureDetectorOptions;
  readonly delivery: DeliveryOptions;
  readonly antiEntropy: Partial<AntiEntropyOptions>;
  readonly reap: Partial<ReapOptions>;
}

/** Everything a node incarnation is built from. */
export interface SimProcessOptions {
  readonly self: NodeId;
  readonly incarnation: number;
  /** Actor id of this incarnation's dots: `node.<hex>`, fresh at every start as in production. */
  readonly actor: string;
  /** The cluster metadata file: the layout this incarnation starts from and keeps. */
  readonly metadataFile: SimMetadataFile;
  /** After a membership change retires, how long before lost partitions are dropped. */
  readonly dropGraceMs: number;
  readonly scheduler: SimScheduler;
  readonly network: SimNetwork<SimEndpoint>;
  readonly random: SeededRandom;
  readonly disk: SimDisk;
  readonly hintDisk: SimDisk;
  readonly fsyncMs: readonly [number, number];
  readonly storageFaults: SimStorageFaults;
  readonly onStore?: import("./sim-storage.js").StoreTracer | undefined; // --trace-key
  readonly skewMs: number;
  readonly limits: Limits;
  readonly bucket: BucketDefaults;
  readonly hintedHandoff: boolean;
  readonly hintBytesMaxPerTarget: number;
  readonly background: BackgroundConfig;
  readonly logger: Logger;
  readonly mangle?: ObjectMangler | undefined;
  /** The KV service's forwarding policy: the default, or a mutation's. */
  readonly forwardPolicy: ForwardPolicy;
  /** Told about every up/down transition this node's failure detector makes (the trace). */
  readonly onTransition: (transition: PeerTransition) => void;
}

/** A running node incarnation; it is the network endpoint of its node while it lives. */
export class SimProcess implements SimEndpoint, CoordinatorView, MembershipView {
  readonly self: NodeId;
  readonly incarnation: number;
  /** The cluster metadata and the layout this node follows (ClusterView's part). */
  readonly membership: LayoutFollower;
  readonly gossip: MetadataGossip;
  readonly transfers: TransferLoop;
  readonly transferSource: TransferSource;
  readonly drops: DropLoop;
  readonly clock: SimClock;
  readonly bucket: BucketDefaults;
  readonly storage: SimStorage;
  readonly hintStorage: SimStorage;
  readonly replica: Replica;
  readonly hints: HintStore;
  readonly coordinator: Coordinator;
  readonly kv: KvService;
  readonly members: MemberView;
  readonly heartbeats: HeartbeatLoop;
  readonly delivery: HintDelivery;
  readonly antiEntropy: AntiEntropy;
  /** Per peer, when (virtual ms) the last exchange this node opened and finished was opened. */
  readonly exchangesCompleted = new Map<NodeId, number>();
  readonly #hintedHandoff: boolean;
  readonly #replicaCalls: ReplicaCalls;
  readonly #handoffStats = { received: 0 };
  #puller: PartitionPuller | undefined;
  #alive = true;

  private constructor(options: SimProcessOptions) {
    this.self = options.self;
    this.incarnation = options.incarnation;
    this.bucket = options.bucket;
    this.#hintedHandoff = options.hintedHandoff;
    const { background, logger } = options;
    this.clock = new SimClock(options.scheduler, options.skewMs);
    const clock = this.clock;
    const engine = (disk: SimDisk, name: "data" | "hints"): SimStorage =>
      new SimStorage({
        disk,
        scheduler: options.scheduler,
        random: options.random,
        fsyncMs: options.fsyncMs,
        faults: options.storageFaults,
        onWrite: options.onStore && ((id, bytes) => options.onStore?.(name, id, bytes)),
      });
    this.storage = engine(options.disk, "data");
    this.hintStorage = engine(options.hintDisk, "hints");
    this.replica = new Replica(this.storage, options.actor, undefined, { clock });
    this.hints = new HintStore(this.hintStorage, {
      bytesMaxPerTarget: options.hintBytesMaxPerTarget,
    });
    const link = new SimLink({ ...options, clock });
    const store = options.metadataFile.open(
      options.metadataFile.persistFor({ ...options, alive: () => this.#alive }),
    );
    // As ClusterView: the detector's peers follow the members of every new layout.
    this.membership = new LayoutFollower(store, () => {
      if (this.members.setPeers(this.#peers(), clock.monotonicMs())) this.heartbeats.syncPeers();
    });
    // The failure detector, as ClusterView builds it: every peer starts up.
    this.members = new MemberView(
      this.self,
      this.#peers(),
      background.failureDetector,
      clock.monotonicMs(),
    );
    this.gossip = new MetadataGossip({
      store,
      exchange: simMetadataExchange(link),
      clock,
      logger,
    });
    this.heartbeats = new HeartbeatLoop({
      members: this.members,
      port: new SimPingPort(link, this.gossip),
      clock,
      options: background.failureDetector,
      logger,
      onTransition: options.onTransition,
    });
    const primariesOf = primariesFollowing(this, this.bucket.n);
    this.antiEntropy = new AntiEntropy({
      view: this,
      replica: this.replica,
      primariesOf,
      logger,
      exchanges: new SimExchangeOpener(
        link,
        () => this.antiEntropy.stats.counters.exchanges,
        (peer, openedMs) => this.exchangesCompleted.set(peer, openedMs),
      ),
      reaps: new SimReapPort(link),
      clock,
      options: background.antiEntropy,
      hints: this.hints,
      reap: background.reap,
      leftToTransfer: (partition, peer) => this.transfers.leftToTransfer(partition, peer),
    });
    this.replica.onWrite(this.antiEntropy.writeListener);
    this.replica.onRemove(this.antiEntropy.removeListener);
    this.drops = new DropLoop({
      view: this,
      replica: this.replica,
      hints: this.hints,
      clock,
      logger,
      graceMs: options.dropGraceMs,
    });
    // Ownership transfer as start-node.ts wires it: the stream, then confirming exchanges.
    const transfers = simTransfers({
      link,
      view: this,
      replica: this.replica,
      antiEntropy: this.antiEntropy,
      metadata: store,
      pulls: options.metadataFile.pulls,
      clock,
      logger,
      hints: this.hints,
    });
    [this.transfers, this.transferSource, this.#puller] = [
      transfers.loop,
      transfers.source,
      transfers.puller,
    ];
    this.#replicaCalls = replicaCalls(this.replica, this, this.hints, options.limits);
    const transport = new SimTransport({
      self: this.self,
      incarnation: this.incarnation,
      replica: this.replica,
      clock,
      network: options.network,
      mangle: options.mangle,
    });
    this.coordinator = new Coordinator({
      view: this,
      replica: this.replica,
      transport,
      limits: options.limits,
      logger,
      clock,
      readRepair: true,
      hints: this.hints,
      hintedHandoff: options.hintedHandoff,
    });
    this.delivery = new HintDelivery({
      view: this,
      replica: this.replica,
      hints: this.hints,
      port: new SimHandoffPort(link, background.delivery.ackTimeoutMs, {
        stillHinted: (item) => this.hints.isHinted(item.bucket, item.key),
        violated: (message) => logger.error({ err: new Error(message) }, "hint rule broken"),
      }),
      clock,
      logger,
      isPrimaryOf: (bucket, key) => this.coordinator.isPrimaryOf(bucket, key, this.bucket.n),
      membership: {
        self: this.self,
        isMember: (node) => this.isMember(node),
        primariesOf: (bucket, key) =>
          this.coordinator.preferenceList(bucket, key, this.bucket.n).primaries,
      },
      delivery: background.delivery,
    });
    this.kv = new KvService({
      coordinator: this.coordinator,
      self: this.self,
      limits: options.limits,
      bucket: options.bucket,
      logger,
      clock,
      forward: new SimForwardPort({
        self: this.self,
        incarnation: this.incarnation,
        clock,
        network: options.network,
      }),
      // The simulation runs insecure nodes: contexts are unsealed.
      contextKeys: () => undefined,
      forwardPolicy: options.forwardPolicy,
    });
  }

  /**
   * Opens the storage engines (recovering what the disks kept) and starts the node's loops in
   * start-node.ts's order: heartbeats, hint delivery, then anti-entropy (which rebuilds its
   * trees from storage first) and the transfers.
   */
  static async start(options: SimProcessOptions): Promise<SimProcess> {
    const process = new SimProcess(options);
    await process.storage.open();
    await process.hints.open();
    process.heartbeats.start();
    if (process.#hintedHandoff) process.delivery.start();
    process.antiEntropy.start();
    await process.#puller?.open();
    process.transfers.start();
    return process;
  }

  get ring(): Ring {
    return this.membership.ring;
  }

  get previousRing(): Ring | undefined {
    return this.membership.previousRing;
  }

  get layout(): Layout {
    return this.membership.layout;
  }

  /** The cluster metadata this node holds. */
  get metadata(): LayoutFollower["store"] {
    return this.membership.store;
  }

  layoutVersion(): number {
    return this.membership.layout.version;
  }

  transitionOf(): number | undefined {
    return this.membership.transitionOf();
  }

  ringNodes(): readonly NodeId[] {
    return this.membership.ringNodes();
  }

  onLayoutChange(listener: (layout: Layout, before: Layout) => void): () => void {
    return this.membership.onLayoutChange(listener);
  }

  /** The members but this node: the failure detector's peers. */
  #peers(): NodeId[] {
    return this.membership.members.filter((node) => node !== this.self);
  }

  /** The failure detector's belief (CoordinatorView, ReaperView). */
  upNodes(): ReadonlySet<NodeId> {
    return this.members.upNodes();
  }

  /** The simulation drops no peer on purpose (ReaperView): its partitions are silent. */
  droppedPeers(): readonly NodeId[] {
    return [];
  }

  /** A member of the cluster (the replica service's check of hint_for). */
  isMember(node: string): boolean {
    return this.membership.members.includes(node as NodeId);
  }

  /** Its own layout lists this node as removed (the replica service refuses writes then). */
  isSelfRemoved(): boolean {
    return isRemovedFrom(this.membership.layout, this.self);
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

  /** Stops the background loops (as a clean shutdown does), so that the run can go idle. */
  async stopBackground(): Promise<void> {
    await this.transfers.close();
    await this.drops.close();
    this.heartbeats.stop();
    this.delivery.close();
    await this.antiEntropy.close();
    this.membership.close();
  }

  /** Hints this node holds, over every target. */
  hintCount(): number {
    return this.hints.pendingCount();
  }

  // The services, as the gRPC servers run them.

  received(from: NodeId, kind: string): void {
    // ClusterView.refusal: every node-to-node request but Admin.Status is evidence of life.
    if (kind !== "status") this.members.heardFrom(from, this.clock.monotonicMs());
  }

  replicaGet(request: ReplicaGetRequest__Output): Promise<WireReply<ReplicaGetReply>> {
    // serveGet always answers `found` and the object as bytes (the message's input type is wider).
    return wire(this.#replicaCalls.get(request) as Promise<ReplicaGetReply>);
  }

  replicaPut(request: ReplicaPutRequest__Output): Promise<WireReply<ReplicaPutResponse>> {
    return wire(this.#replicaCalls.put(request));
  }

  handoff(batch: HandoffBatch): Promise<WireReply<readonly number[]>> {
    return wire(applyHandoffBatch(this.replica, this.self, batch, this.#handoffStats));
  }

  ping(): Promise<WireReply<PingAnswer>> {
    const reply = { nodeId: this.self, metadataDigest: this.metadata.digest };
    return Promise.resolve({ ok: true, reply });
  }

  metadataExchange(json: string): Promise<WireReply<string>> {
    return wire(answerExchange(this.metadata, json));
  }

  hintsPending(): Promise<WireReply<{ counts: readonly number[]; layoutVersion: number }>> {
    // Admin.Status's members[].hints_pending, handover_partitions_pending and layout_version.
    const counts = [this.hintCount(), this.drops.pending]; // every hint, whatever its target
    const reply = { counts, layoutVersion: this.layoutVersion() };
    return Promise.resolve({ ok: true, reply });
  }

  exchange(request: Uint8Array, from: NodeId): Promise<WireReply<Uint8Array>> {
    return wire(answerExchangeBytes(this.antiEntropy, request, from));
  }

  reap(request: ReapRequest): Promise<WireReply<ReapAnswer>> {
    return wire(this.antiEntropy.reaper.answer(request));
  }

  transferBatch(request: PullRequest, from: NodeId): Promise<WireReply<ReceivedBatch>> {
    return wire(nextTransferBatch(this.transferSource, request, from));
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
