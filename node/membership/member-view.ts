// Which peers this node believes up: one phi-accrual detector per peer plus the rule that a
// refused connection convicts at once. No IO and no clock: the heartbeat loop feeds it events
// with their times and acts on the transitions it returns, so it is tested without sockets.

import { PhiAccrualDetector } from "../core/phi-accrual.js";
import type { NodeId } from "../core/node-id.js";
import type { FailureDetectorOptions } from "./failure-detector-options.js";

/** What this node believes about a peer. */
export type PeerState = "up" | "down";

/** A change of belief, to be logged and acted upon (hint delivery starts on "up"). */
export interface PeerTransition {
  readonly node: NodeId;
  readonly state: PeerState;
  /** phi at the moment of the transition (for "up": just before the heartbeat arrived). */
  readonly phi: number;
  /** Why: "phi 8.1 ≥ 8", "connection refused", "heartbeats resumed". */
  readonly reason: string;
  /** Silence before the transition (down) or time spent down (up). */
  readonly elapsedMs: number;
}

/** One peer as reported by `dkv status`. */
export interface PeerReport {
  readonly node: NodeId;
  readonly state: PeerState;
  readonly phi: number;
  /** Why the peer is down; empty when up. */
  readonly reason: string;
  /** Round trip of the last answered ping; 0 before the first. */
  readonly roundTripMs: number;
  readonly silenceMs: number;
}

interface Peer {
  readonly detector: PhiAccrualDetector;
  state: PeerState;
  reason: string;
  roundTripMs: number;
  sinceMs: number;
  /** False until the peer first answers: refusals before that are a peer still starting. */
  answered: boolean;
  /** The last refusal, while the peer has never answered (shown when phi convicts it). */
  refusedBeforeAnswering: string;
}

/** The up/down view of every peer. Every peer starts up, as if it had just answered. */
export class MemberView {
  readonly self: NodeId;
  readonly #options: FailureDetectorOptions;
  readonly #peers = new Map<NodeId, Peer>();
  #upNodes: ReadonlySet<NodeId>;

  constructor(
    self: NodeId,
    peers: readonly NodeId[],
    options: FailureDetectorOptions,
    nowMs: number,
  ) {
    this.self = self;
    this.#options = options;
    for (const node of peers) if (node !== self) this.#add(node, nowMs);
    this.#upNodes = this.#computeUpNodes();
  }

  /**
   * The members changed (a layout was committed): new peers start as at construction, peers
   * that left are forgotten, the others keep their state. Returns whether the set changed.
   */
  setPeers(peers: readonly NodeId[], nowMs: number): boolean {
    const wanted = new Set(peers.filter((node) => node !== this.self));
    let changed = false;
    for (const node of [...this.#peers.keys()]) {
      if (!wanted.has(node)) changed = this.#peers.delete(node) || changed;
    }
    for (const node of wanted) {
      if (this.#peers.has(node)) continue;
      this.#add(node, nowMs);
      changed = true;
    }
    if (changed) this.#upNodes = this.#computeUpNodes();
    return changed;
  }

  #add(node: NodeId, nowMs: number): void {
    const detector = new PhiAccrualDetector(this.#options);
    // Starting from a virtual heartbeat makes a peer that never answers a suspect after the
    // usual silence, instead of staying "up" forever.
    detector.resume(nowMs);
    this.#peers.set(node, {
      detector,
      state: "up",
      reason: "",
      roundTripMs: 0,
      sinceMs: nowMs,
      answered: false,
      refusedBeforeAnswering: "",
    });
  }

  /** The peers, sorted. */
  peers(): NodeId[] {
    return [...this.#peers.keys()].sort();
  }

  /** A ping answered at nowMs after roundTripMs. Returns the transition to up, if any. */
  heartbeat(node: NodeId, nowMs: number, roundTripMs: number): PeerTransition | undefined {
    const peer = this.#peer(node);
    peer.roundTripMs = roundTripMs;
    peer.answered = true;
    peer.refusedBeforeAnswering = "";
    if (peer.state === "up") {
      peer.detector.heartbeat(nowMs);
      return undefined;
    }
    const phi = peer.detector.phi(nowMs);
    peer.detector.resume(nowMs);
    return this.#transition(node, peer, "up", phi, "heartbeats resumed", nowMs);
  }

  /**
   * The peer sent us a request at nowMs: it is alive and its traffic reaches us. Under load a
   * peer's ping replies queue behind its work while its requests keep coming, so this keeps a
   * busy peer from being suspected. It never brings a down peer up: only an answered ping shows
   * that our traffic reaches it too.
   */
  heardFrom(node: NodeId, nowMs: number): void {
    const peer = this.#peers.get(node);
    if (peer !== undefined && peer.state === "up") peer.detector.evidence(nowMs);
  }

  /**
   * The peer cannot be talked to at all (connection refused, traffic dropped by fault
   * injection, a different node at its address): down at once, without waiting for phi, once
   * it has answered before. Until then a refusal is most likely a peer still starting (nodes of
   * a cluster start together), so it is left to phi, which convicts a peer that never comes.
   */
  refused(node: NodeId, reason: string, nowMs: number): PeerTransition | undefined {
    const peer = this.#peer(node);
    if (!peer.answered) {
      peer.refusedBeforeAnswering = reason;
      return undefined;
    }
    if (peer.state === "down") {
      peer.reason = reason;
      return undefined;
    }
    return this.#transition(node, peer, "down", peer.detector.phi(nowMs), reason, nowMs);
  }

  /**
   * Traffic to the peer is cut on purpose (a node-level partition): down at once, even before
   * it first answered, since this is known rather than inferred. It comes up again with its
   * next answered ping, like any down peer.
   */
  cutOff(node: NodeId, reason: string, nowMs: number): PeerTransition | undefined {
    const peer = this.#peer(node);
    if (peer.state === "down") {
      peer.reason = reason;
      return undefined;
    }
    return this.#transition(node, peer, "down", peer.detector.phi(nowMs), reason, nowMs);
  }

  /** This process stalled for pauseMs: do not count that as silence of any peer. */
  localStall(pauseMs: number, nowMs: number): void {
    for (const peer of this.#peers.values()) peer.detector.discount(pauseMs, nowMs);
  }

  /** Convicts every up peer whose phi reached the threshold. */
  check(nowMs: number): PeerTransition[] {
    const transitions: PeerTransition[] = [];
    for (const [node, peer] of this.#peers) {
      if (peer.state !== "up") continue;
      const phi = peer.detector.phi(nowMs);
      if (phi < this.#options.phiThreshold) continue;
      const last = peer.refusedBeforeAnswering;
      const reason =
        `phi ${phi.toFixed(1)} ≥ ${this.#options.phiThreshold}` +
        (last === "" ? "" : `, never answered (${last})`);
      transitions.push(this.#transition(node, peer, "down", phi, reason, nowMs));
    }
    return transitions;
  }

  /** True for this node and for peers believed up. */
  isUp(node: NodeId): boolean {
    return this.#upNodes.has(node);
  }

  /** This node and every peer believed up; the same object until the next transition. */
  upNodes(): ReadonlySet<NodeId> {
    return this.#upNodes;
  }

  /** What `dkv status` shows for a peer. */
  report(node: NodeId, nowMs: number): PeerReport {
    const peer = this.#peer(node);
    return {
      node,
      state: peer.state,
      phi: Math.max(0, peer.detector.phi(nowMs)),
      reason: peer.reason,
      roundTripMs: peer.roundTripMs,
      silenceMs: peer.detector.silenceMs(nowMs),
    };
  }

  #transition(
    node: NodeId,
    peer: Peer,
    state: PeerState,
    phi: number,
    reason: string,
    nowMs: number,
  ): PeerTransition {
    const elapsedMs = state === "down" ? peer.detector.silenceMs(nowMs) : nowMs - peer.sinceMs;
    peer.state = state;
    peer.reason = state === "down" ? reason : "";
    peer.sinceMs = nowMs;
    this.#upNodes = this.#computeUpNodes();
    return { node, state, phi: Math.max(0, phi), reason, elapsedMs };
  }

  #peer(node: NodeId): Peer {
    const peer = this.#peers.get(node);
    if (peer === undefined) throw new Error(`${node} is not a peer of ${this.self}`);
    return peer;
  }

  #computeUpNodes(): ReadonlySet<NodeId> {
    const up = new Set<NodeId>([this.self]);
    for (const [node, peer] of this.#peers) if (peer.state === "up") up.add(node);
    return up;
  }
}
