// The public KV service without its transport: validates each request at the edge, sheds load
// past the in-flight bound, passes a write on to a primary of its key when this node is none
// (through a ForwardPort, by the policy of core/forward-policy.ts), runs the coordinator and
// builds the replies. The gRPC adapter (kv-server.ts) and the deterministic simulation
// (scripts/sim/) run this same code; time comes from the injected Clock.

import type { GetRequest__Output } from "../proto/generated/dkv/v1/GetRequest.js";
import type { PutRequest__Output } from "../proto/generated/dkv/v1/PutRequest.js";
import type { DeleteRequest__Output } from "../proto/generated/dkv/v1/DeleteRequest.js";
import { KvError, isKvError } from "../node/core/errors.js";
import type { Limits } from "../node/core/limits.js";
import type { NodeId } from "../node/core/node-id.js";
import { contextAdd } from "../node/core/causal-context.js";
import { join, values, liveValues, vtag } from "../node/core/dvv.js";
import { type ContextKeys, encodeKeyContext } from "../node/core/key-context.js";
import { monotonicDeadline, wallDeadline, type Clock } from "../node/clock.js";
import type { Logger } from "../node/logger.js";
import { LogThrottle } from "../node/metrics/log-throttle.js";
import type { KvObserver } from "../node/metrics/kv-metrics.js";
import type { BudgetVerdict } from "../node/wire/call-budget.js";
import {
  outcomeOfError,
  type KvOperation,
  type RequestOutcome,
} from "../node/metrics/request-outcome.js";
import type { BucketDefaults } from "./core/quorum-options.js";
import {
  DEFAULT_FORWARD_POLICY,
  afterForwardFailure,
  attemptDeadlineMs,
  forwardTargets,
  noCoordinatorMessage,
  type ForwardFailure,
  type ForwardPolicy,
} from "./core/forward-policy.js";
import type { Coordinator } from "./coordinator.js";
import { checkBatch, runBatch, type ItemResult } from "./kv-batch.js";
import {
  checkBucketAndKey,
  checkQuorum,
  deadlineOf,
  deleteCommandOf,
  putCommandOf,
  toWireSibling,
  type WireSibling,
} from "./request-decode.js";

/** A get's answer: the siblings (none: not found) and the context that covers them. */
export interface GetReply {
  readonly siblings: WireSibling[];
  readonly context: Uint8Array;
}

/** A put's answer: the context for the next write, the new version's vtag, and (return_body) the siblings. */
export interface PutReply {
  readonly context: Uint8Array;
  readonly siblings: WireSibling[];
  readonly vtag: string;
}

/** A delete's answer: nothing beyond success. */
export type DeleteReply = Record<never, never>;

/** What the transport tells about one call besides its request. */
export interface KvCall {
  /**
   * The client's deadline on this node's wall clock (ms since the epoch) as the call arrives;
   * Infinity for none. KvService reads it at once and keeps it on the monotonic clock.
   */
  readonly deadlineMs: number;
  /** Another node forwarded this write here: it is coordinated here, never forwarded again. */
  readonly forwarded: boolean;
  /** Holds bytes against the call's admission budget (node/wire/call-budget.ts), if it has one. */
  readonly holdBytes?: (bytes: number) => BudgetVerdict;
}

/**
 * A call as KvService holds it: the client's deadline read against the wall clock once, as the
 * call arrived, and kept on the monotonic clock (node/clock.ts), so that a step of the wall
 * clock while the call runs (forwarding, a batch's later items) does not move it.
 */
type ArrivedCall = Omit<KvCall, "deadlineMs"> & { readonly deadlineMonotonicMs: number };

/** How a forwarded write ended: the reply of the node that took it, or how it failed. */
export type ForwardResult<Reply> =
  | { readonly ok: true; readonly reply: Reply }
  | {
      readonly ok: false;
      readonly failure: ForwardFailure;
      /** The failure as the transport gave it: what the client hears if forwarding stops here. */
      readonly error: unknown;
    };

/**
 * Passes a client's write on to another node, marked as forwarded so that it goes no further.
 * `deadlineMs` is on this node's wall clock. Never rejects: every failure is a result.
 */
export interface ForwardPort {
  put(
    node: NodeId,
    request: PutRequest__Output,
    deadlineMs: number,
  ): Promise<ForwardResult<PutReply>>;
  delete(
    node: NodeId,
    request: DeleteRequest__Output,
    deadlineMs: number,
  ): Promise<ForwardResult<DeleteReply>>;
}

/** A forwarded write failed at `node` with an error of its own, which the client hears unchanged. */
export class PeerError extends Error {
  readonly node: NodeId;
  /** The error as the ForwardPort gave it (a grpc-js ServiceError in production). */
  readonly answer: unknown;

  constructor(node: NodeId, answer: unknown, message: string) {
    super(message);
    this.name = "PeerError";
    this.node = node;
    this.answer = answer;
  }
}

/** What the KV service needs. */
export interface KvServiceDeps {
  readonly coordinator: Coordinator;
  readonly self: NodeId;
  readonly limits: Limits;
  readonly bucket: BucketDefaults;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly forward: ForwardPort;
  /**
   * The cluster keys contexts are sealed with (read on every request, so a reload takes effect
   * at once); undefined on an --insecure node, whose contexts are unsealed.
   */
  readonly contextKeys: () => ContextKeys | undefined;
  /** DEFAULT_FORWARD_POLICY unless a simulation mutation asks for another. */
  readonly forwardPolicy?: ForwardPolicy;
  /** Told about every request (metrics, recent latency); nothing is logged per request. */
  readonly observer?: KvObserver;
}

/** One unexpected-error line (with its stack) per window; the rest are counted in the next. */
const UNEXPECTED_ERROR_LOG_WINDOW_MS = 10_000;

/**
 * The KV operations of one node. Each resolves with its reply or rejects with a KvError, or with
 * a PeerError when a forwarded write failed at the node that coordinated it; an unexpected
 * error is a bug, logged (throttled: a client may be able to trigger it at will) and answered
 * as an internal KvError. Nothing a client sends can crash the node.
 */
export class KvService {
  readonly #deps: KvServiceDeps;
  readonly #policy: ForwardPolicy;
  readonly #unexpectedErrors = new LogThrottle(UNEXPECTED_ERROR_LOG_WINDOW_MS);
  #inFlight = 0;

  constructor(deps: KvServiceDeps) {
    this.#deps = deps;
    this.#policy = deps.forwardPolicy ?? DEFAULT_FORWARD_POLICY;
  }

  /** Requests running now (bounded by limits.requestsInFlightMax). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** KV.Get: a read at quorum r; no live value answers with no siblings (not found). */
  get(request: GetRequest__Output, call: KvCall): Promise<GetReply> {
    return this.#get(request, this.#arrived(call));
  }

  #get(request: GetRequest__Output, call: ArrivedCall): Promise<GetReply> {
    return this.#serve("get", foundOrNot, async () => {
      const { coordinator, limits } = this.#deps;
      const bucket = checkBucketAndKey(request.bucket, request.key, limits);
      const quorum = checkQuorum(request.options, this.#deps.bucket);
      const deadlineMs = this.#deadlineNow(call);
      const sloppy = !(request.options?.strict_quorum ?? false);
      const key = request.key;
      const holdBytes = call.holdBytes === undefined ? {} : { holdBytes: call.holdBytes };
      const object = await coordinator.get({
        bucket,
        key,
        quorum,
        deadlineMs,
        sloppy,
        ...holdBytes,
      });
      if (object === undefined) return { siblings: [], context: Buffer.alloc(0) };
      this.#deps.observer?.object("get", object);
      const live = liveValues(object).length > 0;
      return {
        siblings: live ? values(object).map(toWireSibling) : [],
        context: encodeKeyContext(bucket, key, join(object), this.#deps.contextKeys()),
      };
    });
  }

  /** KV.Put: coordinated here when this node is a primary of the key, else forwarded. */
  put(request: PutRequest__Output, call: KvCall): Promise<PutReply> {
    return this.#put(request, this.#arrived(call));
  }

  #put(request: PutRequest__Output, call: ArrivedCall): Promise<PutReply> {
    return this.#serve("put", answered, async () => {
      const plan = this.#forwardPlan(request, call);
      const forwarding: Forwarding = { mayHaveApplied: false };
      if (plan !== undefined) {
        // What the "give-up" mutation answers: the client's own context, no new version.
        const gaveUp = { context: request.context, siblings: [], vtag: "" };
        const send = (node: NodeId, deadlineMs: number): Promise<ForwardResult<PutReply>> =>
          this.#deps.forward.put(node, request, deadlineMs);
        const forwarded = await this.#forward(plan, call, send, gaveUp, forwarding);
        if (forwarded !== undefined) return forwarded;
      }
      const { coordinator, limits, clock } = this.#deps;
      const contextKeys = this.#deps.contextKeys();
      const coordinate = async () => {
        const nowMs = clock.nowMs();
        const deadlineMs = this.#deadlineNow(call);
        const at = { limits, bucket: this.#deps.bucket, nowMs, deadlineMs, contextKeys };
        const command = putCommandOf(request, at);
        return { command, outcome: await coordinator.put(command) };
      };
      const { command, outcome } =
        plan === undefined ? await coordinate() : await afterForwarding(forwarding, coordinate);
      this.#deps.observer?.object("put", outcome.object);
      const { bucket, key } = command;
      if (!request.return_body) {
        const context = contextAdd(command.context, outcome.dot);
        return {
          context: encodeKeyContext(bucket, key, context, contextKeys),
          siblings: [],
          vtag: vtag(outcome.dot),
        };
      }
      return {
        context: encodeKeyContext(bucket, key, join(outcome.object), contextKeys),
        siblings: values(outcome.object).map(toWireSibling),
        vtag: vtag(outcome.dot),
      };
    });
  }

  /** KV.Delete: a put of a tombstone with the client's context (required). */
  delete(request: DeleteRequest__Output, call: KvCall): Promise<DeleteReply> {
    return this.#delete(request, this.#arrived(call));
  }

  #delete(request: DeleteRequest__Output, call: ArrivedCall): Promise<DeleteReply> {
    return this.#serve("delete", answered, async () => {
      const { coordinator, limits, clock } = this.#deps;
      checkBucketAndKey(request.bucket, request.key, limits);
      if (request.context.length === 0) {
        throw new KvError(
          "invalid-argument",
          "context is required to delete: pass the context of a get of the key",
        );
      }
      const plan = this.#forwardPlan(request, call);
      const forwarding: Forwarding = { mayHaveApplied: false };
      if (plan !== undefined) {
        const send = (node: NodeId, deadlineMs: number): Promise<ForwardResult<DeleteReply>> =>
          this.#deps.forward.delete(node, request, deadlineMs);
        const forwarded = await this.#forward(plan, call, send, {}, forwarding);
        if (forwarded !== undefined) return {};
      }
      await afterForwarding(forwarding, () => {
        const nowMs = clock.nowMs();
        const deadlineMs = this.#deadlineNow(call);
        const contextKeys = this.#deps.contextKeys();
        const at = { limits, bucket: this.#deps.bucket, nowMs, deadlineMs, contextKeys };
        return coordinator.put(deleteCommandOf(request, at));
      });
      return {};
    });
  }

  /** KV.BatchGet: each item as KV.Get, under the call's deadline and budget. */
  async batchGet(
    items: readonly GetRequest__Output[],
    call: KvCall,
  ): Promise<ItemResult<GetReply>[]> {
    checkBatch(items, this.#deps.limits);
    const arrived = this.#arrived(call);
    const itemsMax = this.#deps.limits.batchItemsInFlightMax;
    return runBatch(items, itemsMax, (item) => this.#get(item, arrived));
  }

  /** KV.BatchPut: each item as KV.Put (forwarded alone when this node is no primary of it). */
  async batchPut(
    items: readonly PutRequest__Output[],
    call: KvCall,
  ): Promise<ItemResult<PutReply>[]> {
    checkBatch(items, this.#deps.limits);
    const arrived = this.#arrived(call);
    const itemsMax = this.#deps.limits.batchItemsInFlightMax;
    return runBatch(items, itemsMax, (item) => this.#put(item, arrived));
  }

  /**
   * Runs one request under the in-flight bound and tells the observer how it ended
   * (`outcomeOf` tells a found reply from a not-found one). The bound is checked before the
   * first await, so a burst of calls is counted as it arrives.
   */
  async #serve<Reply>(
    op: KvOperation,
    outcomeOf: (reply: Reply) => RequestOutcome,
    work: () => Promise<Reply>,
  ): Promise<Reply> {
    const { observer, limits, clock } = this.#deps;
    const startedMs = observer === undefined ? 0 : clock.monotonicMs();
    const elapsedMs = (): number => clock.monotonicMs() - startedMs;
    if (this.#inFlight >= limits.requestsInFlightMax) {
      observer?.shed(this.#inFlight, limits.requestsInFlightMax);
      observer?.request(op, "overloaded", elapsedMs());
      const message = `overloaded: ${this.#inFlight} requests in flight (limit ${limits.requestsInFlightMax})`;
      throw new KvError("overloaded", message);
    }
    this.#inFlight += 1;
    try {
      const reply = await work();
      observer?.request(op, outcomeOf(reply), elapsedMs());
      return reply;
    } catch (error) {
      const failure = this.#expected(error);
      const counted = failure instanceof PeerError ? failure.answer : failure;
      observer?.request(op, outcomeOfError(counted), elapsedMs());
      throw failure;
    } finally {
      this.#inFlight -= 1;
    }
  }

  /** A KvError or PeerError as it is; anything else is a bug: logged, answered as internal. */
  #expected(error: unknown): KvError | PeerError {
    if (isKvError(error) || error instanceof PeerError) return error;
    const decision = this.#unexpectedErrors.admit(this.#deps.clock.monotonicMs());
    if (decision.log) {
      this.#deps.logger.error(
        { err: error, suppressedBefore: decision.suppressed },
        "request failed unexpectedly",
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    return new KvError("internal", `internal error: ${message}`);
  }

  /** The call as held from its arrival on: see {@link ArrivedCall}. */
  #arrived(call: KvCall): ArrivedCall {
    const { deadlineMs, ...rest } = call;
    return { ...rest, deadlineMonotonicMs: monotonicDeadline(this.#deps.clock, deadlineMs) };
  }

  /**
   * The call's deadline by deadlineOf's rules, as a wall-clock time read now: for handing on at
   * once (a command to the coordinator, a forward attempt).
   */
  #deadlineNow(call: ArrivedCall): number {
    const { clock, limits } = this.#deps;
    return deadlineOf(wallDeadline(clock, call.deadlineMonotonicMs), clock.nowMs(), limits);
  }

  /**
   * A write is coordinated by a primary of its key (DESIGN section 4). Where a write goes when
   * this node is not one: the candidates of `forwardTargets`, in order, and whether this node
   * may coordinate once they all refuse. Undefined when this node coordinates it at once (a
   * primary, or a call forwarded here already): the usual case, decided without a promise.
   */
  #forwardPlan(
    request: PutRequest__Output | DeleteRequest__Output,
    call: ArrivedCall,
  ): ForwardPlan | undefined {
    if (call.forwarded) return undefined;
    const { coordinator, limits, self } = this.#deps;
    const bucket = checkBucketAndKey(request.bucket, request.key, limits);
    const quorum = checkQuorum(request.options, this.#deps.bucket);
    const sloppy = !(request.options?.strict_quorum ?? false);
    const list = coordinator.preferenceList(bucket, request.key, quorum.n, sloppy);
    const { forward, selfMay } = forwardTargets(list, self);
    return forward.length === 0 && selfMay ? undefined : { forward, selfMay };
  }

  /**
   * Sends the write to the plan's candidates in order through `send`, moving on as
   * `afterForwardFailure` decides. Resolves with the reply of the node that took it, or
   * undefined when this node should coordinate; `gaveUp` is the "give-up" mutation's answer.
   * `forwarding` learns whether a candidate it moved on from may still store the write.
   */
  async #forward<Reply>(
    { forward, selfMay }: ForwardPlan,
    call: ArrivedCall,
    send: (node: NodeId, deadlineMs: number) => Promise<ForwardResult<Reply>>,
    gaveUp: Reply,
    forwarding: Forwarding,
  ): Promise<Reply | undefined> {
    const { clock } = this.#deps;
    // Attempts are timed on the monotonic clock; each is handed on as a wall-clock deadline.
    const deadlineMs = monotonicDeadline(clock, this.#deadlineNow(call));
    const reasons: string[] = [];
    for (const [index, node] of forward.entries()) {
      const startedMs = clock.monotonicMs();
      const anotherLeft = index < forward.length - 1 || selfMay;
      const attemptMs = attemptDeadlineMs(startedMs, deadlineMs, anotherLeft, this.#policy);
      const result = await send(node, wallDeadline(clock, attemptMs));
      if (result.ok) return result.reply;
      const attempt = { startedMs, attemptMs, deadlineMs };
      const next = afterForwardFailure(result.failure, attempt, this.#policy);
      if (next.step === "give-up") return gaveUp;
      if (next.step === "fail") throw new PeerError(node, result.error, result.failure.message);
      if (next.mayHaveApplied) forwarding.mayHaveApplied = true;
      reasons.push(`${node}: ${next.reason}`);
    }
    // No candidate took it; a node in the preference list (a live fallback) may coordinate.
    if (selfMay) return undefined;
    throw new KvError("unavailable", noCoordinatorMessage(reasons));
  }
}

/** Where a write is forwarded: the candidates in order, and whether this node may then coordinate. */
interface ForwardPlan {
  readonly forward: readonly NodeId[];
  readonly selfMay: boolean;
}

/** What forwarding learned before this node coordinates a write itself. */
interface Forwarding {
  /** A candidate forwarding moved on from got no answer in time and may still store the write. */
  mayHaveApplied: boolean;
}

/**
 * Runs the local coordination of a write that forwarding moved on to. Its refusal before
 * storing (notApplied) holds for this node only: when a silent candidate may still have stored
 * the write, the client must not be told that nothing was applied (it may retry elsewhere, or
 * count the write as failed, while the write lands).
 */
async function afterForwarding<T>(forwarding: Forwarding, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!forwarding.mayHaveApplied || !isKvError(error) || !error.notApplied) throw error;
    throw new KvError(
      error.code,
      `${error.message} (a replica asked earlier did not answer in time and may have stored the write)`,
      { cause: error },
    );
  }
}

/** The outcome of an answered put or delete. */
function answered(): RequestOutcome {
  return "ok";
}

/** A get that found no live value answers with no siblings: not found. */
function foundOrNot(reply: GetReply): RequestOutcome {
  return reply.siblings.length === 0 ? "not_found" : "ok";
}
