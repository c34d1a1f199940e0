// The ReplicaTransport (coordinator/replica-transport.ts) of a simulated node: local calls to
// its own Replica and the reading of peers' replies through the functions the gRPC transport
// uses (ownGet, ownPut, peerReadReply, writeFailure), and Replica.Get/Put messages to peers over
// the simulated network. A test-only mutation can break what replication carries.

import type { NodeId } from "../../node/core/node-id.js";
import type { DvvSet } from "../../node/core/dvv.js";
import { encodeObject } from "../../node/core/object-codec.js";
import { grpcStatusOf } from "../../node/wire/grpc-status.js";
import type { Replica } from "../../node/replica.js";
import type { ReplicaPutReason__Output } from "../../proto/generated/dkv/v1/ReplicaPutReason.js";
import type { ReadReply } from "../../coordinator/core/get-quorum.js";
import {
  ownGet,
  ownPut,
  peerReadReply,
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
  readonly #encoded = new WeakMap<DvvSet, Uint8Array>();

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
    if (node === this.#self) return ownGet(this.#replica, bucket, key);
    const request = {
      bucket,
      key: asBuffer(key),
      digest: own === undefined ? EMPTY : asBuffer(own.digest),
    };
    const result = await this.#network.call({
      ...this.#route(node, "replica-get", deadlineMs),
      idempotent: true,
      lateRefused: true,
      handle: (endpoint) => endpoint.replicaGet(request),
    });
    if (!result.ok) return { ok: false, error: result.error };
    const reply = result.value;
    if (!reply.ok) return { ok: false, error: reply.error };
    return peerReadReply(node, reply.reply, own);
  }

  async put(
    node: NodeId,
    bucket: string,
    key: Uint8Array,
    object: DvvSet,
    options: ReplicaWriteOptions,
  ): Promise<TransportWriteReply> {
    if (node === this.#self) return ownPut(this.#replica, bucket, key, object, options);
    const sent = this.#mangle === undefined ? object : this.#mangle(object);
    const request = {
      bucket,
      key: asBuffer(key),
      object: asBuffer(this.#encode(sent)),
      durable: options.durable,
      // The coordinator's reasons are the enum's names, as gRPC decodes them (enums: String).
      reason: options.reason as ReplicaPutReason__Output,
      hint_for: options.hintFor ?? "",
    };
    const result = await this.#network.call({
      ...this.#route(node, "replica-put", options.deadlineMs),
      idempotent: true,
      lateRefused: true,
      handle: (endpoint) => endpoint.replicaPut(request),
    });
    if (!result.ok) return { ok: false, error: result.error };
    const reply = result.value;
    if (reply.ok) return { ok: true, durable: reply.reply.durable ?? false };
    // As the gRPC transport: a limit refusal, a fallback that declined, or another failure.
    return writeFailure(grpcStatusOf(reply.code), reply.error, request.hint_for !== "");
  }

  /** One write fans the same object out to n-1 peers; it is encoded once, as in production. */
  #encode(object: DvvSet): Uint8Array {
    let bytes = this.#encoded.get(object);
    if (bytes === undefined) {
      bytes = encodeObject(object);
      this.#encoded.set(object, bytes);
    }
    return bytes;
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

const EMPTY = Buffer.alloc(0);

/** The bytes as a Buffer without copying them (gRPC hands handlers Buffers). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
