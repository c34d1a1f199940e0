// The heartbeat loop: pings every peer (one ping in flight per peer, each with a deadline),
// feeds answers and refusals to the MemberView, evaluates phi on a short timer, and logs and
// announces every up/down transition. The IO shell around member-view.ts: peers are reached
// through a PingPort (Admin.Ping over gRPC in production: ping-client.ts), time comes from the
// injected clock (monotonic for failure detection, wall for ping deadlines).

import type { NodeId } from "../core/node-id.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { FailureDetectorOptions } from "./failure-detector-options.js";
import type { MemberView, PeerTransition } from "./member-view.js";

/** What one ping's reply says about the peer. */
export type PingReply =
  | { readonly kind: "answered" }
  /** Definitely down: connection refused, cut off, or another node at the address. */
  | { readonly kind: "refused"; readonly reason: string }
  /** No heartbeat (a deadline, a dropped connection): phi decides. */
  | { readonly kind: "silent"; readonly reason: string };

/** How the loop reaches peers. */
export interface PingPort {
  /**
   * Pings `node` once and classifies its reply; never rejects. Gives up (silent) at
   * `deadlineMs`, a wall-clock time of this node.
   */
  ping(node: NodeId, deadlineMs: number): Promise<PingReply>;
}

/** The outcome of one ping, with its round trip when answered. */
export type PingOutcome =
  | { readonly kind: "answered"; readonly roundTripMs: number }
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "silent"; readonly reason: string };

interface PeerPing {
  inFlight: boolean;
  lastSentMs: number;
}

/** Pings peers and drives a MemberView; start() once, stop() once. */
export class HeartbeatLoop {
  readonly #members: MemberView;
  readonly #port: PingPort;
  readonly #clock: Clock;
  readonly #options: FailureDetectorOptions;
  readonly #logger: Logger;
  readonly #onTransition: (transition: PeerTransition) => void;
  readonly #pings = new Map<NodeId, PeerPing>();
  #cancelTimer: (() => void) | undefined;
  #expectedMs = 0;
  #stopped = false;

  constructor(options: {
    /** The detector it drives; its times are this clock's monotonic times. */
    readonly members: MemberView;
    readonly port: PingPort;
    readonly clock: Clock;
    readonly options: FailureDetectorOptions;
    readonly logger: Logger;
    readonly onTransition: (transition: PeerTransition) => void;
  }) {
    this.#members = options.members;
    this.#port = options.port;
    this.#clock = options.clock;
    this.#options = options.options;
    this.#logger = options.logger;
    this.#onTransition = options.onTransition;
    for (const node of this.#members.peers()) {
      this.#pings.set(node, { inFlight: false, lastSentMs: -Infinity });
    }
  }

  /** Starts the timer; the first pings go out one heartbeat interval later. */
  start(): void {
    if (this.#cancelTimer !== undefined || this.#stopped) return;
    const nowMs = this.#clock.monotonicMs();
    // The first pings go out one interval after start: nodes of a cluster usually start
    // together, and a peer still binding its port is not worth a "down" line.
    for (const ping of this.#pings.values()) ping.lastSentMs = nowMs;
    this.#expectedMs = nowMs;
    this.#tick();
  }

  /** Stops the timer; answers to pings still in flight are ignored. */
  stop(): void {
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  /**
   * Follows the member view's peers after a membership change: a new peer gets its first ping
   * one heartbeat interval from now, a peer that left is no longer pinged.
   */
  syncPeers(): void {
    const peers = new Set(this.#members.peers());
    for (const node of [...this.#pings.keys()]) if (!peers.has(node)) this.#pings.delete(node);
    const nowMs = this.#clock.monotonicMs();
    for (const node of peers) {
      if (!this.#pings.has(node)) this.#pings.set(node, { inFlight: false, lastSentMs: nowMs });
    }
  }

  /** Pings a peer now rather than at its next turn (a healed node-level partition). */
  pingNow(node: NodeId): void {
    const ping = this.#pings.get(node);
    if (ping === undefined || ping.inFlight || this.#stopped) return;
    this.#ping(node, ping, this.#clock.monotonicMs());
  }

  /** Applies a transition decided outside the loop (e.g. a peer dropped by fault injection). */
  apply(transition: PeerTransition | undefined): void {
    if (transition === undefined) return;
    const fields = {
      peer: transition.node,
      phi: Number(transition.phi.toFixed(2)),
      reason: transition.reason,
    };
    if (transition.state === "down") {
      this.#logger.warn({ ...fields, silentMs: Math.round(transition.elapsedMs) }, "peer down");
    } else {
      this.#logger.info({ ...fields, downForMs: Math.round(transition.elapsedMs) }, "peer up");
    }
    this.#onTransition(transition);
  }

  #tick(): void {
    if (this.#stopped) return;
    const nowMs = this.#clock.monotonicMs();
    // A timer that fires late means this process was not running (busy loop, GC, SIGSTOP):
    // that time is nobody's silence.
    const stalledMs = nowMs - this.#expectedMs - this.#options.localStallMsMin;
    if (stalledMs > 0) {
      this.#members.localStall(stalledMs, nowMs);
      this.#logger.debug(
        { stalledMs: Math.round(stalledMs) },
        "local stall not counted as silence",
      );
    }
    for (const [node, ping] of this.#pings) {
      if (!ping.inFlight && nowMs - ping.lastSentMs >= this.#options.heartbeatIntervalMs) {
        this.#ping(node, ping, nowMs);
      }
    }
    // Evaluate after the poll phase, so replies that arrived while this process was busy are
    // counted before anyone is convicted (timers run before I/O callbacks in Node's loop).
    this.#clock.defer(() => {
      if (this.#stopped) return;
      const checkedMs = this.#clock.monotonicMs();
      for (const transition of this.#members.check(checkedMs)) this.apply(transition);
    });
    this.#expectedMs = nowMs + this.#options.checkIntervalMs;
    this.#cancelTimer = this.#clock.setTimer(this.#options.checkIntervalMs, () => this.#tick());
  }

  #ping(node: NodeId, ping: PeerPing, sentMs: number): void {
    ping.lastSentMs = sentMs;
    ping.inFlight = true;
    const deadlineMs = this.#clock.nowMs() + this.#options.pingTimeoutMs;
    void this.#port.ping(node, deadlineMs).then((reply) => {
      ping.inFlight = false;
      // A peer that left the cluster while its ping was out is no longer anyone's concern.
      if (this.#stopped || this.#pings.get(node) !== ping) return;
      const roundTripMs = this.#clock.monotonicMs() - sentMs;
      this.#record(node, reply.kind === "answered" ? { kind: "answered", roundTripMs } : reply);
    });
  }

  #record(node: NodeId, outcome: PingOutcome): void {
    const nowMs = this.#clock.monotonicMs();
    if (outcome.kind === "answered") {
      if (outcome.roundTripMs >= this.#options.heartbeatIntervalMs) {
        this.#logger.debug(
          { peer: node, roundTripMs: Math.round(outcome.roundTripMs) },
          "slow ping",
        );
      }
      this.apply(this.#members.heartbeat(node, nowMs, outcome.roundTripMs));
    } else if (outcome.kind === "refused") {
      this.apply(this.#members.refused(node, outcome.reason, nowMs));
    } else {
      this.#logger.debug({ peer: node, reason: outcome.reason }, "ping unanswered");
    }
  }
}
