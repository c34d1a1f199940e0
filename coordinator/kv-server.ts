// The gRPC adapter of the public KV service (coordinator/kv-service.ts): takes each call's
// deadline and metadata, runs the service, and maps its answer to a reply or a gRPC status with
// dkv's error metadata. GrpcForwardPort passes writes on to peers over their KV clients.

import * as grpc from "@grpc/grpc-js";
import type { KVClient, KVHandlers } from "../proto/generated/dkv/v1/KV.js";
import type { PutRequest__Output } from "../proto/generated/dkv/v1/PutRequest.js";
import type { DeleteRequest__Output } from "../proto/generated/dkv/v1/DeleteRequest.js";
import { KvError, isKvError } from "../node/core/errors.js";
import type { Limits } from "../node/core/limits.js";
import type { NodeId } from "../node/core/node-id.js";
import type { ContextKeys } from "../node/core/key-context.js";
import { toServiceError, grpcStatusOf } from "../node/wire/grpc-status.js";
import { callBudgetOf } from "../node/wire/call-budget.js";
import { SYSTEM_CLOCK, type Clock } from "../node/clock.js";
import type { ClusterView } from "../node/cluster-view.js";
import type { Logger } from "../node/logger.js";
import type { KvObserver } from "../node/metrics/kv-metrics.js";
import type { BucketDefaults } from "./core/quorum-options.js";
import type { ForwardFailure } from "./core/forward-policy.js";
import type { Coordinator } from "./coordinator.js";
import {
  KvService,
  PeerError,
  type DeleteReply,
  type ForwardPort,
  type ForwardResult,
  type KvCall,
  type PutReply,
} from "./kv-service.js";
import type { ItemResult } from "./kv-batch.js";
import type { ItemStatus } from "../proto/generated/dkv/v1/ItemStatus.js";
import type { SessionRequest__Output } from "../proto/generated/dkv/v1/SessionRequest.js";
import type { SessionResponse } from "../proto/generated/dkv/v1/SessionResponse.js";
import { KvSession } from "./kv-session.js";

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
  /** Time and timers; the system clock unless a test supplies one. */
  readonly clock?: Clock;
  /** Told about every request (metrics, recent latency); nothing is logged per request. */
  readonly observer?: KvObserver;
}

/** Builds the KV service handlers over a KvService that forwards through the peers' clients. */
export function kvHandlers(deps: KvServerDeps): KVHandlers {
  const { view } = deps;
  const clock = deps.clock ?? SYSTEM_CLOCK;
  const service = new KvService({
    coordinator: deps.coordinator,
    self: view.self,
    limits: deps.limits,
    bucket: deps.bucket,
    logger: deps.logger,
    clock,
    forward: new GrpcForwardPort(view),
    contextKeys: deps.contextKeys,
    ...(deps.observer === undefined ? {} : { observer: deps.observer }),
  });

  /** Answers `callback` with what `run` settles to; a refused peer's write never runs. */
  function answer<Reply>(
    call: grpc.ServerUnaryCall<unknown, Reply>,
    callback: grpc.sendUnaryData<Reply>,
    run: (kvCall: KvCall) => Promise<Reply>,
  ): void {
    const kvCall = callOf(call, view);
    if (kvCall instanceof KvError) {
      callback(errorReply(kvCall, view.self));
      return;
    }
    run(kvCall).then(
      (reply) => callback(null, reply),
      (error: unknown) => callback(replyError(error, view.self)),
    );
  }

  return {
    Get(call, callback) {
      answer(call, callback, (kvCall) => service.get(call.request, kvCall));
    },
    Put(call, callback) {
      answer(call, callback, (kvCall) => service.put(call.request, kvCall));
    },
    Delete(call, callback) {
      answer(call, callback, (kvCall) => service.delete(call.request, kvCall));
    },
    BatchGet(call, callback) {
      answer(call, callback, async (kvCall) => ({
        results: itemResults(await service.batchGet(call.request.items, kvCall), view.self),
      }));
    },
    BatchPut(call, callback) {
      answer(call, callback, async (kvCall) => ({
        results: itemResults(await service.batchPut(call.request.items, kvCall), view.self),
      }));
    },
    Session(call) {
      serveSession(call, service, deps.limits, clock, view.self);
    },
  };
}

/**
 * Serves one KV.Session stream until the client ends it (kv-session.ts). Its response headers
 * go out at once: a client that saw them knows the session reached this node's handler.
 */
function serveSession(
  call: grpc.ServerDuplexStream<SessionRequest__Output, SessionResponse>,
  service: KvService,
  limits: Limits,
  clock: Clock,
  self: NodeId,
): void {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const session = new KvSession({
    service,
    limits,
    clock,
    statusOf: (error) => itemStatusOf(error, self),
    port: {
      send: (results, sent) => call.write({ results }, sent),
      pause: () => call.pause(),
      resume: () => call.resume(),
      end: () => call.end(),
      budget: callBudgetOf(call.metadata),
      deadlineMs,
    },
  });
  call.sendMetadata(new grpc.Metadata());
  call.on("data", (message: SessionRequest__Output) => session.receive(message.items));
  call.on("end", () => session.end());
  call.on("error", () => session.close());
  call.on("cancelled", () => session.close());
}

/**
 * The service's view of a call: its deadline, whether a peer forwarded it, and its admission
 * budget; or the refusal of a write forwarded by a peer whose traffic is dropped.
 */
function callOf(call: grpc.ServerUnaryCall<unknown, unknown>, view: ClusterView): KvCall | KvError {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const forwarded = call.metadata.get(FORWARDED_HEADER).length > 0;
  if (forwarded) {
    const refused = view.refusal(call.metadata);
    if (refused !== undefined) return refused;
  }
  const budget = callBudgetOf(call.metadata);
  return budget === undefined
    ? { deadlineMs, forwarded }
    : { deadlineMs, forwarded, holdBytes: (bytes: number) => budget.hold(bytes) };
}

/** Forwards writes to peers over their KV clients, with FORWARDED_HEADER set. */
export class GrpcForwardPort implements ForwardPort {
  readonly #view: ClusterView;

  constructor(view: ClusterView) {
    this.#view = view;
  }

  put(node: NodeId, request: PutRequest__Output, deadlineMs: number) {
    return this.#send<PutReply>(node, deadlineMs, (kv, metadata, options, done) =>
      kv.Put(request, metadata, options, done),
    );
  }

  delete(node: NodeId, request: DeleteRequest__Output, deadlineMs: number) {
    return this.#send<DeleteReply>(node, deadlineMs, (kv, metadata, options, done) =>
      kv.Delete(request, metadata, options, done),
    );
  }

  #send<Reply>(
    node: NodeId,
    deadlineMs: number,
    call: (
      kv: KVClient,
      metadata: grpc.Metadata,
      options: grpc.CallOptions,
      done: (error: grpc.ServiceError | null, reply?: Reply) => void,
    ) => void,
  ): Promise<ForwardResult<Reply>> {
    const peer = this.#view.peer(node);
    if (peer === undefined) {
      const message = this.#view.unreachableReason(node);
      const error = new KvError("unavailable", message);
      return Promise.resolve({
        ok: false,
        failure: { kind: "unreached", notApplied: false, message },
        error,
      });
    }
    const metadata = new grpc.Metadata();
    metadata.set(FORWARDED_HEADER, this.#view.self);
    return new Promise((resolve) => {
      call(peer.kv, metadata, { deadline: deadlineMs }, (error, reply) => {
        if (error === null) resolve({ ok: true, reply: reply as Reply });
        else resolve({ ok: false, failure: forwardFailureOf(error), error });
      });
    });
  }
}

/**
 * How a forwarded call failed. Only a plain transport UNAVAILABLE proves the peer never saw the
 * request; an error carrying ORIGIN_HEADER is the peer's own, and a deadline may have let it act.
 */
function forwardFailureOf(error: grpc.ServiceError): ForwardFailure {
  const fromPeer = (error.metadata?.get(ORIGIN_HEADER).length ?? 0) > 0;
  const kind =
    error.code === grpc.status.DEADLINE_EXCEEDED
      ? "deadline"
      : error.code === grpc.status.UNAVAILABLE && !fromPeer
        ? "unreached"
        : "error";
  const notApplied = (error.metadata?.get(NOT_APPLIED_HEADER).length ?? 0) > 0;
  return { kind, notApplied, message: error.details || error.message };
}

/**
 * The gRPC error for a failed request: a peer's error to a forwarded write passes through
 * unchanged; the service's own KvErrors carry ORIGIN_HEADER (and NOT_APPLIED_HEADER).
 */
function replyError(error: unknown, self: NodeId): Partial<grpc.ServiceError> {
  if (error instanceof PeerError && isServiceError(error.answer)) {
    const { code, details, metadata } = error.answer;
    return { code, details, metadata };
  }
  if (isKvError(error)) return errorReply(error, self);
  // KvService answers with nothing else; this is a bug of the adapter.
  const message = error instanceof Error ? error.message : String(error);
  return errorReply(new KvError("internal", `internal error: ${message}`), self);
}

function errorReply(error: KvError, self: NodeId): Partial<grpc.ServiceError> {
  const metadata = new grpc.Metadata();
  metadata.set(ORIGIN_HEADER, self);
  if (error.notApplied) metadata.set(NOT_APPLIED_HEADER, "1");
  return { ...toServiceError(error), code: grpcStatusOf(error.code), metadata };
}

const OK_ITEM: ItemStatus = { code: grpc.status.OK, message: "", not_applied: false };

/** A batch's results on the wire: each item's reply, or the status its unary call would end with. */
function itemResults<Reply>(
  results: readonly ItemResult<Reply>[],
  self: NodeId,
): { status: ItemStatus; reply?: Reply }[] {
  return results.map((result) =>
    result.ok
      ? { status: OK_ITEM, reply: result.reply }
      : { status: itemStatusOf(result.error, self) },
  );
}

/** The status of a failed batch or session item: what its unary call would have ended with. */
function itemStatusOf(error: unknown, self: NodeId): ItemStatus {
  const { code, details, metadata } = replyError(error, self);
  return {
    code: code ?? grpc.status.UNKNOWN,
    message: details ?? "",
    not_applied: (metadata?.get(NOT_APPLIED_HEADER).length ?? 0) > 0,
  };
}

function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as Partial<grpc.ServiceError>).code === "number";
}
