// Many deadlines under one timer. Every replicated operation waits for its deadline in the
// coordinator's quorum and in each replica call it makes; a clock timer apiece was three per
// operation, each a Node Timeout with its async-hooks fields and a cancel closure, set and
// cleared within milliseconds, and, for calls in flight across a scavenge, copied and promoted
// with the rest. Here each deadline is a map entry, and one clock timer is set for the earliest.

import type { Clock } from "./clock.js";

interface Entry {
  readonly deadlineMs: number;
  readonly onExpire: () => void;
}

/**
 * Calls each added callback once its deadline has passed, unless it is deleted first. Deadlines
 * are read on one of the clock's two timelines. Deadlines mostly arrive in increasing order
 * (the same request timeout from successive calls), so the timer is reset rarely, and while
 * calls are answered in time it fires about once per deadline's length, finding little due.
 */
export class DeadlineTimers {
  readonly #clock: Clock;
  readonly #now: () => number;
  readonly #entries = new Map<number, Entry>();
  #nextHandle = 1;
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
    return this.#entries.size;
  }

  /**
   * Calls `onExpire` once `deadlineMs` has passed; returns a handle for {@link delete}. A
   * deadline that is not a number, or Infinity, never passes.
   */
  add(deadlineMs: number, onExpire: () => void): number {
    const handle = this.#nextHandle++;
    this.#entries.set(handle, { deadlineMs, onExpire });
    if (deadlineMs < this.#timerAtMs) this.#setTimer(deadlineMs);
    return handle;
  }

  /** Stops waiting for the deadline of `handle` (answered in time); a no-op once it expired. */
  delete(handle: number): void {
    this.#entries.delete(handle);
  }

  /** Forgets every deadline and cancels the timer. */
  clear(): void {
    this.#entries.clear();
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerAtMs = Infinity;
  }

  #setTimer(atMs: number): void {
    this.#cancelTimer?.();
    this.#timerAtMs = atMs;
    this.#cancelTimer = this.#clock.setTimer(atMs - this.#now(), () => this.#expire());
  }

  /** Calls back every deadline passed, in the order they were added; sets the next timer. */
  #expire(): void {
    this.#cancelTimer = undefined;
    this.#timerAtMs = Infinity;
    const now = this.#now();
    let due: Entry[] | undefined;
    let next = Infinity;
    for (const [handle, entry] of this.#entries) {
      if (entry.deadlineMs <= now) {
        this.#entries.delete(handle);
        (due ??= []).push(entry);
      } else if (entry.deadlineMs < next) {
        next = entry.deadlineMs;
      }
    }
    if (next !== Infinity) this.#setTimer(next);
    for (const entry of due ?? []) entry.onExpire();
  }
}
