// One KV.Session without its transport: runs each item of each message through the KvService
// path of its unary call (same validation, errors and metrics), at most sessionItemsInFlightMax
// at once, and sends the results back batched, one message per event-loop turn, in the order
// they end. Past the bound the stream stops reading; each item's request bytes (and what its
// get holds) count against the call's admission budget until its result is sent.

import type { SessionItem__Output } from "../proto/generated/dkv/v1/SessionItem.js";
import type { SessionResult } from "../proto/generated/dkv/v1/SessionResult.js";
import type { ItemStatus } from "../proto/generated/dkv/v1/ItemStatus.js";
import type { GetRequest__Output } from "../proto/generated/dkv/v1/GetRequest.js";
import type { PutRequest__Output } from "../proto/generated/dkv/v1/PutRequest.js";
import type { DeleteRequest__Output } from "../proto/generated/dkv/v1/DeleteRequest.js";
import { KvError } from "../node/core/errors.js";
import type { Limits } from "../node/core/limits.js";
import type { Clock } from "../node/clock.js";
import type { CallBudget } from "../node/wire/call-budget.js";
import { itemRefusalOf } from "../node/security/session-item-refusal.js";
import type { DeleteReply, GetReply, KvCall, PutReply } from "./kv-service.js";

/** The KV operations a session runs: KvService's. */
export interface SessionService {
  get(request: GetRequest__Output, call: KvCall): Promise<GetReply>;
  put(request: PutRequest__Output, call: KvCall): Promise<PutReply>;
  delete(request: DeleteRequest__Output, call: KvCall): Promise<DeleteReply>;
}

/** What a session needs of its stream. */
export interface SessionPort {
  /** Sends one message of results; `sent` once the transport has taken it. */
  send(results: SessionResult[], sent: () => void): void;
  /** Stops reading the stream (HTTP/2 flow control then holds the client). */
  pause(): void;
  resume(): void;
  /** Ends the stream OK: the client ended its side and every item is answered. */
  end(): void;
  /** The call's admission budget; undefined without the admission interceptor (unit tests). */
  readonly budget: CallBudget | undefined;
  /** The stream's own deadline on this node's wall clock; Infinity for none. */
  readonly deadlineMs: number;
}

/** What a session needs. */
export interface KvSessionDeps {
  readonly service: SessionService;
  readonly limits: Pick<Limits, "sessionItemsInFlightMax" | "requestTimeoutMsDefault">;
  readonly clock: Pick<Clock, "nowMs" | "defer">;
  readonly port: SessionPort;
  /** The status a failed item is answered with (a KvError, or a PeerError passed through). */
  readonly statusOf: (error: unknown) => ItemStatus;
}

/** Results per outgoing message at most; more wait for the next message. */
export const SESSION_RESULTS_PER_MESSAGE_MAX = 1000;
/** Bytes of results per outgoing message at most (one larger result goes alone). */
export const SESSION_RESULT_BYTES_PER_MESSAGE_MAX = 4 * 1024 * 1024;

const OK_STATUS: ItemStatus = { code: 0, message: "", not_applied: false };

/** An item received and not yet started, with its deadline fixed at its arrival. */
interface Waiting {
  readonly item: SessionItem__Output;
  readonly deadlineMs: number;
  /** Bytes held in the call's budget for the item, until its result was sent. */
  readonly held: { bytes: number };
}

/** A result ready to send, with the bytes its item holds until it is sent. */
interface Outgoing {
  readonly result: SessionResult;
  readonly bytes: number;
  readonly heldBytes: number;
}

/** One session. Feed it the stream's events: receive, end, close. */
export class KvSession {
  readonly #deps: KvSessionDeps;
  #waiting: Waiting[] = [];
  #head = 0;
  /** Ids of the items started and not yet answered. */
  readonly #running = new Set<number>();
  #outgoing: Outgoing[] = [];
  #flushScheduled = false;
  #paused = false;
  /** The client ended its side: end the stream once everything is answered. */
  #ended = false;
  /** The stream is gone: results are dropped. */
  #closed = false;

  constructor(deps: KvSessionDeps) {
    this.#deps = deps;
  }

  /** Items started and not yet answered (at most sessionItemsInFlightMax). */
  get inFlight(): number {
    return this.#running.size;
  }

  /** Items received and waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  /**
   * A message of items arrived: each gets its deadline now, holds its bytes in the call's
   * budget (past it, the item is refused RESOURCE_EXHAUSTED) and runs when a slot is free.
   */
  receive(items: readonly SessionItem__Output[]): void {
    if (this.#closed || this.#ended) return;
    const { limits, clock, port } = this.#deps;
    const receivedMs = clock.nowMs();
    for (const item of items) {
      const deadlineMs = itemDeadlineMs(item.timeout_ms, receivedMs, port.deadlineMs, limits);
      const bytes = requestBytesOf(item);
      const verdict = port.budget?.hold(bytes) ?? { ok: true };
      if (verdict.ok) this.#waiting.push({ item, deadlineMs, held: { bytes } });
      else this.#refuse(item.id, new KvError("overloaded", verdict.message), 0);
    }
    this.#pump();
    if (this.waiting > 0 && !this.#paused) {
      this.#paused = true;
      port.pause();
    }
  }

  /** The client ended its side of the stream. */
  end(): void {
    this.#ended = true;
    this.#finishIfDone();
  }

  /** The stream was cancelled or failed: nothing more is sent. */
  close(): void {
    this.#closed = true;
    // The admission interceptor gives back everything the call held once it has ended.
    this.#waiting = [];
    this.#head = 0;
    this.#outgoing = [];
  }

  /** Starts waiting items while slots are free; reads on once the queue is drained. */
  #pump(): void {
    const max = this.#deps.limits.sessionItemsInFlightMax;
    while (this.#head < this.#waiting.length && this.#running.size < max && !this.#closed) {
      const next = this.#waiting[this.#head]!;
      this.#head += 1;
      this.#start(next);
    }
    if (this.#head >= this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    }
    if (this.#paused && this.waiting === 0 && this.#running.size < max && !this.#closed) {
      this.#paused = false;
      this.#deps.port.resume();
    }
  }

  /** Runs one item, or answers it at once when it cannot run. */
  #start({ item, deadlineMs, held }: Waiting): void {
    const id = item.id;
    const refusal = itemRefusalOf(item);
    if (refusal !== undefined) {
      const status = { code: refusal.code, message: refusal.reason, not_applied: true };
      return this.#answer({ id, status }, held.bytes);
    }
    const op = operationOf(item);
    if (typeof op === "string") {
      return this.#refuse(id, new KvError("invalid-argument", op), held.bytes);
    }
    if (this.#running.has(id)) {
      const message = `session item id ${id} is already in flight: ids must be unique among the items in flight`;
      return this.#refuse(id, new KvError("invalid-argument", message), held.bytes);
    }
    const budget = this.#deps.port.budget;
    this.#running.add(id);
    const holdBytes = (bytes: number) => {
      const verdict = budget?.hold(bytes) ?? { ok: true as const };
      if (verdict.ok) held.bytes += bytes;
      return verdict;
    };
    const call: KvCall =
      budget === undefined
        ? { deadlineMs, forwarded: false }
        : { deadlineMs, forwarded: false, holdBytes };
    const ok = OK_STATUS;
    const { service, statusOf } = this.#deps;
    const done =
      op.kind === "get"
        ? service.get(op.request, call).then((get): SessionResult => ({ id, status: ok, get }))
        : op.kind === "put"
          ? service.put(op.request, call).then((put): SessionResult => ({ id, status: ok, put }))
          : service
              .delete(op.request, call)
              .then((): SessionResult => ({ id, status: ok, delete: {} }));
    void done
      .catch((error: unknown): SessionResult => ({ id, status: statusOf(error) }))
      .then((result) => {
        this.#running.delete(id);
        this.#answer(result, held.bytes);
        this.#pump();
      });
  }

  /** Answers an item refused before it ran: nothing was stored. */
  #refuse(id: number, error: KvError, heldBytes: number): void {
    const status = this.#deps.statusOf(
      new KvError(error.code, error.message, { notApplied: true }),
    );
    this.#answer({ id, status }, heldBytes);
  }

  /** Queues a result for the next outgoing message. */
  #answer(result: SessionResult, heldBytes: number): void {
    if (this.#closed) {
      this.#deps.port.budget?.release(heldBytes);
      return;
    }
    this.#outgoing.push({ result, bytes: resultBytesOf(result), heldBytes });
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      this.#deps.clock.defer(() => this.#flush());
    }
  }

  /** Sends every queued result, in messages of bounded count and bytes. */
  #flush(): void {
    this.#flushScheduled = false;
    const { port } = this.#deps;
    while (this.#outgoing.length > 0 && !this.#closed) {
      const count = takeCount(this.#outgoing.map((entry) => entry.bytes));
      const batch = this.#outgoing.slice(0, count);
      this.#outgoing = this.#outgoing.slice(count);
      const heldBytes = batch.reduce((sum, entry) => sum + entry.heldBytes, 0);
      // The items' bytes are held until the transport has taken their results, which the
      // admission interceptor then holds as a reply until the client reads it.
      port.send(
        batch.map((entry) => entry.result),
        () => port.budget?.release(heldBytes),
      );
    }
    this.#finishIfDone();
  }

  #finishIfDone(): void {
    if (!this.#ended || this.#closed) return;
    if (this.waiting > 0 || this.#running.size > 0 || this.#outgoing.length > 0) return;
    if (this.#flushScheduled) return;
    this.#closed = true;
    this.#deps.port.end();
  }
}

/** What an item asks to run, or why it is malformed. */
type Operation =
  | { readonly kind: "get"; readonly request: GetRequest__Output }
  | { readonly kind: "put"; readonly request: PutRequest__Output }
  | { readonly kind: "delete"; readonly request: DeleteRequest__Output };

/**
 * The one operation an item names, or the INVALID_ARGUMENT message of an item that names none
 * or several (protobuf would keep the last of a oneof's fields; a client that sends several
 * made a mistake, and the guard checked only the one `op` names).
 */
export function operationOf(item: SessionItem__Output): Operation | string {
  const present = [item.get, item.put, item.delete].filter((field) => field != null).length;
  if (present > 1) return `session item ${item.id} names ${present} operations: set exactly one`;
  if (item.op === "get" && item.get != null) return { kind: "get", request: item.get };
  if (item.op === "put" && item.put != null) return { kind: "put", request: item.put };
  if (item.op === "delete" && item.delete != null) return { kind: "delete", request: item.delete };
  return `session item ${item.id} names no operation: set get, put or delete`;
}

/**
 * An item's absolute deadline: its timeout (or the default) from its arrival, and never past
 * the stream's own deadline. KvService then cuts it to requestTimeoutMsMax and answers
 * DEADLINE_EXCEEDED, unrun, an item whose deadline passed while it waited for a slot.
 */
export function itemDeadlineMs(
  timeoutMs: number,
  receivedMs: number,
  streamDeadlineMs: number,
  limits: Pick<Limits, "requestTimeoutMsDefault">,
): number {
  const budgetMs = timeoutMs > 0 ? timeoutMs : limits.requestTimeoutMsDefault;
  return Math.min(receivedMs + budgetMs, streamDeadlineMs);
}

/** Room an item's or a result's framing takes besides its byte fields. */
const ITEM_OVERHEAD_BYTES = 32;

/** About the encoded size of an item: its byte and string fields and some framing. */
export function requestBytesOf(item: SessionItem__Output): number {
  const request = item.put ?? item.get ?? item.delete;
  if (request == null) return ITEM_OVERHEAD_BYTES;
  let bytes = ITEM_OVERHEAD_BYTES + request.bucket.length + request.key.length;
  if (item.delete != null) bytes += item.delete.context.length;
  const put = item.put;
  if (put != null) {
    bytes += put.value.length + put.context.length + put.content_type.length;
    for (const [name, value] of Object.entries(put.metadata)) bytes += name.length + value.length;
  }
  return bytes;
}

/** About the encoded size of a result: the values and contexts it carries, and some framing. */
export function resultBytesOf(result: SessionResult): number {
  const reply = result.get ?? result.put;
  let bytes = ITEM_OVERHEAD_BYTES + (result.status?.message?.length ?? 0);
  if (reply == null) return bytes;
  bytes += (reply.context as Uint8Array | undefined)?.length ?? 0;
  for (const sibling of reply.siblings ?? []) {
    bytes += ITEM_OVERHEAD_BYTES + ((sibling.value as Uint8Array | undefined)?.length ?? 0);
  }
  return bytes;
}

/**
 * How many of the results (given by size) go in the next message: at most
 * SESSION_RESULTS_PER_MESSAGE_MAX and SESSION_RESULT_BYTES_PER_MESSAGE_MAX bytes, at least one.
 */
export function takeCount(sizes: readonly number[]): number {
  let bytes = 0;
  let count = 0;
  for (const size of sizes) {
    if (count > 0 && bytes + size > SESSION_RESULT_BYTES_PER_MESSAGE_MAX) break;
    bytes += size;
    count += 1;
    if (count >= SESSION_RESULTS_PER_MESSAGE_MAX) break;
  }
  return count;
}
