// The sending end of the batched replica stream: one persistent Replica.Stream per peer carrying
// every get and put this node sends it, batched per event-loop turn, each call with its own id
// and deadline. A broken stream fails its calls as unreachable and is reopened on the next call.

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

/** The outcome of one call on the stream. */
export type StreamOutcome<T> =
  | { readonly ok: true; readonly reply: T }
  | { readonly ok: false; readonly code: grpc.status; readonly message: string };

/** Calls per outgoing message at most. */
const CALLS_PER_BATCH_MAX = 256;
/** Calls awaiting replies per peer at most; beyond it calls fail at once (bounded memory). */
const CALLS_IN_FLIGHT_MAX = 16_384;

interface Pending {
  readonly resolve: (reply: ReplicaCallReply__Output | StreamOutcome<never>) => void;
  readonly cancelTimer: () => void;
}

/** The batched stream to one peer. */
export class ReplicaStreamClient {
  readonly #client: ReplicaClient;
  readonly #peer: string;
  #stream: grpc.ClientDuplexStream<ReplicaCallBatch, ReplicaReplyBatch__Output> | undefined;
  #queued: ReplicaCall[] = [];
  #flushScheduled = false;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(client: ReplicaClient, peer: string) {
    this.#client = client;
    this.#peer = peer;
  }

  get(
    request: ReplicaGetRequest,
    deadlineMs: number,
  ): Promise<StreamOutcome<ReplicaGetResponse__Output>> {
    return this.#call({ get: request }, deadlineMs).then((reply) =>
      "ok" in reply ? reply : reply.get ? { ok: true, reply: reply.get } : errorOf(reply),
    );
  }

  put(
    request: ReplicaPutRequest,
    deadlineMs: number,
  ): Promise<StreamOutcome<ReplicaPutResponse__Output>> {
    return this.#call({ put: request }, deadlineMs).then((reply) =>
      "ok" in reply ? reply : reply.put ? { ok: true, reply: reply.put } : errorOf(reply),
    );
  }

  /** Fails every pending call and closes the stream. */
  close(): void {
    this.#failAll(grpc.status.CANCELLED, "replica stream closed");
    this.#stream?.end();
    this.#stream = undefined;
  }

  #call(
    operation: Pick<ReplicaCall, "get" | "put">,
    deadlineMs: number,
  ): Promise<ReplicaCallReply__Output | StreamOutcome<never>> {
    if (this.#pending.size >= CALLS_IN_FLIGHT_MAX) {
      const message = `${CALLS_IN_FLIGHT_MAX} calls already in flight to ${this.#peer}`;
      return Promise.resolve({ ok: false, code: grpc.status.RESOURCE_EXHAUSTED, message });
    }
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.#pending.delete(id);
          resolve({
            ok: false,
            code: grpc.status.DEADLINE_EXCEEDED,
            message: `no reply from ${this.#peer} by the deadline`,
          });
        },
        Math.max(0, deadlineMs - Date.now()),
      );
      this.#pending.set(id, { resolve, cancelTimer: () => clearTimeout(timer) });
      this.#queued.push({ id, deadline_ms: deadlineMs, ...operation });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const stream = this.#stream ?? this.#open();
    while (this.#queued.length > 0) {
      stream.write({ calls: this.#queued.slice(0, CALLS_PER_BATCH_MAX) });
      this.#queued = this.#queued.slice(CALLS_PER_BATCH_MAX);
    }
  }

  #open(): grpc.ClientDuplexStream<ReplicaCallBatch, ReplicaReplyBatch__Output> {
    const stream = this.#client.Stream();
    this.#stream = stream;
    stream.on("data", (batch: ReplicaReplyBatch__Output) => {
      for (const reply of batch.replies) {
        const pending = this.#pending.get(Number(reply.id));
        if (pending === undefined) continue; // timed out already
        this.#pending.delete(Number(reply.id));
        pending.cancelTimer();
        pending.resolve(reply);
      }
    });
    const broken = (message: string): void => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      // Calls not yet written fail with the rest, so none runs after its caller gave up.
      this.#queued = [];
      this.#failAll(grpc.status.UNAVAILABLE, `replica stream to ${this.#peer} broke: ${message}`);
    };
    stream.on("error", (error: grpc.ServiceError) => broken(error.details || error.message));
    stream.on("end", () => broken("ended by the peer"));
    return stream;
  }

  #failAll(code: grpc.status, message: string): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of pending) {
      call.cancelTimer();
      call.resolve({ ok: false, code, message });
    }
  }
}

function errorOf(reply: ReplicaCallReply__Output): StreamOutcome<never> {
  const code = (reply.error?.code ?? grpc.status.INTERNAL) as grpc.status;
  return { ok: false, code, message: reply.error?.message ?? "reply names no result" };
}
