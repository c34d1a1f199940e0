// The connection bounds of a node's gRPC port, on the HTTP/2 server grpc-js listens with: a
// socket over the per-address or total bound, from an address whose calls keep failing
// authentication, or from an address not trusted yet once the node has spent its handshakes
// per second on such addresses, is closed at accept, before any TLS work; one that has not
// become an HTTP/2 session (TLS handshake done) in time is closed too. Trusted: an address that
// authenticated a call lately, and the addresses of the cluster's members. Counted for metrics,
// logged at most once per 10 s per reason, naming only the address.

import net from "node:net";
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
import { AddressStanding } from "./address-standing.js";
import { TokenBucket } from "../anti-entropy/token-bucket.js";

/** How often a refusal of one kind is logged at most. */
const REFUSAL_LOG_MS = 10_000;
/**
 * How long an address that authenticated a call stays exempt from the auth-failure refusal: a
 * client reconnecting after an idle GOAWAY, or one sharing its address with an attacker, keeps
 * its way in as long as it called within this time.
 */
const AUTH_TRUST_MS = 10 * 60_000;

/** What the metrics read (security-metrics.ts). */
export interface ConnectionStats {
  /** Connections closed by the node, by reason, since start. */
  readonly refused: ReadonlyMap<ConnectionRefusalReason, number>;
  /** Connections open now. */
  open(): number;
}

type Logs = Pick<Logger, "warn">;

/** What #refuseEarly uses of a libuv TCP handle Node has accepted (node internals). */
interface RawHandle {
  getpeername(out: { address?: unknown }): number;
  reset(done: () => void): number;
}

/** Bounds the connections of every server it is attached to, together. */
export class ConnectionGate implements ConnectionStats {
  readonly #ledger: ConnectionLedger;
  readonly #standing: AddressStanding;
  readonly #handshakeMsMax: number;
  readonly #clock: Clock;
  readonly #logger: Logs | undefined;
  readonly #refused = new Map<ConnectionRefusalReason, number>();
  readonly #throttles = new Map<ConnectionRefusalReason, LogThrottle>();
  /** Handshake timers of accepted sockets, by "address|port" (what the session's socket says). */
  readonly #pending = new Map<string, () => void>();
  /** TLS handshakes under way, by address (only addresses with one are kept). */
  readonly #handshaking = new Map<string, number>();
  readonly #handshakesMax: number;
  readonly #judgesStanding: boolean;
  /** Handshakes the node still spends on addresses it does not trust (all of them together). */
  readonly #strangers: TokenBucket;
  readonly #strangersPerSecond: number;
  /** The IP addresses of the cluster's members (trustMembers). */
  #memberAddresses: ReadonlySet<string> = new Set();
  /** Servers whose raw handles #refuseEarly judges: their 'connection' is judged already. */
  readonly #judgedEarly = new WeakSet<net.Server>();
  #refusesEarly = false;

  constructor(
    limits: Pick<
      Limits,
      | "addressConnectionsMax"
      | "connectionsMax"
      | "connectionHandshakeMsMax"
      | "addressAuthFailuresMax"
      | "connectionAuthFailuresMax"
      | "addressHandshakesMax"
      | "strangerHandshakeRateMax"
    >,
    clock: Clock,
    logger?: Logs,
    options: {
      /**
       * Judge addresses by how their calls authenticate (the auth-failure standing and the
       * handshake bound of strangers). Off for an --insecure node: nothing authenticates there,
       * so every address would be a stranger and every connection a charge.
       */
      readonly standing?: boolean;
    } = {},
  ) {
    this.#judgesStanding = options.standing ?? true;
    this.#ledger = new ConnectionLedger(limits);
    // Twice what one connection may fail before it is closed: a misconfigured client sees its
    // UNAUTHENTICATED answers on a connection or two before its reconnects are refused.
    this.#standing = new AddressStanding({
      ratePerSecond: limits.addressAuthFailuresMax,
      burst: 2 * limits.connectionAuthFailuresMax,
      trustMs: AUTH_TRUST_MS,
    });
    this.#handshakeMsMax = limits.connectionHandshakeMsMax;
    this.#handshakesMax = limits.addressHandshakesMax;
    this.#strangersPerSecond = limits.strangerHandshakeRateMax;
    this.#strangers = new TokenBucket(
      limits.strangerHandshakeRateMax,
      2 * limits.strangerHandshakeRateMax,
      clock,
    );
    this.#clock = clock;
    this.#logger = logger;
  }

  get refused(): ReadonlyMap<ConnectionRefusalReason, number> {
    return this.#refused;
  }

  open(): number {
    return this.#ledger.open;
  }

  /** A call from `address` proved who its caller is (the call guard's CallerStanding). */
  authenticated(address: string): void {
    this.#standing.authenticated(address, this.#clock.monotonicMs());
  }

  /**
   * The cluster's members are at these advertised addresses ("host:port"): connections from
   * their hosts are trusted, so a restarted node, which remembers no address's calls, lets its
   * own cluster back in under a flood. Only IP literals count (a host name is not resolved).
   * Trust only spares an address the bounds of this gate; its calls are authenticated as any.
   */
  trustMembers(advertised: Iterable<string>): void {
    const addresses = new Set<string>();
    for (const entry of advertised) {
      const host = hostOf(entry);
      if (net.isIPv4(host)) addresses.add(host).add(`::ffff:${host}`);
      else if (net.isIPv6(host)) addresses.add(host);
    }
    this.#memberAddresses = addresses;
  }

  /** Trusts the members of `view` (trustMembers) now and after every change of its layout. */
  followMembers(view: {
    readonly members: readonly { readonly address: string }[];
    onLayoutChange(listener: () => void): unknown;
  }): void {
    const trust = (): void => this.trustMembers(view.members.map((member) => member.address));
    trust();
    view.onLayoutChange(trust);
  }

  /** A call from `address` was refused UNAUTHENTICATED. */
  authFailed(address: string): void {
    this.#standing.failed(address, this.#clock.monotonicMs());
  }

  /**
   * Watches `server`'s accepted sockets and its HTTP/2 sessions. A refused socket is closed
   * before any 'connection' listener sees it: tls.Server's own listener would otherwise wrap it
   * in a TLSSocket (an OpenSSL session) even if it were destroyed first.
   */
  attach(server: net.Server): void {
    const emit = server.emit as (
      this: net.Server,
      event: string | symbol,
      ...args: unknown[]
    ) => boolean;
    const gate = this;
    server.emit = function (this: net.Server, event: string | symbol, ...args: unknown[]) {
      if (
        event === "connection" &&
        !gate.#accept(args[0] as net.Socket, gate.#judgedEarly.has(this))
      ) {
        return false;
      }
      return emit.call(this, event, ...args);
    } as typeof server.emit;
    server.on("session", (session: Http2Session) => {
      const socket = session.socket;
      this.#pending.get(keyOf(socket.remoteAddress, socket.remotePort))?.();
    });
    server.on("listening", () => this.#refuseEarly(server));
  }

  /** True once connections are refused from their raw handle (see #refuseEarly). */
  get refusesEarly(): boolean {
    return this.#refusesEarly;
  }

  /**
   * Refuses a connection whose address alone condemns it from the raw handle libuv accepted,
   * before Node makes a net.Socket of it, and with a TCP reset instead of a FIN: under a flood
   * of reconnects that is what the node spends most on each (a Socket made and destroyed is
   * ~40 µs of its event loop), and a reset leaves no TIME_WAIT behind. Node internals
   * (`server._handle.onconnection`, the handle's `getpeername` and `reset`): when shaped
   * otherwise, nothing is wrapped and the 'connection' hook of attach() refuses the same
   * connections as before (connection-gate.test.ts fails on the pinned Node if the shape
   * changes, so an upgrade cannot lose this quietly).
   */
  #refuseEarly(server: net.Server): void {
    const handle: unknown = Reflect.get(server, "_handle");
    if (typeof handle !== "object" || handle === null) return;
    const onconnection: unknown = Reflect.get(handle, "onconnection");
    if (typeof onconnection !== "function") return;
    const gate = this;
    Reflect.set(handle, "onconnection", function (this: unknown, error: unknown, client: unknown) {
      const raw = client as Partial<RawHandle> | undefined;
      if (
        error === 0 &&
        typeof raw?.getpeername === "function" &&
        typeof raw.reset === "function"
      ) {
        const peer: { address?: unknown } = {};
        const address = raw.getpeername(peer) === 0 ? peer.address : undefined;
        if (typeof address === "string" && gate.#refusal(address) !== undefined) {
          raw.reset(() => undefined);
          return;
        }
      }
      return (onconnection as (...args: unknown[]) => unknown).call(this, error, client);
    });
    this.#judgedEarly.add(server);
    this.#refusesEarly = true;
  }

  /**
   * The refusal the address of a new connection earns on its own (counted and logged), or
   * undefined: its calls keep failing authentication; or it is not trusted and has its share of
   * handshakes under way, or the node has spent its handshakes per second on strangers.
   */
  #refusal(address: string): "auth-failures" | "handshake-limit" | "stranger-rate" | undefined {
    if (!this.#judgesStanding || this.#memberAddresses.has(address)) return undefined;
    const nowMs = this.#clock.monotonicMs();
    let reason: "auth-failures" | "handshake-limit" | "stranger-rate" | undefined;
    if (!this.#standing.admits(address, nowMs)) reason = "auth-failures";
    else if (this.#standing.trusted(address, nowMs)) reason = undefined;
    else if ((this.#handshaking.get(address) ?? 0) >= this.#handshakesMax) {
      // Until one of its calls authenticates, an address gets a few handshakes at once: a
      // flood opening a thousand connections together costs the node a few handshakes, not a
      // thousand, before its refused calls spend its standing.
      reason = "handshake-limit";
    } else if (!this.#strangers.tryTake(1)) {
      // And many addresses together get a bounded number per second (checked last: a
      // connection refused for its own address spends none of the strangers' share).
      reason = "stranger-rate";
    }
    if (reason !== undefined) this.#refuse(reason, address, undefined);
    return reason;
  }

  #trusts(address: string, nowMs: number): boolean {
    return (
      !this.#judgesStanding ||
      this.#memberAddresses.has(address) ||
      this.#standing.trusted(address, nowMs)
    );
  }

  /**
   * Admits `socket` (false: it is destroyed, and counted and logged as refused); `judged`: its
   * address was judged at the raw handle a moment ago (#refuseEarly), and is not again, so that
   * it spends no second share of the strangers' handshakes.
   */
  #accept(socket: net.Socket, judged: boolean): boolean {
    const address = socket.remoteAddress;
    if (address === undefined) {
      socket.destroy();
      return false;
    }
    if (!judged && this.#refusal(address) !== undefined) {
      socket.destroy();
      return false;
    }
    const nowMs = this.#clock.monotonicMs();
    const handshaking = this.#handshaking.get(address) ?? 0;
    const trusted = this.#trusts(address, nowMs);
    const verdict = this.#ledger.admit(address);
    if (!verdict.admitted) {
      socket.destroy();
      this.#refuse(verdict.reason, address, verdict);
      return false;
    }
    this.#handshaking.set(address, handshaking + 1);
    // A connection from an address not trusted spends one of its standing in advance: each
    // costs a handshake whatever its calls then do, so retrying alone cannot keep it in.
    if (!trusted) this.#standing.failed(address, nowMs);
    let handshakeDone = false;
    const key = keyOf(address, socket.remotePort);
    const cancelTimer = this.#clock.setTimer(this.#handshakeMsMax, () => {
      settle();
      this.#refuse("handshake-timeout", address, undefined);
      socket.destroy();
    });
    const settle = (): void => {
      cancelTimer();
      if (this.#pending.get(key) === settle) this.#pending.delete(key);
      if (handshakeDone) return;
      handshakeDone = true;
      const left = (this.#handshaking.get(address) ?? 1) - 1;
      if (left <= 0) this.#handshaking.delete(address);
      else this.#handshaking.set(address, left);
    };
    this.#pending.set(key, settle);
    socket.once("close", () => {
      settle();
      this.#ledger.release(address);
    });
    return true;
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
      verdict !== undefined
        ? { held: verdict.held, limit: verdict.limit }
        : reason === "handshake-timeout"
          ? { handshakeMsMax: this.#handshakeMsMax }
          : reason === "handshake-limit"
            ? { handshakesMax: this.#handshakesMax }
            : reason === "stranger-rate"
              ? { strangerHandshakeRateMax: this.#strangersPerSecond }
              : {};
    this.#logger.warn(
      { reason, address, ...numbers, alsoRefused: decision.suppressed },
      "connection closed by the node (logged at most every 10 s per reason)",
    );
  }
}

/** The host of an advertised "host:port" ("[v6]:port" for IPv6). */
function hostOf(advertised: string): string {
  const colon = advertised.lastIndexOf(":");
  const host = colon < 0 ? advertised : advertised.slice(0, colon);
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function keyOf(address: string | undefined, port: number | undefined): string {
  return `${address ?? "?"}|${port ?? "?"}`;
}
