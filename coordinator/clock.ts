// The time source of the request shell: the wall clock and timers in production, a simulated
// clock in the deterministic simulation (issue #6). Cores never read time; shells read it here.

/** Reads the time and sets timers. */
export interface Clock {
  /** Milliseconds since the epoch (wall clock in production). */
  nowMs(): number;
  /** Calls `callback` after `delayMs`; the returned function cancels it. */
  setTimer(delayMs: number, callback: () => void): () => void;
}

/** The real clock: Date.now and setTimeout. */
export const SYSTEM_CLOCK: Clock = {
  nowMs: () => Date.now(),
  setTimer(delayMs, callback) {
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  },
};
