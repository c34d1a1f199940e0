// The ReplicaTransport (coordinator/replica-transport.ts) of a simulated node: local calls to
// its own Replica, as the gRPC transport makes them, and calls to peers over the simulated
// network. A test-only mutation can break what replication carries.

import type { NodeId } from "../../node/core/node-id.js";
import type { DvvSet } from "../../node/core/dvv.js";
import { encodeObject } from "../../node/core/object-codec.js";
import { grpcStatusOf } from "../../node/wire/grpc-status.js";
import type { Replica } from "../../node/replica.js";
import type { ReadReply } from "../../coordinator/core/get-quorum.js";
import {
  sameAsOwn,
  writeFailure,
  type OwnCopy,
  type ReplicaTransport,
  type ReplicaWriteOptions,
  type TransportWriteReply,
} from "../../coordinator/replica-transport.js";
import type { SimClock } from "./sim-clock.js";
import type { SimEndpoint } from "./sim-endpoint.js";
import type { SimNetwork } from "./sim-network.js";

/** Rewrites an object on its way to a peer: the "broken merge" mutation, never in a real run. */
export type ObjectMangler = (object: DvvSet) => DvvSet;

/** Reaches replicas from one node incarnation. */
export class SimTransport implements ReplicaTransport {
  readonly #self: NodeId;
  readonly #incarnation: number;
  readonly #replica: Replica;
  readonly #clock: SimClock;
  readonly #network: SimNetwork<SimEndpoint>;
  readonly #mangle: ObjectMangler | undefined;

  constructor(options: {
    readonly self: NodeId;
    readonly incarnation: number;
    readonly replica: Replica;
    readonly clock: SimClock;
    readonly network: SimNetwork<SimEndpoint>;
    readonly mangle?: ObjectMangler | undefined;
  }) {
    this.#self = options.self;
    this.#incarnation = options.incarnation;
    this.#replica = options.replica;
    this.#clock = options.clock;
    this.#network = options.network;
    this.#mangle = options.mangle;
  }

  async get(
    node: NodeId,
    bucket: string,
    key: Uint8Array,
    deadlineMs: number,
    own?: OwnCopy,
  ): Promise<ReadReply<DvvSet>> {
    if (node === this.#self) {
      try {
        return { ok: true, object: await this.#replica.get(bucket, key) };
      } catch (error) {
        return { ok: false, error: messageOf(error) };
      }
    }
    const result = await this.#network.call({
      ...this.#route(node, "replica-get", deadlineMs),
      idempotent: true,
      handle: (endpoint) => endpoint.replicaGet(bucket, key, own?.digest),
    });
    if (!result.ok) return { ok: false, error: result.error };
    const reply = result.value;
    if (!reply.ok) return { ok: false, error: reply.error };
    if ("same" in reply) return sameAsOwn(node, own);
    return { ok: true, object: reply.object };
  }

  async put(
    node: NodeId,
    bucket: string,
    key: Uint8Array,
    object: DvvSet,
    options: ReplicaWriteOptions,
  ): Promise<TransportWriteReply> {
    if (node === this.#self) {
      try {
        const result = await this.#replica.merge(bucket, key, object, options);
        return { ok: true, durable: result.durable };
      } catch (error) {
        return { ok: false, error: messageOf(error) };
      }
    }
    const sent = this.#mangle === undefined ? object : this.#mangle(object);
    const request = {
      bucket,
      key,
      object: sent,
      bytes: () => encodeObject(sent).length,
      durable: options.durable,
      reason: options.reason,
      hintFor: options.hintFor ?? "",
    };
    const result = await this.#network.call({
      ...this.#route(node, "replica-put", options.deadlineMs),
      idempotent: true,
      handle: (endpoint) => endpoint.replicaPut(request),
    });
    if (!result.ok) return { ok: false, error: result.error };
    const reply = result.value;
    if (reply.ok) return { ok: true, durable: reply.durable };
    // As the gRPC transport: a limit refusal, a fallback that declined, or another failure.
    return writeFailure(grpcStatusOf(reply.code), reply.error, request.hintFor !== "");
  }

  #route(
    node: NodeId,
    kind: string,
    deadlineMs: number,
  ): { from: NodeId; fromIncarnation: number; to: NodeId; kind: string; deadlineMs: number } {
    return {
      from: this.#self,
      fromIncarnation: this.#incarnation,
      to: node,
      kind,
      deadlineMs: this.#clock.toVirtualMs(deadlineMs),
    };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
