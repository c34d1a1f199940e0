// The port through which a coordinator reaches replicas: the local Replica directly, peers over
// gRPC. Replies are values, never rejections, so the quorum machines see every outcome. The
// deterministic simulation (issue #6) plugs a simulated network in here.

import { status } from "@grpc/grpc-js";
import type { ReplicaPutReason } from "../proto/generated/dkv/v1/ReplicaPutReason.js";
import type { NodeId } from "../node/core/node-id.js";
import type { DvvSet } from "../node/core/dvv.js";
import { encodeObjectShared } from "../node/core/object-codec.js";
import { decodeObject } from "../node/core/object-decode.js";
import { isLimitRefusal } from "../node/core/object-limit.js";
import type { Replica } from "../node/replica.js";
import type { ClusterView } from "../node/cluster-view.js";
import { SYSTEM_CLOCK, type Clock } from "../node/clock.js";
import { ReplicaStreamClient, type StreamOutcome } from "../node/replica-stream-client.js";
import type { ReplicaPutResponse__Output } from "../proto/generated/dkv/v1/ReplicaPutResponse.js";
import type { ReadReply } from "./core/get-quorum.js";
import type { WriteReply } from "./core/put-quorum.js";

/** Options of a replica write. */
export interface ReplicaWriteOptions {
  readonly durable: boolean;
  readonly reason: ReplicaPutReason;
  readonly deadlineMs: number;
  /** The primary a fallback target stands in for (sloppy quorum); "" for a primary. */
  readonly hintFor?: string;
}

/**
 * A write reply, where a refusal may say that a fallback declined to stand in (its hint store
 * for that primary is full), so the coordinator moves on to the next fallback.
 */
export type TransportWriteReply =
  WriteReply | { readonly ok: false; readonly error: string; readonly declined: true };

/**
 * The coordinator's own copy of a key with its version digest, for a digest read: a replica
 * whose copy has the same digest answers "same", and the reply carries `object`.
 */
export interface OwnCopy {
  readonly object: DvvSet;
  readonly digest: Uint8Array;
}

/** Reaches the replicas of a key, wherever they are. */
export interface ReplicaTransport {
  /**
   * A replica's copy of the key. With `own`, a digest read: a transport may send only the
   * digest and answer with `own.object` when the replica's copy has the same digest.
   */
  get(
    node: NodeId,
    bucket: string,
    key: Uint8Array,
    deadlineMs: number,
    own?: OwnCopy,
  ): Promise<ReadReply<DvvSet>>;
  put(
    node: NodeId,
    bucket: string,
    key: Uint8Array,
    object: DvvSet,
    options: ReplicaWriteOptions,
  ): Promise<TransportWriteReply>;
}

/** The production transport: local calls for this node, gRPC for the others. */
export class GrpcReplicaTransport implements ReplicaTransport {
  readonly #view: ClusterView;
  readonly #replica: Replica;
  readonly #streams = new Map<NodeId, ReplicaStreamClient>();
  readonly #clock: Clock;
  readonly #lingerMs: number;

  /**
   * @param clock times the replica calls' deadlines (default: the system clock)
   * @param lingerMs how long each peer's stream waits to put more calls in one message
   */
  constructor(view: ClusterView, replica: Replica, clock: Clock = SYSTEM_CLOCK, lingerMs = 0) {
    this.#view = view;
    this.#replica = replica;
    this.#clock = clock;
    this.#lingerMs = lingerMs;
  }

  async get(
    node: NodeId,
    bucket: string,
    key: Uint8Array,
    deadlineMs: number,
    own?: OwnCopy,
  ): Promise<ReadReply<DvvSet>> {
    if (node === this.#view.self) return ownGet(this.#replica, bucket, key);
    const stream = this.#stream(node);
    if (stream === undefined) return { ok: false, error: this.#view.unreachableReason(node) };
    const request = own === undefined ? { bucket, key } : { bucket, key, digest: own.digest };
    const outcome = await stream.get(request, deadlineMs);
    if (!outcome.ok) return { ok: false, error: outcome.message };
    return peerReadReply(node, outcome.reply, own);
  }

  put(
    node: NodeId,
    bucket: string,
    key: Uint8Array,
    object: DvvSet,
    options: ReplicaWriteOptions,
  ): Promise<TransportWriteReply> {
    if (node === this.#view.self) return ownPut(this.#replica, bucket, key, object, options);
    const stream = this.#stream(node);
    if (stream === undefined) {
      return Promise.resolve({ ok: false, error: this.#view.unreachableReason(node) });
    }
    const hintFor = options.hintFor ?? "";
    const request = {
      bucket,
      key,
      // One write fans the same object out to n - 1 peers, and the coordinator stored it
      // encoded the same way (Replica.coordinate): encoded once for all.
      object: encodeObjectShared(object),
      durable: options.durable,
      reason: options.reason,
      hint_for: hintFor,
    };
    // Not an async function: one promise per replica call instead of three.
    return stream
      .put(request, options.deadlineMs)
      .then(hintFor === "" ? primaryWriteReply : fallbackWriteReply);
  }

  /** The batched stream to a peer; undefined when the peer cannot be called. */
  #stream(node: NodeId): ReplicaStreamClient | undefined {
    const peer = this.#view.peer(node);
    if (peer === undefined) return undefined;
    let stream = this.#streams.get(node);
    if (stream === undefined) {
      stream = new ReplicaStreamClient(peer.replica, node, this.#clock, this.#lingerMs);
      this.#streams.set(node, stream);
    }
    return stream;
  }

  /** Closes every replica stream. */
  close(): void {
    for (const stream of this.#streams.values()) stream.close();
    this.#streams.clear();
  }
}

/** A stream put's outcome as a write reply; `toFallback`: see writeFailure. */
function writeReplyOf(
  outcome: StreamOutcome<ReplicaPutResponse__Output>,
  toFallback: boolean,
): TransportWriteReply {
  return outcome.ok
    ? { ok: true, durable: outcome.reply.durable }
    : writeFailure(outcome.code, outcome.message, toFallback);
}

// Made once, not a closure per call.
const primaryWriteReply = (outcome: StreamOutcome<ReplicaPutResponse__Output>) =>
  writeReplyOf(outcome, false);
const fallbackWriteReply = (outcome: StreamOutcome<ReplicaPutResponse__Output>) =>
  writeReplyOf(outcome, true);

/**
 * A replica's refusal of a write as the coordinator needs to see it. A limit refusal
 * (RESOURCE_EXHAUSTED with the message of node/core/object-limit.ts limitRefusal) is
 * `overLimit`: the replica stored nothing, and no other fallback may take the write in its
 * place. Any other RESOURCE_EXHAUSTED from a fallback is a decline (its hint store for the
 * primary is full), and the coordinator tries the next fallback.
 */
export function writeFailure(
  code: status,
  message: string,
  toFallback: boolean,
): TransportWriteReply {
  if (code === status.RESOURCE_EXHAUSTED && isLimitRefusal(message)) {
    return { ok: false, error: message, overLimit: true };
  }
  if (toFallback && code === status.RESOURCE_EXHAUSTED) {
    return { ok: false, error: message, declined: true };
  }
  return { ok: false, error: message };
}

/** This node's own copy, read locally (no transport), as a read reply. */
export async function ownGet(
  replica: Replica,
  bucket: string,
  key: Uint8Array,
): Promise<ReadReply<DvvSet>> {
  try {
    return { ok: true, object: await replica.get(bucket, key) };
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
}

/** A write to this node's own replica (no transport), as a write reply. */
export async function ownPut(
  replica: Replica,
  bucket: string,
  key: Uint8Array,
  object: DvvSet,
  options: ReplicaWriteOptions,
): Promise<TransportWriteReply> {
  try {
    const result = await replica.merge(bucket, key, object, options);
    return { ok: true, durable: result.durable };
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
}

/** A peer's Replica.Get reply as a read reply: its object decoded, or the digest's "same". */
export function peerReadReply(
  node: NodeId,
  reply: { readonly found?: boolean; readonly same?: boolean; readonly object?: Uint8Array },
  own: OwnCopy | undefined,
): ReadReply<DvvSet> {
  if (reply.same === true) return sameAsOwn(node, own);
  if (reply.found !== true || reply.object === undefined) return { ok: true, object: undefined };
  const decoded = decodeObject(reply.object);
  return decoded.ok
    ? { ok: true, object: decoded.object }
    : { ok: false, error: `${node} sent a malformed object: ${decoded.reason}` };
}

/** A replica's "same" answer to a digest read: it holds the coordinator's own copy. */
export function sameAsOwn(node: NodeId, own: OwnCopy | undefined): ReadReply<DvvSet> {
  return own === undefined
    ? { ok: false, error: `${node} answered "same" to a get without a digest` }
    : { ok: true, object: own.object };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
