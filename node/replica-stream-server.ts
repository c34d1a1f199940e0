// The receiving end of the batched replica stream (Replica.Stream): runs every call of a batch
// concurrently against the local replica and sends the replies back batched, one message per
// event-loop turn. Calls already past their deadline are answered DEADLINE_EXCEEDED unrun.
// Calls in flight per stream are bounded in count and bytes: past either, the stream stops
// reading and HTTP/2 flow control holds the sender until replies have been sent.

import * as grpc from "@grpc/grpc-js";
import type { ReplicaCallBatch__Output } from "../proto/generated/dkv/v1/ReplicaCallBatch.js";
import type { ReplicaCall__Output } from "../proto/generated/dkv/v1/ReplicaCall.js";
import type { ReplicaCallReply } from "../proto/generated/dkv/v1/ReplicaCallReply.js";
import type { ReplicaReplyBatch } from "../proto/generated/dkv/v1/ReplicaReplyBatch.js";
import type { ReplicaGetRequest__Output } from "../proto/generated/dkv/v1/ReplicaGetRequest.js";
import type { ReplicaGetResponse } from "../proto/generated/dkv/v1/ReplicaGetResponse.js";
import type { ReplicaPutRequest__Output } from "../proto/generated/dkv/v1/ReplicaPutRequest.js";
import type { ReplicaPutResponse } from "../proto/generated/dkv/v1/ReplicaPutResponse.js";
import { isKvError, type KvError } from "./core/errors.js";
import { grpcStatusOf, toServiceError } from "./wire/grpc-status.js";
import type { ClusterView } from "./cluster-view.js";
import type { Logger } from "./logger.js";
import type { Clock } from "./clock.js";

/** The two replica operations, as the unary handlers and the stream share them. */
export interface ReplicaCalls {
  get(request: ReplicaGetRequest__Output): Promise<ReplicaGetResponse>;
  put(request: ReplicaPutRequest__Output): Promise<ReplicaPutResponse>;
}

/** Replies per outgoing message at most; more wait for the next turn. */
const REPLIES_PER_BATCH_MAX = 512;
/**
 * Bytes of replies per outgoing message at most (one larger reply goes alone): a batch of
 * objects must stay far below the message limit, or one message would fail the whole stream.
 */
export const REPLY_BATCH_BYTES_MAX = 4 * 1024 * 1024;
/** Calls a stream has received and not yet answered on the wire, at most, before it pauses. */
export const STREAM_CALLS_IN_FLIGHT_MAX = 16_384;
/**
 * Bytes of those calls (their requests until answered, then their replies until sent) at most:
 * past it no further call is started and the stream stops reading, so a peer asking for objects
 * faster than it reads them, or sending them faster than they merge, is held by HTTP/2 flow
 * control instead of growing this node. A get's reply size is known only once it ran, so a
 * running get counts as the stream's reply estimate: the largest recent get reply, decaying by
 * 1% per reply towards GET_REPLY_BYTES_ESTIMATE_MIN. A new stream starts from a large estimate
 * (8 gets at once), as a burst of gets for large objects would otherwise all run before the
 * first reply told their size.
 */
export const STREAM_BYTES_IN_FLIGHT_MAX = 64 * 1024 * 1024;
/** The least a running get counts for. */
const GET_REPLY_BYTES_ESTIMATE_MIN = 64 * 1024;
/** What a running get counts for on a new stream. */
const GET_REPLY_BYTES_ESTIMATE_START = 8 * 1024 * 1024;

/** Serves one Replica.Stream call until the peer ends it. */
export function serveReplicaStream(
  call: grpc.ServerDuplexStream<ReplicaCallBatch__Output, ReplicaReplyBatch>,
  served: ReplicaCalls,
  view: ClusterView,
  logger: Logger,
  clock: Clock,
): void {
  let outgoing: ReplicaCallReply[] = [];
  let flushScheduled = false;
  let ended = false;
  const waiting: { item: ReplicaCall__Output; refused: KvError | undefined }[] = [];
  let getEstimate = GET_REPLY_BYTES_ESTIMATE_START;
  let callsInFlight = 0;
  let bytesInFlight = 0;
  let paused = false;
  const full = (): boolean =>
    callsInFlight >= STREAM_CALLS_IN_FLIGHT_MAX || bytesInFlight >= STREAM_BYTES_IN_FLIGHT_MAX;
  const pump = (): void => {
    while (waiting.length > 0 && bytesInFlight < STREAM_BYTES_IN_FLIGHT_MAX && !ended) {
      const next = waiting.shift();
      if (next === undefined) break;
      const { item, refused } = next;
      const requestBytes = requestBytesOf(item);
      if (refused !== undefined) {
        reply(errorReply(item.id, grpcStatusOf(refused.code), refused.message), requestBytes);
        continue;
      }
      // A running get holds its estimate until its reply's real size replaces it.
      const reserved = item.get ? getEstimate : 0;
      bytesInFlight += reserved;
      void runCall(item, served, logger, clock).then((answer) => {
        bytesInFlight -= reserved;
        if (answer.get) {
          getEstimate = Math.max(
            GET_REPLY_BYTES_ESTIMATE_MIN,
            replyBytesOf(answer),
            getEstimate * 0.99,
          );
        }
        reply(answer, requestBytes);
        pump();
      });
    }
    if (paused && !full() && !ended) {
      paused = false;
      call.resume();
    }
  };
  const settle = (calls: number, bytes: number): void => {
    callsInFlight -= calls;
    bytesInFlight -= bytes;
    pump();
  };
  const flush = (): void => {
    flushScheduled = false;
    while (outgoing.length > 0 && !ended) {
      const batch = takeBatch(outgoing);
      outgoing = outgoing.slice(batch.replies.length);
      call.write({ replies: batch.replies }, () => settle(batch.replies.length, batch.bytes));
    }
  };
  const reply = (message: ReplicaCallReply, requestBytes: number): void => {
    // The call's request is done with; its reply is held instead until it is sent.
    bytesInFlight += replyBytesOf(message) - requestBytes;
    outgoing.push(message);
    if (!flushScheduled) {
      flushScheduled = true;
      clock.defer(flush);
    }
  };
  call.on("data", (batch: ReplicaCallBatch__Output) => {
    // The dropped set can change while the stream is open, so every batch is checked.
    const refused = view.refusal(call.metadata);
    for (const item of batch.calls) {
      callsInFlight += 1;
      bytesInFlight += requestBytesOf(item);
      waiting.push({ item, refused });
    }
    pump();
    if (full() && !paused) {
      paused = true;
      call.pause();
    }
  });
  call.on("end", () => {
    ended = true;
    call.end();
  });
  call.on("error", () => {
    ended = true;
  });
  call.on("cancelled", () => {
    ended = true;
  });
}

/** The next batch of replies: up to REPLIES_PER_BATCH_MAX and REPLY_BATCH_BYTES_MAX, at least one. */
function takeBatch(outgoing: readonly ReplicaCallReply[]): {
  replies: ReplicaCallReply[];
  bytes: number;
} {
  const replies: ReplicaCallReply[] = [];
  let bytes = 0;
  for (const message of outgoing) {
    const size = replyBytesOf(message);
    if (replies.length > 0 && bytes + size > REPLY_BATCH_BYTES_MAX) break;
    replies.push(message);
    bytes += size;
    if (replies.length >= REPLIES_PER_BATCH_MAX) break;
  }
  return { replies, bytes };
}

/** Room a call's framing takes besides its byte fields (ids, tags, lengths). */
const ITEM_OVERHEAD_BYTES = 32;

/** About the encoded size of a call: its byte fields and some framing. */
export function requestBytesOf(item: ReplicaCall__Output): number {
  const request = item.get ?? item.put;
  if (request === undefined || request === null) return ITEM_OVERHEAD_BYTES;
  const object = "object" in request ? request.object.length : 0;
  const digest = "digest" in request ? request.digest.length : 0;
  return ITEM_OVERHEAD_BYTES + request.bucket.length + request.key.length + object + digest;
}

/** About the encoded size of a reply. */
export function replyBytesOf(reply: ReplicaCallReply): number {
  return (
    ITEM_OVERHEAD_BYTES + (reply.get?.object?.length ?? 0) + (reply.error?.message?.length ?? 0)
  );
}

async function runCall(
  item: ReplicaCall__Output,
  served: ReplicaCalls,
  logger: Logger,
  clock: Clock,
): Promise<ReplicaCallReply> {
  if (item.deadline_ms > 0 && clock.nowMs() > item.deadline_ms) {
    return errorReply(
      item.id,
      grpc.status.DEADLINE_EXCEEDED,
      "deadline passed before the call ran",
    );
  }
  try {
    if (item.call === "get" && item.get) return { id: item.id, get: await served.get(item.get) };
    if (item.call === "put" && item.put) return { id: item.id, put: await served.put(item.put) };
    return errorReply(item.id, grpc.status.INVALID_ARGUMENT, "replica call names no operation");
  } catch (error) {
    if (isKvError(error)) {
      const failure = toServiceError(error);
      return errorReply(item.id, failure.code ?? grpc.status.INTERNAL, error.message);
    }
    logger.error({ err: error }, "replica stream call failed unexpectedly");
    return errorReply(item.id, grpc.status.INTERNAL, String(error));
  }
}

function errorReply(id: number, code: number, message: string): ReplicaCallReply {
  return { id, error: { code, message } };
}
