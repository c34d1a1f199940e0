// The client side of KV.Session: coalesces concurrent gets, puts and deletes onto one stream per
// node. Items issued in the same event-loop turn go out in one message; results come back by
// id, in any order. A stream that fails is opened again for the next item; the items it had in
// flight fail (UNAVAILABLE, not known to be unapplied) unless the node refused the stream before
// running anything, or never answered at all (then they move on to the next node, as a unary
// call would). A node without KV.Session (UNIMPLEMENTED) gets unary calls from then on.

import * as grpc from "@grpc/grpc-js";
import type { KVClient } from "../proto/generated/dkv/v1/KV.js";
import type { SessionItem } from "../proto/generated/dkv/v1/SessionItem.js";
import type { ItemStatus__Output } from "../proto/generated/dkv/v1/ItemStatus.js";
import type { SessionResult__Output } from "../proto/generated/dkv/v1/SessionResult.js";
import type { SessionRequest } from "../proto/generated/dkv/v1/SessionRequest.js";
import type { SessionResponse__Output } from "../proto/generated/dkv/v1/SessionResponse.js";
import type { GetRequest } from "../proto/generated/dkv/v1/GetRequest.js";
import type { PutRequest } from "../proto/generated/dkv/v1/PutRequest.js";
import type { DeleteRequest } from "../proto/generated/dkv/v1/DeleteRequest.js";
import type { Clock } from "../node/clock.js";
import { CallSlots } from "../node/call-slots.js";
import { DeadlineTimers, type DeadlineEntry } from "../node/deadline-timers.js";
import { chunkBatch } from "./client-batch.js";
import { NOT_APPLIED_HEADER, ORIGIN_HEADER } from "./kv-server.js";

/** A node the client talks to, as a session needs it. */
export interface SessionConnection {
  readonly address: string;
  readonly kv: KVClient;
}

/** One operation of a session item. */
export type SessionOperation =
  { readonly get: GetRequest } | { readonly put: PutRequest } | { readonly delete: DeleteRequest };

/** Items per message at most (a node answers each message's items on their own). */
const SESSION_ITEMS_PER_MESSAGE_MAX = 1000;
/** Request bytes per message the client aims under (a node takes about 16 MiB per message). */
const SESSION_BYTES_PER_MESSAGE_TARGET = 4 * 1024 * 1024;
/**
 * Items sent on one node's session and not yet answered, at most: a node admits far fewer
 * (Limits.sessionItemsInFlightMax), so past this the client itself is overloaded.
 */
const SESSION_ITEMS_IN_FLIGHT_MAX = 1 << 20;

/**
 * Statuses a node answers a whole stream with before its handler runs (the call guard, the
 * admission bound, an old node without Session): no item of it ran.
 */
const REFUSED_BEFORE_RUNNING: ReadonlySet<number> = new Set([
  grpc.status.UNAUTHENTICATED,
  grpc.status.PERMISSION_DENIED,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.UNIMPLEMENTED,
]);

/** An item of a caller, until it is answered. */
interface Pending {
  readonly operation: SessionOperation;
  readonly deadlineMs: number;
  /** The nodes to try in order, and the one it is on. */
  readonly connections: readonly SessionConnection[];
  index: number;
  id: number;
  /** The same request as a unary call, for a node that has no KV.Session. */
  readonly unary: () => Promise<unknown>;
  /** Its deadline, in the pool's DeadlineTimers (set once, as the item is made). */
  deadline: DeadlineEntry | undefined;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: grpc.ServiceError) => void;
}

/** The sessions of one client: one lane (stream) per node, opened on first use. */
export class SessionPool {
  readonly #clock: Clock;
  readonly #lanes = new Map<SessionConnection, SessionLane>();
  /** Every item's deadline, on the wall clock, under one timer (node/deadline-timers.ts). */
  readonly #deadlines: DeadlineTimers;
  readonly #itemsInFlightMax: number;
  #closed = false;

  /** `itemsInFlightMax` bounds each node's items sent and not yet answered (tests lower it). */
  constructor(clock: Clock, itemsInFlightMax = SESSION_ITEMS_IN_FLIGHT_MAX) {
    if (!(Number.isInteger(itemsInFlightMax) && itemsInFlightMax >= 1)) {
      throw new Error(`itemsInFlightMax must be a positive integer, got ${itemsInFlightMax}`);
    }
    this.#clock = clock;
    this.#deadlines = new DeadlineTimers(clock, "wall");
    this.#itemsInFlightMax = itemsInFlightMax;
  }

  /**
   * Runs one get, put or delete on the session of `connections[0]`, by `deadlineMs` (wall
   * clock); resolves with its reply, rejects with a ServiceError as the unary call would.
   */
  call<Reply>(
    connections: readonly SessionConnection[],
    operation: SessionOperation,
    deadlineMs: number,
    unary: () => Promise<Reply>,
  ): Promise<Reply> {
    // A large item gains nothing from sharing a message, and one over the node's message bound
    // would fail the whole stream, with every other item on it: it goes as a unary call, which
    // gets its own precise refusal.
    if (itemBytesOf(operation) > SESSION_BYTES_PER_MESSAGE_TARGET) return unary();
    return new Promise<Reply>((resolve, reject) => {
      const pending: Pending = {
        operation,
        deadlineMs,
        connections,
        index: 0,
        id: 0,
        unary,
        deadline: undefined,
        resolve: resolve as (reply: unknown) => void,
        reject,
      };
      pending.deadline = this.#deadlines.add(deadlineMs, () => this.#lane(pending).expire(pending));
      this.#issue(pending);
    });
  }

  /** Ends every session; items in flight fail with CANCELLED. */
  close(): void {
    this.#closed = true;
    for (const lane of this.#lanes.values()) lane.close();
  }

  #issue(pending: Pending): void {
    if (this.#closed) {
      cancelDeadline(this.#deadlines, pending);
      pending.reject(sessionError(grpc.status.CANCELLED, "the client was closed", false));
      return;
    }
    this.#lane(pending).add(pending);
  }

  #lane(pending: Pending): SessionLane {
    const connection = pending.connections[pending.index];
    if (connection === undefined) throw new Error("a session item without a connection");
    let lane = this.#lanes.get(connection);
    if (lane === undefined) {
      const moveOn = (moved: Pending): void => this.#issue(moved);
      lane = new SessionLane(
        connection,
        this.#clock,
        this.#deadlines,
        this.#itemsInFlightMax,
        moveOn,
      );
      this.#lanes.set(connection, lane);
    }
    return lane;
  }
}

/** The session with one node. */
class SessionLane {
  readonly #connection: SessionConnection;
  readonly #clock: Clock;
  readonly #deadlines: DeadlineTimers;
  /** Gives an item to the next node (its index already moved on). */
  readonly #moveOn: (pending: Pending) => void;
  #stream: grpc.ClientDuplexStream<SessionRequest, SessionResponse__Output> | undefined;
  /** The node's handler answered the stream's headers: it runs what it receives. */
  #opened = false;
  #queued: Pending[] = [];
  /** The node answered UNIMPLEMENTED: it has no KV.Session. */
  #unsupported = false;
  /** Items sent and not yet answered, by item id (array slots: node/call-slots.ts). */
  readonly #inFlight: CallSlots<Pending>;
  #flushScheduled = false;

  constructor(
    connection: SessionConnection,
    clock: Clock,
    deadlines: DeadlineTimers,
    itemsInFlightMax: number,
    moveOn: (pending: Pending) => void,
  ) {
    this.#connection = connection;
    this.#clock = clock;
    this.#deadlines = deadlines;
    this.#inFlight = new CallSlots<Pending>(itemsInFlightMax);
    this.#moveOn = moveOn;
  }

  add(pending: Pending): void {
    if (this.#unsupported) return this.#callUnary(pending);
    this.#queued.push(pending);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    this.#clock.defer(() => this.#flush());
  }

  /** The item's deadline passed with no answer: it fails as a unary call would. */
  expire(pending: Pending): void {
    const queued = this.#queued.indexOf(pending);
    if (queued >= 0) this.#queued.splice(queued, 1);
    else if (this.#inFlight.get(pending.id) === pending) this.#inFlight.take(pending.id);
    else return;
    pending.reject(sessionError(grpc.status.DEADLINE_EXCEEDED, "Deadline exceeded", queued >= 0));
  }

  close(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.cancel();
    const failed = [...this.#queued, ...this.#inFlight.takeAll()];
    this.#queued = [];
    for (const pending of failed) {
      cancelDeadline(this.#deadlines, pending);
      pending.reject(sessionError(grpc.status.CANCELLED, "the client was closed", false));
    }
  }

  /** Sends every queued item, in messages of bounded count and bytes. */
  #flush(): void {
    this.#flushScheduled = false;
    const nowMs = this.#clock.nowMs();
    const items: SessionItem[] = [];
    for (const pending of this.#queued) {
      if (this.#inFlight.size >= this.#inFlight.slotsMax) {
        cancelDeadline(this.#deadlines, pending);
        const message = `${this.#inFlight.slotsMax} session items already in flight to ${this.#connection.address}`;
        pending.reject(sessionError(grpc.status.RESOURCE_EXHAUSTED, message, true));
        continue;
      }
      pending.id = this.#inFlight.add(pending);
      // The rest of the caller's timeout; the node counts it from when it receives the item.
      const timeout_ms = Math.max(1, Math.ceil(pending.deadlineMs - nowMs));
      items.push({ id: pending.id, timeout_ms, ...pending.operation });
    }
    this.#queued = [];
    if (items.length === 0) return;
    const stream = this.#stream ?? this.#open();
    const chunks = chunkBatch(
      items,
      itemBytesOf,
      SESSION_ITEMS_PER_MESSAGE_MAX,
      SESSION_BYTES_PER_MESSAGE_TARGET,
    );
    for (const chunk of chunks) stream.write({ items: chunk });
  }

  #open(): grpc.ClientDuplexStream<SessionRequest, SessionResponse__Output> {
    const stream = this.#connection.kv.Session(new grpc.Metadata());
    this.#stream = stream;
    this.#opened = false;
    stream.on("metadata", () => {
      if (this.#stream === stream) this.#opened = true;
    });
    stream.on("data", (response: SessionResponse__Output) => {
      for (const result of response.results) this.#settle(result);
    });
    stream.on("status", (status: grpc.StatusObject) => this.#failed(stream, status));
    // Every failure also ends in a status event; an unhandled "error" would throw.
    stream.on("error", () => undefined);
    return stream;
  }

  #settle(result: SessionResult__Output): void {
    const pending = this.#inFlight.take(Number(result.id));
    if (pending === undefined) return; // expired meanwhile
    cancelDeadline(this.#deadlines, pending);
    const status = result.status;
    if (status !== null && status.code !== grpc.status.OK) {
      pending.reject(itemError(status, this.#connection.address));
      return;
    }
    pending.resolve(result.get ?? result.put ?? undefined);
  }

  /**
   * The stream ended. Unanswered items fail, or move on to the next node when this one was
   * never reached; the next item opens a new stream.
   */
  #failed(
    stream: grpc.ClientDuplexStream<SessionRequest, SessionResponse__Output>,
    status: grpc.StatusObject,
  ): void {
    if (this.#stream !== stream) return;
    this.#stream = undefined;
    const opened = this.#opened;
    const failed = this.#inFlight.takeAll();
    const fromNode = status.metadata.get(ORIGIN_HEADER).length > 0;
    const unreached = !opened && status.code === grpc.status.UNAVAILABLE && !fromNode;
    const refused = !opened && REFUSED_BEFORE_RUNNING.has(status.code);
    const said = status.metadata.get(NOT_APPLIED_HEADER).length > 0;
    if (!opened && status.code === grpc.status.UNIMPLEMENTED) this.#unsupported = true;
    for (const pending of failed) {
      if (this.#unsupported) {
        this.#callUnary(pending);
        continue;
      }
      if (unreached && pending.index + 1 < pending.connections.length) {
        pending.index += 1;
        this.#moveOn(pending);
        continue;
      }
      cancelDeadline(this.#deadlines, pending);
      if (refused) {
        pending.reject(sessionError(status.code, status.details, true));
        continue;
      }
      const code = grpc.status[status.code] ?? String(status.code);
      const details = `session stream to ${this.#connection.address} ended with ${failed.length} items unanswered: ${code}: ${status.details}`;
      pending.reject(sessionError(grpc.status.UNAVAILABLE, details, said));
    }
  }

  /** Runs the item as a unary call (its own deadline and retries), settling it with its answer. */
  #callUnary(pending: Pending): void {
    cancelDeadline(this.#deadlines, pending);
    pending.unary().then(pending.resolve, pending.reject);
  }
}

/** Stops waiting for the item's deadline: it is answered, failed or handed to a unary call. */
function cancelDeadline(deadlines: DeadlineTimers, pending: Pending): void {
  if (pending.deadline !== undefined) deadlines.delete(pending.deadline);
}

/** About the encoded size of an item (or of its operation), for splitting messages. */
function itemBytesOf(item: SessionItem | SessionOperation): number {
  type Request = { key?: unknown; value?: unknown; context?: unknown };
  const {
    put,
    get,
    delete: remove,
  } = item as {
    put?: Request | null;
    get?: Request | null;
    delete?: Request | null;
  };
  const request: Request = put ?? get ?? remove ?? {};
  return 64 + lengthOf(request.key) + lengthOf(request.value) + lengthOf(request.context);
}

function lengthOf(bytes: unknown): number {
  return bytes instanceof Uint8Array ? bytes.byteLength : 0;
}

/** A failed item's error, shaped as the node's own error to its unary call. */
function itemError(status: ItemStatus__Output, address: string): grpc.ServiceError {
  const error = sessionError(status.code, status.message, status.not_applied);
  error.metadata.set(ORIGIN_HEADER, address);
  return error;
}

/** A grpc-js-like ServiceError (code, details, metadata with dkv-not-applied when known). */
export function sessionError(
  code: number,
  details: string,
  notApplied: boolean,
): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (notApplied) metadata.set(NOT_APPLIED_HEADER, "1");
  const name = grpc.status[code] ?? String(code);
  return Object.assign(new Error(`${code} ${name}: ${details}`), { code, details, metadata });
}
