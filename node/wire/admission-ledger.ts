// Admission for one node: the bytes of requests and replies it holds, per node and per connection,
// and the public calls each connection has in flight, for fair shedding. Pure: no IO, no clock;
// the admission interceptor feeds it events and carries out its verdicts.

import type { Limits } from "../core/limits.js";

/** Why a call, a message or a reply was refused. */
export type RefusalReason = "node-bytes" | "connection-bytes" | "fair-share" | "message-size";

/** A refusal, with the message the caller sees (RESOURCE_EXHAUSTED). */
export interface Refusal {
  readonly ok: false;
  readonly reason: RefusalReason;
  readonly message: string;
}

export type Verdict = { readonly ok: true } | Refusal;

/** The limits the ledger enforces. */
export type AdmissionLimits = Pick<
  Limits,
  | "requestsInFlightMax"
  | "connectionRequestsInFlightMax"
  | "requestBytesInFlightMax"
  | "connectionBytesInFlightMax"
>;

interface ConnectionState {
  calls: number;
  publicCalls: number;
  bytes: number;
  /** A hold was refused for this connection's budget since its last reply was read. */
  refusedSinceProgress: boolean;
}

const ADMITTED: Verdict = { ok: true };

/**
 * The ledger. Laws, for any sequence of events:
 * - the node's bytes are the sum of its connections' bytes, and never exceed
 *   requestBytesInFlightMax because of a hold (a hold past a budget is refused, not recorded);
 * - a connection's bytes never exceed connectionBytesInFlightMax the same way;
 * - a connection is forgotten once it has no calls and holds no bytes (bounded memory).
 *
 * Fair shedding (the connectionRequestsInFlightMax comment): while more than half of
 * requestsInFlightMax public calls are in flight, a connection already holding its fair share,
 * the larger of connectionRequestsInFlightMax and requestsInFlightMax divided by the
 * connections with public calls in flight, gets no more. One connection alone may use the whole
 * bound; with two or more, a greedy one stops at its share long before the global bound sheds
 * everyone's requests.
 */
export class AdmissionLedger<Connection> {
  readonly #limits: AdmissionLimits;
  readonly #connections = new Map<Connection, ConnectionState>();
  #nodeBytes = 0;
  #publicCalls = 0;
  #publicConnections = 0;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  /** Bytes held by the node. */
  get nodeBytes(): number {
    return this.#nodeBytes;
  }

  /** Public (KV) calls in flight on the node. */
  get publicCalls(): number {
    return this.#publicCalls;
  }

  /** Bytes held by one connection. */
  bytesOf(connection: Connection): number {
    return this.#connections.get(connection)?.bytes ?? 0;
  }

  /** Connections the ledger tracks (with calls or bytes). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * A call arrives, before any of its messages is read. Admitted, it counts until end(); a
   * refused call leaves no trace.
   */
  begin(connection: Connection, isPublic: boolean): Verdict {
    const state = this.#connections.get(connection);
    const limits = this.#limits;
    if (this.#nodeBytes >= limits.requestBytesInFlightMax) {
      return refusal(
        "node-bytes",
        `overloaded: ${mib(this.#nodeBytes)} of requests and replies in flight (limit ${mib(limits.requestBytesInFlightMax)})`,
      );
    }
    const connectionBytes = state?.bytes ?? 0;
    if (connectionBytes >= limits.connectionBytesInFlightMax) {
      return refusal(
        "connection-bytes",
        `overloaded: this connection holds ${mib(connectionBytes)} of requests and unread replies (limit ${mib(limits.connectionBytesInFlightMax)})`,
      );
    }
    if (isPublic) {
      const mine = state?.publicCalls ?? 0;
      const busy = this.#publicCalls > limits.requestsInFlightMax / 2;
      const share = this.fairShare();
      if (busy && mine >= share) {
        return refusal(
          "fair-share",
          `overloaded: this connection has ${mine} requests in flight, its fair share while the node is busy (${this.#publicCalls} in flight, limit ${limits.requestsInFlightMax})`,
        );
      }
    }
    const admitted = state ?? this.#track(connection);
    admitted.calls += 1;
    if (isPublic) {
      if (admitted.publicCalls === 0) this.#publicConnections += 1;
      admitted.publicCalls += 1;
      this.#publicCalls += 1;
    }
    return ADMITTED;
  }

  /**
   * The public calls one connection may have in flight while the node is busy: the bound split
   * over the connections with calls in flight plus one, so a share stays free for a newcomer.
   * Without the one, a greedy connection alone would take the whole bound, and a polite client
   * arriving later (with nothing in flight, so not counted) would be refused for as long as the
   * flood goes on.
   */
  fairShare(): number {
    const limits = this.#limits;
    const share = Math.floor(limits.requestsInFlightMax / (this.#publicConnections + 1));
    return Math.max(limits.connectionRequestsInFlightMax, share);
  }

  /** An admitted call ended (answered, cancelled or reset). Its bytes are released separately. */
  end(connection: Connection, isPublic: boolean): void {
    const state = this.#connections.get(connection);
    if (state === undefined || state.calls === 0) throw new Error("end() without begin()");
    state.calls -= 1;
    if (isPublic) {
      if (state.publicCalls === 0) throw new Error("public end() without public begin()");
      state.publicCalls -= 1;
      this.#publicCalls -= 1;
      if (state.publicCalls === 0) this.#publicConnections -= 1;
    }
    this.#forgetIfIdle(connection, state);
  }

  /**
   * Takes `bytes` more for a call of `connection` (a request message about to be received, or
   * a reply about to be sent). Refused when it would take the node or the connection past its
   * budget; then nothing is recorded.
   */
  hold(connection: Connection, bytes: number): Verdict {
    const state = this.#connections.get(connection);
    if (state === undefined || state.calls === 0) throw new Error("hold() outside a call");
    const limits = this.#limits;
    if (this.#nodeBytes + bytes > limits.requestBytesInFlightMax) {
      return refusal(
        "node-bytes",
        `overloaded: ${mib(this.#nodeBytes + bytes)} of requests and replies would be in flight (limit ${mib(limits.requestBytesInFlightMax)})`,
      );
    }
    if (state.bytes + bytes > limits.connectionBytesInFlightMax) {
      state.refusedSinceProgress = true;
      return refusal(
        "connection-bytes",
        `overloaded: this connection would hold ${mib(state.bytes + bytes)} of requests and unread replies (limit ${mib(limits.connectionBytesInFlightMax)})`,
      );
    }
    state.bytes += bytes;
    this.#nodeBytes += bytes;
    return ADMITTED;
  }

  /** Gives back bytes taken with hold(). */
  release(connection: Connection, bytes: number): void {
    const state = this.#connections.get(connection);
    if (state === undefined || state.bytes < bytes) throw new Error("release() of bytes not held");
    state.bytes -= bytes;
    this.#nodeBytes -= bytes;
    this.#forgetIfIdle(connection, state);
  }

  /** The connection read a reply: it is not stalled. */
  progress(connection: Connection): void {
    const state = this.#connections.get(connection);
    if (state !== undefined) state.refusedSinceProgress = false;
  }

  /**
   * True when the connection had a hold refused for its budget and has read no reply since:
   * it keeps itself past its budget, so it is closed rather than its streams reset one by one.
   */
  isStalled(connection: Connection): boolean {
    return this.#connections.get(connection)?.refusedSinceProgress ?? false;
  }

  #track(connection: Connection): ConnectionState {
    const state: ConnectionState = {
      calls: 0,
      publicCalls: 0,
      bytes: 0,
      refusedSinceProgress: false,
    };
    this.#connections.set(connection, state);
    return state;
  }

  #forgetIfIdle(connection: Connection, state: ConnectionState): void {
    if (state.calls === 0 && state.bytes === 0) this.#connections.delete(connection);
  }
}

/** A refusal for a message larger than its service accepts. */
/** The refusal of a compressed request message: dkv bounds messages by what they hold. */
export function compressedRefused(service: string): Refusal {
  return refusal(
    "message-size",
    `compressed request messages are not accepted by ${service}: send them uncompressed`,
  );
}

/** The refusal of a request message longer than its service's limit. */
export function messageTooLarge(bytes: number, service: string, bytesMax: number): Refusal {
  return refusal(
    "message-size",
    `request message is ${bytes} bytes, over the limit of ${bytesMax} for ${service}`,
  );
}

function refusal(reason: RefusalReason, message: string): Refusal {
  return { ok: false, reason, message };
}

const MiB = 1024 * 1024;

/** Bytes in MiB with one decimal, for messages. */
export function mib(bytes: number): string {
  const value = bytes / MiB;
  return `${Math.round(value * 10) / 10} MiB`;
}
