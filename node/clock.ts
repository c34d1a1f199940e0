// The one time source of every shell: deadlines, timers, loops and pacing all read time and set
// timers here. In production it is the system clock (this file is the only place in node/ and
// coordinator/ that touches Date.now, performance.now or the timer functions, setImmediate
// included; test/tidy.test.ts checks it); the
// deterministic simulation gives each node a virtual clock on its scheduler (scripts/sim/).

/** Reads the time and sets timers. */
export interface Clock {
  /**
   * Wall-clock milliseconds since the epoch: deadlines that cross nodes, timestamps shown to
   * people. It may jump (NTP, an operator, the simulation's clock faults), so a deadline waited
   * for here is kept on the monotonic clock ({@link monotonicDeadline}).
   */
  nowMs(): number;
  /**
   * Monotonic milliseconds from an arbitrary origin: intervals, round trips, failure detection.
   * Never jumps backwards; only differences mean anything.
   */
  monotonicMs(): number;
  /**
   * Calls `callback` once after `delayMs` (clamped at 0); the returned function cancels it. A
   * timer never keeps the process alive (production timers are unref'd).
   */
  setTimer(delayMs: number, callback: () => void): () => void;
  /**
   * Calls `callback` once, soon: after the IO callbacks already due (production: setImmediate).
   * Work issued in one event-loop turn batches up behind it, replies already received are
   * counted before it runs, and a long loop yields to IO with it. Cancelled only by its owner's
   * own state (check a `closed` flag in the callback).
   */
  defer(callback: () => void): void;
  /** Resolves after `ms`, or rejects with the signal's reason when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * A deadline given on the wall clock (a gRPC deadline, a command's), read now, as a time on the
 * monotonic clock. Whoever waits for a deadline keeps it this way: the wall clock may step (NTP,
 * an operator, a VM migration) while it waits, and a deadline left on it would move with the
 * step. Stepped back by a minute, a wall-clock deadline gives every replica call after the step a
 * minute more, so a request outlives Limits.requestTimeoutMsMax, which the tombstone reaper's
 * guard relies on (a write of a deleted value reaching a replica after its tombstone was
 * reaped and the guard ran out brings the value back).
 */
export function monotonicDeadline(
  clock: Pick<Clock, "nowMs" | "monotonicMs">,
  wallMs: number,
): number {
  return clock.monotonicMs() + (wallMs - clock.nowMs());
}

/**
 * A monotonic deadline ({@link monotonicDeadline}) as a wall-clock time, read now: for handing
 * it on to whatever takes wall-clock deadlines (a call to another node), at the moment it is
 * handed on.
 */
export function wallDeadline(
  clock: Pick<Clock, "nowMs" | "monotonicMs">,
  monotonicMs: number,
): number {
  return clock.nowMs() + (monotonicMs - clock.monotonicMs());
}

/** Sleeps on any clock's setTimer (for clocks that have no cheaper way). */
export function sleepOn(clock: Pick<Clock, "setTimer">, ms: number, signal?: AbortSignal) {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The system clock: Date.now, performance.now, unref'd timers and setImmediate. */
export const SYSTEM_CLOCK: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimer(delayMs, callback) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref();
    return () => clearTimeout(timer);
  },
  defer(callback) {
    setImmediate(callback);
  },
  sleep(ms, signal) {
    return sleepOn(SYSTEM_CLOCK, ms, signal);
  },
};

/** Resolves on the clock's next {@link Clock.defer}: a yield to IO inside a long loop. */
export function yieldTo(clock: Pick<Clock, "defer">): Promise<void> {
  return new Promise((resolve) => clock.defer(resolve));
}
