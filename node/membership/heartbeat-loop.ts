// The heartbeat loop: pings every peer (Admin.Ping, one call in flight per peer, each with a
// deadline), feeds answers and refusals to the MemberView, evaluates phi on a short timer, and
// logs and announces every up/down transition. The IO shell around member-view.ts.

import * as grpc from "@grpc/grpc-js";
import type { NodeId } from "../core/node-id.js";
import type { PeerClients } from "../peer-clients.js";
import type { Logger } from "../logger.js";
import type { FailureDetectorOptions } from "./failure-detector-options.js";
import type { MemberView, PeerTransition } from "./member-view.js";

/** How the loop reaches peers: ClusterView (undefined = unreachable, e.g. dropped). */
export interface PeerDirectory {
  peer(node: NodeId): PeerClients | undefined;
  unreachableReason(node: NodeId): string;
}

/** The outcome of one ping, classified. */
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
  readonly #directory: PeerDirectory;
  readonly #options: FailureDetectorOptions;
  readonly #logger: Logger;
  readonly #onTransition: (transition: PeerTransition) => void;
  readonly #pings = new Map<NodeId, PeerPing>();
  #timer: NodeJS.Timeout | undefined;
  #expectedMs = 0;
  #stopped = false;

  constructor(options: {
    readonly members: MemberView;
    readonly directory: PeerDirectory;
    readonly options: FailureDetectorOptions;
    readonly logger: Logger;
    readonly onTransition: (transition: PeerTransition) => void;
  }) {
    this.#members = options.members;
    this.#directory = options.directory;
    this.#options = options.options;
    this.#logger = options.logger;
    this.#onTransition = options.onTransition;
    for (const node of this.#members.peers()) {
      this.#pings.set(node, { inFlight: false, lastSentMs: -Infinity });
    }
  }

  /** Starts the timer; the first pings go out one heartbeat interval later. */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    const nowMs = performance.now();
    // The first pings go out one interval after start: nodes of a cluster usually start
    // together, and a peer still binding its port is not worth a "down" line.
    for (const ping of this.#pings.values()) ping.lastSentMs = nowMs;
    this.#expectedMs = nowMs;
    this.#tick();
  }

  /** Stops the timer; answers to pings still in flight are ignored. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Pings a peer now rather than at its next turn (a healed node-level partition). */
  pingNow(node: NodeId): void {
    const ping = this.#pings.get(node);
    if (ping === undefined || ping.inFlight || this.#stopped) return;
    this.#ping(node, ping, performance.now());
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
    const nowMs = performance.now();
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
    setImmediate(() => {
      if (this.#stopped) return;
      for (const transition of this.#members.check(performance.now())) this.apply(transition);
    });
    this.#expectedMs = nowMs + this.#options.checkIntervalMs;
    this.#timer = setTimeout(() => this.#tick(), this.#options.checkIntervalMs);
    this.#timer.unref();
  }

  #ping(node: NodeId, ping: PeerPing, sentMs: number): void {
    ping.lastSentMs = sentMs;
    const peer = this.#directory.peer(node);
    if (peer === undefined) {
      this.#record(node, { kind: "refused", reason: this.#directory.unreachableReason(node) });
      return;
    }
    ping.inFlight = true;
    const deadline = Date.now() + this.#options.pingTimeoutMs;
    peer.admin.Ping({}, { deadline }, (error, reply) => {
      ping.inFlight = false;
      if (this.#stopped) return;
      const roundTripMs = performance.now() - sentMs;
      this.#record(node, classifyPing(node, error, reply?.node_id, roundTripMs));
    });
  }

  #record(node: NodeId, outcome: PingOutcome): void {
    const nowMs = performance.now();
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

/**
 * What a ping's result says about the peer. A refused connection, a refusal by a node-level
 * partition and a different node at the address are definite: down at once. A deadline or a
 * dropped connection only means no heartbeat; phi decides.
 */
export function classifyPing(
  node: NodeId,
  error: grpc.ServiceError | null,
  answeredAs: string | undefined,
  roundTripMs: number,
): PingOutcome {
  if (error === null) {
    if (answeredAs === node) return { kind: "answered", roundTripMs };
    return { kind: "refused", reason: `answered as ${answeredAs ?? "nobody"}: wrong address?` };
  }
  const text = `${error.details ?? ""} ${error.message ?? ""}`;
  if (error.code === grpc.status.UNAVAILABLE && /ECONNREFUSED|connection refused/i.test(text)) {
    return { kind: "refused", reason: "connection refused" };
  }
  if (error.code === grpc.status.UNAVAILABLE && /dropped by fault injection/.test(text)) {
    return { kind: "refused", reason: error.details };
  }
  return { kind: "silent", reason: error.details || error.message };
}
