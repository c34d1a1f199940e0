// The sending end of the batched replica stream: one persistent Replica.Stream per peer carrying
// every get and put this node sends it, batched per event-loop turn (or per linger, when the
// node is told to wait for more), each call with its own id and deadline. A broken stream fails
// its calls as unreachable and is reopened on the next call.
// Calls awaiting replies are bounded in count and bytes per peer, batches in count and bytes,
// and batches wait for the stream to drain, so a slow peer holds back this node's writes.

import * as grpc from "@grpc/grpc-js";
import type { ReplicaClient } from "../proto/generated/dkv/v1/Replica.js";
import type { ReplicaCall } from "../proto/generated/dkv/v1/ReplicaCall.js";
import type { ReplicaCallBatch } from "../proto/generated/dkv/v1/ReplicaCallBatch.js";
import type { ReplicaReplyBatch__Output } from "../proto/generated/dkv/v1/ReplicaReplyBatch.js";
import type { ReplicaCallReply__Output } from "../proto/generated/dkv/v1/ReplicaCallReply.js";
import type { ReplicaGetRequest } from "../proto/generated/dkv/v1/ReplicaGetRequest.js";
import type { ReplicaGetResponse__Output } from "../proto/generated/dkv/v1/ReplicaGetResponse.js";
import type { ReplicaPutRequest } from "../proto/generated/dkv/v1/ReplicaPutRequest.js";
import type { ReplicaPutResponse__Output } from "../proto/generated/dkv/v1/ReplicaPutResponse.js";
import type { Clock } from "./clock.js";
import { CallSlots } from "./call-slots.js";
import { DeadlineTimers, type DeadlineEntry } from "./deadline-timers.js";

/** The outcome of one call on the stream. */
export type StreamOutcome<T> =
  | { readonly ok: true; readonly reply: T }
  | { readonly ok: false; readonly code: grpc.status; readonly message: string };

/** Calls per outgoing message at most. */
const CALLS_PER_BATCH_MAX = 256;
/**
 * Bytes of calls per outgoing message at most (one larger call goes alone): a batch of objects
 * must stay far below the message limit, or one message would fail the whole stream.
 */
export const CALL_BATCH_BYTES_MAX = 4 * 1024 * 1024;
/** Calls awaiting replies per peer at most; beyond it calls fail at once (bounded memory). */
const CALLS_IN_FLIGHT_MAX = 16_384;
/**
 * Request bytes of the calls awaiting replies per peer at most; beyond it calls fail at once
 * with RESOURCE_EXHAUSTED. Twice the receiving stream's own bound (STREAM_BYTES_IN_FLIGHT_MAX),
 * so a peer merging at full speed is never starved by it.
 */
export const CALL_BYTES_IN_FLIGHT_MAX = 128 * 1024 * 1024;

interface Pending {
  readonly resolve: (reply: ReplicaCallReply__Output | StreamOutcome<never>) => void;
  readonly bytes: number;
  /** Its deadline, in #deadlines (set once the call has its id). */
  deadline: DeadlineEntry | undefined;
}

/**
 * Longest linger: waiting on purpose trades each replica call's latency for fewer messages, and
 * past a few milliseconds the wait costs more than any batching gains.
 */
export const REPLICA_LINGER_MS_MAX = 20;

/** Messages and calls sent on every replica stream of this process (one node per process). */
const streamTotals = { messages: 0, calls: 0 };

/** What every replica stream of the process has sent: calls over messages is the batching. */
export function replicaStreamTotals(): Readonly<typeof streamTotals> {
  return streamTotals;
}

/** The batched stream to one peer. */
export class ReplicaStreamClient {
  readonly #client: ReplicaClient;
  readonly #peer: string;
  readonly #clock: Clock;
  #stream: grpc.ClientDuplexStream<ReplicaCallBatch, ReplicaReplyBatch__Output> | undefined;
  #queued: ReplicaCall[] = [];
  #flushScheduled = false;
  readonly #lingerMs: number;
  #cancelLinger: (() => void) | undefined;
  #closed = false;
  /** The stream's buffer is full: batches wait for its 'drain'. */
  #waitingForDrain = false;
  /** The calls awaiting replies, by call id (array slots: see call-slots.ts). */
  readonly #pending = new CallSlots<Pending>(CALLS_IN_FLIGHT_MAX);
  #pendingBytes = 0;
  /** The pending calls' deadlines, on the clock's wall time, under one timer. */
  readonly #deadlines: DeadlineTimers;

  /**
   * @param clock deadlines are its wall-clock times; batches go out on its defer
   * @param lingerMs how long a call waits for others to share its message (REPLICA_LINGER_MS_MAX
   *   at most); 0 sends at the end of the event-loop turn
   */
  constructor(client: ReplicaClient, peer: string, clock: Clock, lingerMs = 0) {
    if (!(lingerMs >= 0 && lingerMs <= REPLICA_LINGER_MS_MAX)) {
      throw new Error(`replica linger ${lingerMs} ms outside 0..${REPLICA_LINGER_MS_MAX}`);
    }
    this.#client = client;
    this.#peer = peer;
    this.#clock = clock;
    this.#lingerMs = lingerMs;
    this.#deadlines = new DeadlineTimers(clock, "wall");
  }

  get(
    request: ReplicaGetRequest,
    deadlineMs: number,
  ): Promise<StreamOutcome<ReplicaGetResponse__Output>> {
    return this.#call({ get: request }, deadlineMs).then(getOutcome);
  }

  put(
    request: ReplicaPutRequest,
    deadlineMs: number,
  ): Promise<StreamOutcome<ReplicaPutResponse__Output>> {
    return this.#call({ put: request }, deadlineMs).then(putOutcome);
  }

  /** Fails every pending call and closes the stream. */
  close(): void {
    this.#closed = true;
    // Nothing queued may go out later, on a stream opened after the close (a pending linger
    // or defer would open one, on a channel that may be shut down by then).
    this.#cancelLinger?.();
    this.#cancelLinger = undefined;
    this.#queued = [];
    this.#failAll(grpc.status.CANCELLED, "replica stream closed");
    this.#stream?.end();
    this.#stream = undefined;
  }

  #call(
    operation: Pick<ReplicaCall, "get" | "put">,
    deadlineMs: number,
  ): Promise<ReplicaCallReply__Output | StreamOutcome<never>> {
    if (this.#closed) {
      return Promise.resolve({
        ok: false,
        code: grpc.status.CANCELLED,
        message: "replica stream closed",
      });
    }
    if (this.#pending.size >= CALLS_IN_FLIGHT_MAX) {
      const message = `${CALLS_IN_FLIGHT_MAX} calls already in flight to ${this.#peer}`;
      return Promise.resolve({ ok: false, code: grpc.status.RESOURCE_EXHAUSTED, message });
    }
    const bytes = callBytesOf(operation);
    if (this.#pendingBytes + bytes > CALL_BYTES_IN_FLIGHT_MAX && this.#pending.size > 0) {
      const message = `${this.#pendingBytes} bytes of calls already in flight to ${this.#peer} (limit ${CALL_BYTES_IN_FLIGHT_MAX})`;
      return Promise.resolve({ ok: false, code: grpc.status.RESOURCE_EXHAUSTED, message });
    }
    return new Promise((resolve) => {
      const pending: Pending = { resolve, bytes, deadline: undefined };
      const id = this.#pending.add(pending);
      pending.deadline = this.#deadlines.add(deadlineMs, () => {
        this.#forget(id);
        resolve({
          ok: false,
          code: grpc.status.DEADLINE_EXCEEDED,
          message: `no reply from ${this.#peer} by the deadline`,
        });
      });
      this.#pendingBytes += bytes;
      // Whole milliseconds, rounded up so the peer never sees an earlier deadline: the fast
      // encoder refuses a fraction (a uint64), and each refusal threw a TypeError and encoded
      // the batch by reflection instead; wall deadlines made from the monotonic clock have one.
      this.#queued.push({ id, deadline_ms: Math.ceil(deadlineMs), ...operation });
      if (this.#lingerMs > 0 && this.#queued.length >= CALLS_PER_BATCH_MAX) {
        this.#flush(); // a full message waits for nothing
      } else if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        if (this.#lingerMs === 0) this.#clock.defer(() => this.#flush());
        else this.#cancelLinger = this.#clock.setTimer(this.#lingerMs, () => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    this.#cancelLinger?.();
    this.#cancelLinger = undefined;
    if (this.#waitingForDrain || this.#closed || this.#queued.length === 0) return;
    const stream = this.#stream ?? this.#open();
    while (this.#queued.length > 0) {
      const count = batchCount(this.#queued);
      const hasRoom = stream.write({ calls: this.#queued.slice(0, count) });
      streamTotals.messages += 1;
      streamTotals.calls += count;
      this.#queued = this.#queued.slice(count);
      if (!hasRoom && this.#queued.length > 0) {
        // Calls past the buffer wait in the queue (bounded by the in-flight bounds) until the
        // peer has taken what was written.
        this.#waitingForDrain = true;
        stream.once("drain", () => {
          if (this.#stream !== stream) return;
          this.#waitingForDrain = false;
          this.#flush();
        });
        return;
      }
    }
  }

  /** Drops a call from the pending ones; true when it was still pending. */
  #forget(id: number): Pending | undefined {
    const pending = this.#pending.take(id);
    if (pending === undefined) return undefined;
    this.#pendingBytes -= pending.bytes;
    return pending;
  }

  #open(): grpc.ClientDuplexStream<ReplicaCallBatch, ReplicaReplyBatch__Output> {
    const stream = this.#client.Stream();
    this.#stream = stream;
    stream.on("data", (batch: ReplicaReplyBatch__Output) => {
      for (const reply of batch.replies) {
        const pending = this.#forget(Number(reply.id));
        if (pending === undefined) continue; // timed out already
        if (pending.deadline !== undefined) this.#deadlines.delete(pending.deadline);
        pending.resolve(reply);
      }
    });
    const broken = (message: string): void => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      this.#waitingForDrain = false;
      // Calls not yet written fail with the rest, so none runs after its caller gave up.
      this.#queued = [];
      this.#failAll(grpc.status.UNAVAILABLE, `replica stream to ${this.#peer} broke: ${message}`);
    };
    stream.on("error", (error: grpc.ServiceError) => broken(error.details || error.message));
    stream.on("end", () => broken("ended by the peer"));
    return stream;
  }

  #failAll(code: grpc.status, message: string): void {
    const pending = this.#pending.takeAll();
    this.#pendingBytes = 0;
    this.#deadlines.clear();
    for (const call of pending) call.resolve({ ok: false, code, message });
  }
}

/** Room a call's framing takes besides its byte fields (ids, deadline, tags, lengths). */
const CALL_OVERHEAD_BYTES = 32;

/** About the encoded size of a call. */
function callBytesOf(operation: Pick<ReplicaCall, "get" | "put">): number {
  const request = operation.get ?? operation.put;
  if (request === undefined || request === null) return CALL_OVERHEAD_BYTES;
  const fields = [request.bucket, request.key, "object" in request ? request.object : undefined];
  if ("digest" in request) fields.push(request.digest);
  let bytes = CALL_OVERHEAD_BYTES;
  for (const field of fields) bytes += field === undefined || field === null ? 0 : field.length;
  return bytes;
}

/** Calls in the next batch: up to CALLS_PER_BATCH_MAX and CALL_BATCH_BYTES_MAX, at least one. */
function batchCount(queued: readonly ReplicaCall[]): number {
  let bytes = 0;
  let count = 0;
  for (const call of queued) {
    const size = callBytesOf(call);
    if (count > 0 && bytes + size > CALL_BATCH_BYTES_MAX) break;
    bytes += size;
    count += 1;
    if (count >= CALLS_PER_BATCH_MAX) break;
  }
  return count;
}

// Module functions, not closures: one call less to allocate per replica call.
function getOutcome(
  reply: ReplicaCallReply__Output | StreamOutcome<never>,
): StreamOutcome<ReplicaGetResponse__Output> {
  return "ok" in reply ? reply : reply.get ? { ok: true, reply: reply.get } : errorOf(reply);
}

function putOutcome(
  reply: ReplicaCallReply__Output | StreamOutcome<never>,
): StreamOutcome<ReplicaPutResponse__Output> {
  return "ok" in reply ? reply : reply.put ? { ok: true, reply: reply.put } : errorOf(reply);
}

function errorOf(reply: ReplicaCallReply__Output): StreamOutcome<never> {
  const code = (reply.error?.code ?? grpc.status.INTERNAL) as grpc.status;
  return { ok: false, code, message: reply.error?.message ?? "reply names no result" };
}
