// The simulated network between node incarnations: every call is a request and a reply, each
// delayed, possibly dropped, duplicated (when the call is idempotent), reordered by the spread
// of delays, or cut by a partition. A call that gets no reply resolves as a failure at its
// deadline, as a gRPC call with a deadline does; a call to a dead process fails fast. One
// node's links can be given their own faults, and a paused node's messages wait for it.

import type { NodeId } from "../../node/core/node-id.js";
import type { SeededRandom } from "../../node/core/seeded-random.js";
import type { SimScheduler } from "./sim-scheduler.js";
import type { SimTrace } from "./sim-trace.js";

/** The fault rates of the network; changed by the nemesis while a run goes on. */
export interface NetworkFaults {
  /** Probability that one message (request or reply) is lost. */
  readonly dropRate: number;
  /** Probability that an idempotent request is delivered a second time, later. */
  readonly duplicateRate: number;
  /** Usual one-way delay range in virtual milliseconds. */
  readonly delayMs: readonly [number, number];
  /** Probability that a message is held up far longer (which reorders it). */
  readonly spikeRate: number;
  /** Longest delay of a held-up message. */
  readonly spikeMsMax: number;
}

/** A network without faults: what the convergence phase runs on. */
export const CALM_NETWORK: NetworkFaults = {
  dropRate: 0,
  duplicateRate: 0,
  delayMs: [1, 5],
  spikeRate: 0,
  spikeMsMax: 0,
};

/** How a call ended when it got no reply. */
export type CallFailure =
  | { readonly ok: false; readonly kind: "refused"; readonly error: string }
  | { readonly ok: false; readonly kind: "deadline"; readonly error: string };

/** A call's outcome: the handler's reply, or a failure. */
export type CallResult<T> = { readonly ok: true; readonly value: T } | CallFailure;

/** What a delivered copy of a request needs: its route and the work it does at the far end. */
interface Delivery<E, T> {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly kind: string;
  readonly handle: (endpoint: E) => Promise<T>;
  /** Virtual time after which the receiver does not run it (see `call`'s `lateRefused`). */
  readonly deadlineMs?: number;
  readonly lateRefused?: boolean;
}

/** One end of the network: a node's current incarnation and what it serves. */
interface Attachment<E> {
  readonly incarnation: number;
  readonly endpoint: E;
}

/** Delivers calls between attached endpoints (the servers of node incarnations). */
export class SimNetwork<E> {
  readonly #scheduler: SimScheduler;
  readonly #random: SeededRandom;
  readonly #trace: SimTrace;
  readonly #attached = new Map<NodeId, Attachment<E>>();
  /** Directed cuts "from→to": messages on a cut link are lost. */
  readonly #cuts = new Set<string>();
  #faults: NetworkFaults = CALM_NETWORK;
  /** Faults of every link to and from one node, over the network's own. */
  readonly #nodeFaults = new Map<NodeId, NetworkFaults>();
  /** Paused nodes, and the deliveries (requests to them, their replies) held until resume. */
  readonly #paused = new Map<NodeId, (() => void)[]>();
  readonly stats = { sent: 0, dropped: 0, duplicated: 0, refused: 0, deadlines: 0 };

  /** Told about every request delivered to an endpoint, before it is handled. */
  readonly #received: ((endpoint: E, from: NodeId, kind: string) => void) | undefined;

  constructor(
    scheduler: SimScheduler,
    random: SeededRandom,
    trace: SimTrace,
    received?: (endpoint: E, from: NodeId, kind: string) => void,
  ) {
    this.#scheduler = scheduler;
    this.#random = random;
    this.#trace = trace;
    this.#received = received;
  }

  /** The endpoint of a live incarnation; calls to `node` reach it from now on. */
  attach(node: NodeId, incarnation: number, endpoint: E): void {
    this.#attached.set(node, { incarnation, endpoint });
  }

  /**
   * The node died: calls to it are refused, replies to it are lost, and what waited for it
   * while it was paused finds it gone (connection reset).
   */
  detach(node: NodeId): void {
    this.#attached.delete(node);
    this.resume(node);
  }

  /** True when `node` runs `incarnation` now. */
  isLive(node: NodeId, incarnation: number): boolean {
    return this.#attached.get(node)?.incarnation === incarnation;
  }

  setFaults(faults: NetworkFaults): void {
    this.#faults = faults;
  }

  get faults(): NetworkFaults {
    return this.#faults;
  }

  /** Gives every link to and from `node` these faults (undefined: the network's own again). */
  setNodeFaults(node: NodeId, faults: NetworkFaults | undefined): void {
    if (faults === undefined) this.#nodeFaults.delete(node);
    else this.#nodeFaults.set(node, faults);
  }

  /** `node` is stopped (SIGSTOP): what reaches it or leaves it waits until resume. */
  pause(node: NodeId): void {
    if (!this.#paused.has(node)) this.#paused.set(node, []);
  }

  /** Delivers, in order, what waited for `node`. */
  resume(node: NodeId): void {
    const held = this.#paused.get(node);
    this.#paused.delete(node);
    for (const deliver of held ?? []) deliver();
  }

  /** Runs `deliver` now, or when `node` resumes if it is paused. */
  #whenRunning(node: NodeId, deliver: () => void): void {
    const held = this.#paused.get(node);
    if (held === undefined) deliver();
    else held.push(deliver);
  }

  /** Cuts the link from `from` to `to` (one way). */
  cut(from: NodeId, to: NodeId): void {
    this.#cuts.add(`${from}>${to}`);
  }

  /** True when messages from `from` to `to` are lost. */
  isCut(from: NodeId, to: NodeId): boolean {
    // Asked about every message, while most of a run has no cut: skip making the key then.
    return this.#cuts.size > 0 && this.#cuts.has(`${from}>${to}`);
  }

  /** Removes every cut. */
  heal(): void {
    this.#cuts.clear();
  }

  /**
   * Calls `handle` on the endpoint of `to`, from the incarnation `fromIncarnation` of `from`.
   * The result is never delivered to a dead caller (the promise then never settles: the caller's
   * process is gone). `deadlineMs` is in virtual time.
   */
  call<T>(request: {
    readonly from: NodeId;
    readonly fromIncarnation: number;
    readonly to: NodeId;
    readonly kind: string;
    readonly deadlineMs: number;
    /** Safe to deliver twice (replica reads and merges); client writes never are. */
    readonly idempotent: boolean;
    /**
     * The receiver does not run it once its deadline has passed, as production's replica
     * stream does (replica-stream-server.ts runCall: the deadline travels with each call): a
     * delayed copy, or one queued at a paused node, is not merged late. In virtual time here;
     * a node checks it on its own wall clock, so up to the clock skew later.
     */
    readonly lateRefused?: boolean;
    readonly handle: (endpoint: E) => Promise<T>;
  }): Promise<CallResult<T>> {
    this.stats.sent += 1;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: CallResult<T>): void => {
        if (settled) return;
        settled = true;
        cancelDeadline();
        if (!this.isLive(request.from, request.fromIncarnation)) return;
        const outcome = result.ok ? "ok" : result.kind;
        this.#trace.recordWords("reply", request.kind, request.to, ">", request.from, outcome);
        resolve(result);
      };
      const remainingMs = Math.max(0, request.deadlineMs - this.#scheduler.nowMs);
      const cancelDeadline = this.#scheduler.after(remainingMs, () => {
        this.stats.deadlines += 1;
        settle({
          ok: false,
          kind: "deadline",
          error: `${request.kind} to ${request.to}: deadline exceeded`,
        });
      });
      const target = this.#attached.get(request.to);
      if (target === undefined) {
        this.stats.refused += 1;
        this.#scheduler.after(1, () =>
          settle({ ok: false, kind: "refused", error: `${request.to} refused the connection` }),
        );
        return;
      }
      const faults = this.#faultsOf(request.from, request.to);
      const copies = request.idempotent && this.#random.chance(faults.duplicateRate) ? 2 : 1;
      if (copies === 2) this.stats.duplicated += 1;
      for (let copy = 0; copy < copies; copy++) {
        this.#deliver(request, target.incarnation, settle);
      }
    });
  }

  /** Sends one copy of a request; its reply (if any) goes to `settle`. */
  #deliver<T>(
    request: Delivery<E, T>,
    incarnation: number,
    settle: (result: CallResult<T>) => void,
  ): void {
    if (this.#lost(request.from, request.to)) return;
    this.#scheduler.after(this.#delayMs(request.from, request.to), () =>
      this.#whenRunning(request.to, () => this.#handle(request, incarnation, settle)),
    );
  }

  /** Runs a delivered request on its endpoint and sends the reply back. */
  #handle<T>(
    request: Delivery<E, T>,
    incarnation: number,
    settle: (result: CallResult<T>) => void,
  ): void {
    const target = this.#attached.get(request.to);
    if (target === undefined || target.incarnation !== incarnation) {
      // The connection was to a process that died since: it is reset.
      settle({ ok: false, kind: "refused", error: `connection to ${request.to} reset` });
      return;
    }
    if (this.isCut(request.from, request.to)) return;
    if (request.lateRefused === true && this.#scheduler.nowMs > (request.deadlineMs ?? Infinity)) {
      // Its caller has had its deadline: nothing to answer.
      this.#trace.recordWords("late", request.kind, request.from, ">", request.to);
      return;
    }
    this.#trace.recordWords("deliver", request.kind, request.from, ">", request.to);
    this.#received?.(target.endpoint, request.from, request.kind);
    request.handle(target.endpoint).then(
      (value) =>
        this.#whenRunning(request.to, () => {
          if (this.#lost(request.to, request.from)) return;
          this.#scheduler.after(this.#delayMs(request.to, request.from), () => {
            if (!this.isCut(request.to, request.from)) settle({ ok: true, value });
          });
        }),
      // Endpoints answer failures as values; a rejection is a bug in the simulator or the code.
      (error: unknown) =>
        this.#trace.bug(`${request.kind} handler on ${request.to} threw: ${String(error)}`),
    );
  }

  /** Whether a message sent now from `from` to `to` is lost (a cut link or a random drop). */
  #lost(from: NodeId, to: NodeId): boolean {
    if (this.isCut(from, to) || this.#random.chance(this.#faultsOf(from, to).dropRate)) {
      this.stats.dropped += 1;
      return true;
    }
    return false;
  }

  /** The faults of the link between two nodes: a node's own, else the network's. */
  #faultsOf(from: NodeId, to: NodeId): NetworkFaults {
    return this.#nodeFaults.get(from) ?? this.#nodeFaults.get(to) ?? this.#faults;
  }

  #delayMs(from: NodeId, to: NodeId): number {
    const faults = this.#faultsOf(from, to);
    if (faults.spikeRate > 0 && this.#random.chance(faults.spikeRate)) {
      return this.#random.range(faults.delayMs[1], Math.max(faults.delayMs[1], faults.spikeMsMax));
    }
    return this.#random.range(faults.delayMs[0], faults.delayMs[1]);
  }
}
