// The connection bounds of a node's gRPC port, on the HTTP/2 server grpc-js listens with: a
// socket over the per-address or total bound is closed at accept, before any TLS work; one that
// has not become an HTTP/2 session (TLS handshake done) in time is closed too. Counted for
// metrics, logged at most once per 10 s per reason, naming only the address.

import type net from "node:net";
import type { Http2Session } from "node:http2";
import type { Clock } from "../clock.js";
import type { Limits } from "../core/limits.js";
import type { Logger } from "../logger.js";
import { LogThrottle } from "../metrics/log-throttle.js";
import {
  ConnectionLedger,
  type ConnectionRefusalReason,
  type ConnectionVerdict,
} from "./connection-ledger.js";

/** How often a refusal of one kind is logged at most. */
const REFUSAL_LOG_MS = 10_000;

/** What the metrics read (security-metrics.ts). */
export interface ConnectionStats {
  /** Connections closed by the node, by reason, since start. */
  readonly refused: ReadonlyMap<ConnectionRefusalReason, number>;
  /** Connections open now. */
  open(): number;
}

type Logs = Pick<Logger, "warn">;

/** Bounds the connections of every server it is attached to, together. */
export class ConnectionGate implements ConnectionStats {
  readonly #ledger: ConnectionLedger;
  readonly #handshakeMsMax: number;
  readonly #clock: Clock;
  readonly #logger: Logs | undefined;
  readonly #refused = new Map<ConnectionRefusalReason, number>();
  readonly #throttles = new Map<ConnectionRefusalReason, LogThrottle>();
  /** Handshake timers of accepted sockets, by "address|port" (what the session's socket says). */
  readonly #pending = new Map<string, () => void>();

  constructor(
    limits: Pick<Limits, "addressConnectionsMax" | "connectionsMax" | "connectionHandshakeMsMax">,
    clock: Clock,
    logger?: Logs,
  ) {
    this.#ledger = new ConnectionLedger(limits);
    this.#handshakeMsMax = limits.connectionHandshakeMsMax;
    this.#clock = clock;
    this.#logger = logger;
  }

  get refused(): ReadonlyMap<ConnectionRefusalReason, number> {
    return this.#refused;
  }

  open(): number {
    return this.#ledger.open;
  }

  /**
   * Watches `server`'s accepted sockets (first of its 'connection' listeners, so a refused
   * socket is closed before the TLS layer reads it) and its HTTP/2 sessions.
   */
  attach(server: net.Server): void {
    server.prependListener("connection", (socket: net.Socket) => this.#accept(socket));
    server.on("session", (session: Http2Session) => {
      const socket = session.socket;
      this.#pending.get(keyOf(socket.remoteAddress, socket.remotePort))?.();
    });
  }

  #accept(socket: net.Socket): void {
    const address = socket.remoteAddress;
    if (address === undefined) {
      socket.destroy();
      return;
    }
    const verdict = this.#ledger.admit(address);
    if (!verdict.admitted) {
      socket.destroy();
      this.#refuse(verdict.reason, address, verdict);
      return;
    }
    const key = keyOf(address, socket.remotePort);
    const cancelTimer = this.#clock.setTimer(this.#handshakeMsMax, () => {
      settle();
      this.#refuse("handshake-timeout", address, undefined);
      socket.destroy();
    });
    const settle = (): void => {
      cancelTimer();
      if (this.#pending.get(key) === settle) this.#pending.delete(key);
    };
    this.#pending.set(key, settle);
    socket.once("close", () => {
      settle();
      this.#ledger.release(address);
    });
  }

  #refuse(
    reason: ConnectionRefusalReason,
    address: string,
    verdict: Exclude<ConnectionVerdict, { admitted: true }> | undefined,
  ): void {
    this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + 1);
    if (this.#logger === undefined) return;
    let throttle = this.#throttles.get(reason);
    if (throttle === undefined) {
      throttle = new LogThrottle(REFUSAL_LOG_MS);
      this.#throttles.set(reason, throttle);
    }
    const decision = throttle.admit(this.#clock.monotonicMs());
    if (!decision.log) return;
    const numbers =
      verdict === undefined
        ? { handshakeMsMax: this.#handshakeMsMax }
        : { held: verdict.held, limit: verdict.limit };
    this.#logger.warn(
      { reason, address, ...numbers, alsoRefused: decision.suppressed },
      "connection closed by the node (logged at most every 10 s per reason)",
    );
  }
}

function keyOf(address: string | undefined, port: number | undefined): string {
  return `${address ?? "?"}|${port ?? "?"}`;
}
