// A Clock (node/clock.ts) for unit tests: time moves only when the test advances it. Timers
// fire in order of due time as it passes, with every promise continuation settled between two
// of them; defer() runs at the current time on the next advance. The wall clock can jump.

import { sleepOn, type Clock } from "../../../node/clock.js";

interface Timer {
  readonly dueMs: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** Lets promise chains that need no timer run to their end (a few event-loop turns). */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** A hand-driven clock; monotonic time starts at 0, wall time at `wallStartMs`. */
export class ManualClock implements Clock {
  #monotonicMs = 0;
  #wallOffsetMs: number;
  #seq = 0;
  #timers: Timer[] = [];

  constructor(wallStartMs = 1_700_000_000_000) {
    this.#wallOffsetMs = wallStartMs;
  }

  nowMs(): number {
    return this.#monotonicMs + this.#wallOffsetMs;
  }

  monotonicMs(): number {
    return this.#monotonicMs;
  }

  setTimer(delayMs: number, callback: () => void): () => void {
    const timer = {
      dueMs: this.#monotonicMs + Math.max(0, delayMs),
      seq: this.#seq++,
      callback,
      cancelled: false,
    };
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  defer(callback: () => void): void {
    this.setTimer(0, callback);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Timers set and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((timer) => !timer.cancelled).length;
  }

  /** Moves the wall clock (not the monotonic one) by `ms`: an NTP step, an operator. */
  jumpWall(ms: number): void {
    this.#wallOffsetMs += ms;
  }

  /**
   * Moves time forward by `ms` without firing anything: this process was stopped (GC, a busy
   * loop, SIGSTOP). The timers due meanwhile fire late, at the next advance.
   */
  stall(ms: number): void {
    this.#monotonicMs += ms;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const untilMs = this.#monotonicMs + ms;
    await settle();
    for (;;) {
      this.#timers = this.#timers.filter((timer) => !timer.cancelled);
      const next = this.#timers.reduce<Timer | undefined>(
        (first, timer) =>
          first === undefined ||
          timer.dueMs < first.dueMs ||
          (timer.dueMs === first.dueMs && timer.seq < first.seq)
            ? timer
            : first,
        undefined,
      );
      if (next === undefined || next.dueMs > untilMs) break;
      this.#monotonicMs = Math.max(this.#monotonicMs, next.dueMs);
      next.cancelled = true;
      next.callback();
      await settle();
    }
    this.#monotonicMs = untilMs;
    await settle();
  }
}
