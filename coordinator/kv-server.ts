// The public KV service: validates each request at the edge, forwards writes to a primary of
// the key when this node is not one, runs the coordinator, and maps outcomes to gRPC replies.
// Every handler catches everything: nothing a client sends can crash the node.

import * as grpc from "@grpc/grpc-js";
import type { KVHandlers } from "../proto/generated/dkv/v1/KV.js";
import type { PutRequest__Output } from "../proto/generated/dkv/v1/PutRequest.js";
import type { PutResponse } from "../proto/generated/dkv/v1/PutResponse.js";
import type { DeleteRequest__Output } from "../proto/generated/dkv/v1/DeleteRequest.js";
import { KvError, isKvError } from "../node/core/errors.js";
import type { Limits } from "../node/core/limits.js";
import type { NodeId } from "../node/core/node-id.js";
import { contextAdd } from "../node/core/causal-context.js";
import { join, values, liveValues, vtag } from "../node/core/dvv.js";
import { type ContextKeys, encodeKeyContext } from "../node/core/key-context.js";
import { toServiceError, grpcStatusOf } from "../node/wire/grpc-status.js";
import { callBudgetOf } from "../node/wire/call-budget.js";
import type { ClusterView } from "../node/cluster-view.js";
import type { Logger } from "../node/logger.js";
import { LogThrottle } from "../node/metrics/log-throttle.js";
import { isLimitRefusal } from "../node/core/object-limit.js";
import type { BucketDefaults } from "./core/quorum-options.js";
import type { Coordinator } from "./coordinator.js";
import type { KvObserver } from "../node/metrics/kv-metrics.js";
import {
  outcomeOfError,
  type KvOperation,
  type RequestOutcome,
} from "../node/metrics/request-outcome.js";
import {
  checkBucketAndKey,
  checkQuorum,
  deadlineOf,
  deleteCommandOf,
  putCommandOf,
  toWireSibling,
} from "./request-decode.js";

/** Metadata set on a request forwarded to a primary, so it is never forwarded again. */
export const FORWARDED_HEADER = "dkv-forwarded-by";
/** Metadata set on every error dkv itself produces, to tell it from a transport failure. */
export const ORIGIN_HEADER = "dkv-error-origin";
/** Set on an error raised before anything was stored: the write may be sent elsewhere. */
export const NOT_APPLIED_HEADER = "dkv-not-applied";

/** What the KV handlers need. */
export interface KvServerDeps {
  readonly coordinator: Coordinator;
  readonly view: ClusterView;
  readonly limits: Limits;
  readonly bucket: BucketDefaults;
  readonly logger: Logger;
  /**
   * The cluster keys contexts are sealed with (read on every request, so a reload takes effect
   * at once); undefined on an --insecure node, whose contexts are unsealed.
   */
  readonly contextKeys: () => ContextKeys | undefined;
  readonly now?: () => number;
  /** Told about every request (metrics, recent latency); nothing is logged per request. */
  readonly observer?: KvObserver;
}

/** One unexpected-error line (with its stack) per window; the rest are counted in the next. */
const UNEXPECTED_ERROR_LOG_WINDOW_MS = 10_000;

/** Builds the KV service handlers. */
export function kvHandlers(deps: KvServerDeps): KVHandlers {
  const now = deps.now ?? Date.now;
  let inFlight = 0;
  const unexpectedErrors = new LogThrottle(UNEXPECTED_ERROR_LOG_WINDOW_MS);

  /**
   * Runs one request under the in-flight bound, maps every failure to a status and tells the
   * observer how it ended (`outcomeOf` tells a found reply from a not-found one).
   */
  function serve<Reply>(
    op: KvOperation,
    call: grpc.ServerUnaryCall<unknown, Reply>,
    callback: grpc.sendUnaryData<Reply>,
    outcomeOf: (reply: Reply) => RequestOutcome,
    work: () => Promise<Reply>,
  ): void {
    const observer = deps.observer;
    const startedMs = observer === undefined ? 0 : performance.now();
    if (inFlight >= deps.limits.requestsInFlightMax) {
      const message = `overloaded: ${inFlight} requests in flight (limit ${deps.limits.requestsInFlightMax})`;
      observer?.shed(inFlight, deps.limits.requestsInFlightMax);
      observer?.request(op, "overloaded", performance.now() - startedMs);
      callback(errorReply(new KvError("overloaded", message), deps.view.self));
      return;
    }
    inFlight += 1;
    let run: Promise<Reply>;
    try {
      run = work();
    } catch (error) {
      run = Promise.reject(error);
    }
    run
      .then(
        (reply) => {
          observer?.request(op, outcomeOf(reply), performance.now() - startedMs);
          callback(null, reply);
        },
        (error: unknown) => {
          observer?.request(op, outcomeOfError(error), performance.now() - startedMs);
          callback(toReplyError(error, deps, unexpectedErrors));
        },
      )
      .finally(() => {
        inFlight -= 1;
      });
    void call;
  }

  return {
    Get(call, callback) {
      serve("get", call, callback, foundOrNot, async () => {
        const request = call.request;
        const bucket = checkBucketAndKey(request.bucket, request.key, deps.limits);
        const quorum = checkQuorum(request.options, deps.bucket);
        const deadlineMs = deadlineOf(call.getDeadline(), now(), deps.limits);
        const sloppy = !(request.options?.strict_quorum ?? false);
        const key = request.key;
        const budget = callBudgetOf(call.metadata);
        const holdBytes = budget === undefined ? {} : { holdBytes: budget.hold };
        const command = { bucket, key, quorum, deadlineMs, sloppy, ...holdBytes };
        const object = await deps.coordinator.get(command);
        if (object === undefined) return { siblings: [], context: Buffer.alloc(0) };
        deps.observer?.object("get", object);
        const live = liveValues(object).length > 0;
        return {
          siblings: live ? values(object).map(toWireSibling) : [],
          context: encodeKeyContext(bucket, request.key, join(object), deps.contextKeys()),
        };
      });
    },
    Put(call, callback) {
      serve("put", call, callback, answered, async () => {
        const request = call.request;
        const forwarded = await maybeForward(deps, call, "Put", request);
        if (forwarded !== undefined) return forwarded as PutResponse;
        const nowMs = now();
        const deadlineMs = deadlineOf(call.getDeadline(), nowMs, deps.limits);
        const limits = deps.limits;
        const contextKeys = deps.contextKeys();
        const command = putCommandOf(request, {
          limits,
          bucket: deps.bucket,
          nowMs,
          deadlineMs,
          contextKeys,
        });
        const outcome = await deps.coordinator.put(command);
        deps.observer?.object("put", outcome.object);
        if (!request.return_body) {
          return {
            context: encodeKeyContext(
              command.bucket,
              command.key,
              contextAdd(command.context, outcome.dot),
              contextKeys,
            ),
            siblings: [],
            vtag: vtag(outcome.dot),
          };
        }
        return {
          context: encodeKeyContext(command.bucket, command.key, join(outcome.object), contextKeys),
          siblings: values(outcome.object).map(toWireSibling),
          vtag: vtag(outcome.dot),
        };
      });
    },
    Delete(call, callback) {
      serve("delete", call, callback, answered, async () => {
        const request = call.request;
        checkBucketAndKey(request.bucket, request.key, deps.limits);
        if (request.context.length === 0) {
          throw new KvError(
            "invalid-argument",
            "context is required to delete: pass the context of a get of the key",
          );
        }
        const forwarded = await maybeForward(deps, call, "Delete", request);
        if (forwarded !== undefined) return {};
        const nowMs = now();
        const deadlineMs = deadlineOf(call.getDeadline(), nowMs, deps.limits);
        const limits = deps.limits;
        const command = deleteCommandOf(request, {
          limits,
          bucket: deps.bucket,
          nowMs,
          deadlineMs,
          contextKeys: deps.contextKeys(),
        });
        await deps.coordinator.put(command);
        return {};
      });
    },
  };
}

/** The outcome of an answered put or delete. */
function answered(): RequestOutcome {
  return "ok";
}

/** A get that found no live value answers with no siblings: not found. */
function foundOrNot(reply: { readonly siblings?: readonly unknown[] }): RequestOutcome {
  return (reply.siblings?.length ?? 0) === 0 ? "not_found" : "ok";
}

/**
 * How long a forwarded write waits for a primary before trying the next one (or coordinating
 * here), when another candidate remains: a paused or stalled primary must not hold a write
 * until its deadline while the failure detector is still making up its mind (~3 s).
 */
export const FORWARD_PATIENCE_MS = 1500;

/**
 * A write is coordinated by a primary of its key (DESIGN section 4). When this node is not one,
 * pass the request to the primaries in preference order. It moves on when a primary cannot be
 * reached, refuses before storing anything (NOT_APPLIED_HEADER), or gives no answer within FORWARD_PATIENCE_MS (at most half the time left) while
 * another candidate remains; never after a primary answered with an error of its own. A primary
 * that was only slow may still apply the write later: like a client's retry, the write is then
 * stored twice, as two siblings with the same value, never lost.
 * Resolves undefined when this node should coordinate.
 */
async function maybeForward(
  deps: KvServerDeps,
  call: grpc.ServerUnaryCall<PutRequest__Output | DeleteRequest__Output, unknown>,
  method: "Put" | "Delete",
  request: PutRequest__Output | DeleteRequest__Output,
): Promise<unknown> {
  if (call.metadata.get(FORWARDED_HEADER).length > 0) {
    const refused = deps.view.refusal(call.metadata);
    if (refused !== undefined) throw refused;
    return undefined;
  }
  const bucket = checkBucketAndKey(request.bucket, request.key, deps.limits);
  const quorum = checkQuorum(request.options, deps.bucket);
  const sloppy = !(request.options?.strict_quorum ?? false);
  const { forward, selfMay } = deps.coordinator.forwardTargets(
    bucket,
    request.key,
    quorum.n,
    sloppy,
  );
  if (forward.length === 0 && selfMay) return undefined;
  const deadlineMs = deadlineOf(call.getDeadline(), (deps.now ?? Date.now)(), deps.limits);
  const reasons: string[] = [];
  const clock = deps.now ?? Date.now;
  for (const [index, node] of forward.entries()) {
    const anotherLeft = index < forward.length - 1 || selfMay;
    const nowMs = clock();
    const patienceMs = Math.min(FORWARD_PATIENCE_MS, (deadlineMs - nowMs) / 2);
    const attemptDeadlineMs = anotherLeft ? Math.min(deadlineMs, nowMs + patienceMs) : deadlineMs;
    const result = await forwardTo(deps, node, method, request, attemptDeadlineMs);
    if (result.ok) return result.reply;
    const gaveUp =
      attemptDeadlineMs < deadlineMs && result.error.code === grpc.status.DEADLINE_EXCEEDED;
    // A primary that refused before storing anything (it sees too few replicas up, e.g. just
    // after a partition healed and before its pings answered) leaves the write to the next.
    // A write over the object or sibling limit was refused and retracted there; the next
    // primary holds the same siblings and would refuse it too.
    const notApplied =
      (result.error.metadata?.get(NOT_APPLIED_HEADER).length ?? 0) > 0 &&
      !isLimitRefusal(result.error.details ?? "");
    if (result.answered && !gaveUp && !notApplied) throw result.error;
    const reason = gaveUp
      ? `no answer within ${Math.round(attemptDeadlineMs - nowMs)} ms`
      : result.error.details || result.error.message;
    reasons.push(`${node}: ${reason}`);
  }
  // No primary answered; a node in the preference list (a live fallback) may coordinate.
  if (selfMay) return undefined;
  const tried = reasons.length === 0 ? "none is up" : reasons.join("; ");
  throw new KvError(
    "unavailable",
    `no replica of the key reachable to coordinate the write (${tried})`,
  );
}

type ForwardResult =
  | { readonly ok: true; readonly reply: unknown }
  | { readonly ok: false; readonly answered: boolean; readonly error: grpc.ServiceError };

function forwardTo(
  deps: KvServerDeps,
  node: NodeId,
  method: "Put" | "Delete",
  request: PutRequest__Output | DeleteRequest__Output,
  deadlineMs: number,
): Promise<ForwardResult> {
  const peer = deps.view.peer(node);
  const metadata = new grpc.Metadata();
  metadata.set(FORWARDED_HEADER, deps.view.self);
  return new Promise((resolve) => {
    if (peer === undefined) {
      const reason = deps.view.unreachableReason(node);
      const error = Object.assign(new Error(reason), {
        code: grpc.status.UNAVAILABLE,
        details: reason,
        metadata: new grpc.Metadata(),
      });
      resolve({ ok: false, answered: false, error });
      return;
    }
    const done = (error: grpc.ServiceError | null, reply: unknown): void => {
      if (error === null) resolve({ ok: true, reply });
      else resolve({ ok: false, answered: wasAnswered(error), error });
    };
    const options = { deadline: deadlineMs };
    if (method === "Put") peer.kv.Put(request as PutRequest__Output, metadata, options, done);
    else peer.kv.Delete(request as DeleteRequest__Output, metadata, options, done);
  });
}

/**
 * True when the peer itself produced the error, or when it may have acted on the request
 * (a deadline). Only a plain transport UNAVAILABLE proves the peer never saw the request.
 */
function wasAnswered(error: grpc.ServiceError): boolean {
  if (error.metadata !== undefined && error.metadata.get(ORIGIN_HEADER).length > 0) return true;
  return error.code !== grpc.status.UNAVAILABLE;
}

/**
 * Any failure as a gRPC error; errors from a forwarded call pass through unchanged. Errors of the
 * request (KvError) are the client's and are not logged; an unexpected one is a bug, logged with
 * its stack, but through `throttle`, since a client may be able to trigger it at will.
 */
function toReplyError(
  error: unknown,
  deps: KvServerDeps,
  throttle: LogThrottle,
): Partial<grpc.ServiceError> {
  if (isKvError(error)) return errorReply(error, deps.view.self);
  if (isServiceError(error)) {
    return { code: error.code, details: error.details, metadata: error.metadata };
  }
  const decision = throttle.admit((deps.now ?? Date.now)());
  if (decision.log) {
    deps.logger.error(
      { err: error, suppressedBefore: decision.suppressed },
      "request failed unexpectedly",
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return errorReply(new KvError("internal", `internal error: ${message}`), deps.view.self);
}

function errorReply(error: KvError, self: NodeId): Partial<grpc.ServiceError> {
  const metadata = new grpc.Metadata();
  metadata.set(ORIGIN_HEADER, self);
  if (error.notApplied) metadata.set(NOT_APPLIED_HEADER, "1");
  return { ...toServiceError(error), code: grpcStatusOf(error.code), metadata };
}

function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as Partial<grpc.ServiceError>).code === "number";
}
