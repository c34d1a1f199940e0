// Many deadlines under one timer. Every replicated operation waits for its deadline in the
// coordinator's quorum and in each replica call it makes; a clock timer apiece was three per
// operation, each a Node Timeout with its async-hooks fields and a cancel closure, set and
// cleared within milliseconds. Here each deadline is a link in one list, and one clock timer is
// set for the earliest.

import type { Clock } from "./clock.js";

/**
 * After a firing that expired something, the next comes this much later at the soonest. Each
 * firing walks every pending deadline, so deadlines passing a tenth of a millisecond apart (a
 * stalled peer's 16,384 calls) took ~1,600 walks of the list, 140 ms of CPU, firing each
 * millisecond; a deadline in such a run is answered up to this late instead.
 */
const EXPIRY_GAP_MS = 10;

/** A deadline waited for: a link in the list of every pending one, in the order added. */
export interface DeadlineEntry {
  readonly deadlineMs: number;
  readonly onExpire: () => void;
}

interface Link extends DeadlineEntry {
  prev: Link | undefined;
  next: Link | undefined;
  /** Still waited for: neither expired nor deleted. */
  linked: boolean;
}

/**
 * Calls each added callback once its deadline has passed, unless it is deleted first. Deadlines
 * are read on one of the clock's two timelines. Deadlines mostly arrive in increasing order
 * (the same request timeout from successive calls), so the timer is reset rarely, and while
 * calls are answered in time it fires about once per deadline's length, finding little due.
 *
 * The pending deadlines are a doubly linked list, as Node keeps its own timers: an entry is
 * unlinked when deleted, and nothing long-lived points at it any more. Kept in a Map instead,
 * whose values reach each operation's objects, they outlived the young generation: session
 * YCSB-A took 1.13× the server CPU per operation (docs/BENCHMARKS.md, seventeenth session;
 * scripts/bench-map-churn.ts shows the pattern alone).
 */
export class DeadlineTimers {
  readonly #clock: Clock;
  readonly #now: () => number;
  #head: Link | undefined;
  #tail: Link | undefined;
  #size = 0;
  #cancelTimer: (() => void) | undefined;
  /** When the timer is set for; Infinity when none is. */
  #timerAtMs = Infinity;

  /** `timeline`: whether deadlines are monotonic (Clock.monotonicMs) or wall times (nowMs). */
  constructor(clock: Clock, timeline: "monotonic" | "wall") {
    this.#clock = clock;
    this.#now = timeline === "monotonic" ? () => clock.monotonicMs() : () => clock.nowMs();
  }

  /** Deadlines waited for. */
  get size(): number {
    return this.#size;
  }

  /**
   * Calls `onExpire` once `deadlineMs` has passed; returns the entry, for {@link delete}. A
   * deadline that is not a number, or Infinity, never passes.
   */
  add(deadlineMs: number, onExpire: () => void): DeadlineEntry {
    const link: Link = { deadlineMs, onExpire, prev: this.#tail, next: undefined, linked: true };
    if (this.#tail === undefined) this.#head = link;
    else this.#tail.next = link;
    this.#tail = link;
    this.#size += 1;
    if (deadlineMs < this.#timerAtMs) this.#setTimer(deadlineMs);
    return link;
  }

  /** Stops waiting for `entry`'s deadline (answered in time); a no-op once it expired. */
  delete(entry: DeadlineEntry): void {
    const link = entry as Link;
    if (!link.linked) return;
    link.linked = false;
    if (link.prev === undefined) this.#head = link.next;
    else link.prev.next = link.next;
    if (link.next === undefined) this.#tail = link.prev;
    else link.next.prev = link.prev;
    link.prev = undefined;
    link.next = undefined;
    this.#size -= 1;
  }

  /** Forgets every deadline and cancels the timer. */
  clear(): void {
    while (this.#head !== undefined) this.delete(this.#head);
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerAtMs = Infinity;
  }

  #setTimer(atMs: number): void {
    this.#cancelTimer?.();
    this.#timerAtMs = atMs;
    this.#cancelTimer = this.#clock.setTimer(atMs - this.#now(), () => this.#expire());
  }

  /**
   * Calls back every deadline passed, in the order they were added; sets the next timer, at
   * least EXPIRY_GAP_MS on when this one expired something.
   */
  #expire(): void {
    this.#cancelTimer = undefined;
    this.#timerAtMs = Infinity;
    const now = this.#now();
    let due: Link[] | undefined;
    let next = Infinity;
    for (let link = this.#head; link !== undefined;) {
      const after = link.next;
      if (link.deadlineMs <= now) {
        this.delete(link);
        (due ??= []).push(link);
      } else if (link.deadlineMs < next) {
        next = link.deadlineMs;
      }
      link = after;
    }
    if (next !== Infinity) {
      this.#setTimer(due === undefined ? next : Math.max(next, now + EXPIRY_GAP_MS));
    }
    for (const link of due ?? []) link.onExpire();
  }
}
