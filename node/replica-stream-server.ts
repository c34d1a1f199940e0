// The receiving end of the batched replica stream (Replica.Stream): runs every call of a batch
// concurrently against the local replica and sends the replies back batched, one message per
// event-loop turn. Calls already past their deadline are answered DEADLINE_EXCEEDED unrun.

import * as grpc from "@grpc/grpc-js";
import type { ReplicaCallBatch__Output } from "../proto/generated/dkv/v1/ReplicaCallBatch.js";
import type { ReplicaCall__Output } from "../proto/generated/dkv/v1/ReplicaCall.js";
import type { ReplicaCallReply } from "../proto/generated/dkv/v1/ReplicaCallReply.js";
import type { ReplicaReplyBatch } from "../proto/generated/dkv/v1/ReplicaReplyBatch.js";
import type { ReplicaGetRequest__Output } from "../proto/generated/dkv/v1/ReplicaGetRequest.js";
import type { ReplicaGetResponse } from "../proto/generated/dkv/v1/ReplicaGetResponse.js";
import type { ReplicaPutRequest__Output } from "../proto/generated/dkv/v1/ReplicaPutRequest.js";
import type { ReplicaPutResponse } from "../proto/generated/dkv/v1/ReplicaPutResponse.js";
import { isKvError } from "./core/errors.js";
import { grpcStatusOf, toServiceError } from "./wire/grpc-status.js";
import type { ClusterView } from "./cluster-view.js";
import type { Logger } from "./logger.js";

/** The two replica operations, as the unary handlers and the stream share them. */
export interface ReplicaCalls {
  get(request: ReplicaGetRequest__Output): Promise<ReplicaGetResponse>;
  put(request: ReplicaPutRequest__Output): Promise<ReplicaPutResponse>;
}

/** Replies per outgoing message at most; more wait for the next turn. */
const REPLIES_PER_BATCH_MAX = 512;

/** Serves one Replica.Stream call until the peer ends it. */
export function serveReplicaStream(
  call: grpc.ServerDuplexStream<ReplicaCallBatch__Output, ReplicaReplyBatch>,
  served: ReplicaCalls,
  view: ClusterView,
  logger: Logger,
): void {
  let outgoing: ReplicaCallReply[] = [];
  let flushScheduled = false;
  let ended = false;
  const flush = (): void => {
    flushScheduled = false;
    while (outgoing.length > 0 && !ended) {
      call.write({ replies: outgoing.slice(0, REPLIES_PER_BATCH_MAX) });
      outgoing = outgoing.slice(REPLIES_PER_BATCH_MAX);
    }
  };
  const reply = (message: ReplicaCallReply): void => {
    outgoing.push(message);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };
  call.on("data", (batch: ReplicaCallBatch__Output) => {
    // The dropped set can change while the stream is open, so every batch is checked.
    const refused = view.refusal(call.metadata);
    for (const item of batch.calls) {
      if (refused !== undefined) {
        reply(errorReply(item.id, grpcStatusOf(refused.code), refused.message));
      } else {
        runCall(item, served, logger).then(reply);
      }
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

async function runCall(
  item: ReplicaCall__Output,
  served: ReplicaCalls,
  logger: Logger,
): Promise<ReplicaCallReply> {
  if (item.deadline_ms > 0 && Date.now() > item.deadline_ms) {
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
