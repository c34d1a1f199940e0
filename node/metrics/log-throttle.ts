// Rate limiting of repeated log events (overload shedding, limit warnings): the first
// occurrence in a window gets a line, the rest are counted and reported by the next line.
// Pure: time comes in as arguments.

/** What to do with one occurrence: log it (with how many were held back before it) or not. */
export type ThrottleDecision =
  { readonly log: true; readonly suppressed: number } | { readonly log: false };

const HOLD: ThrottleDecision = { log: false };

/** At most one line per `windowMs` for one kind of event. */
export class LogThrottle {
  readonly windowMs: number;
  #lastLoggedMs = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(windowMs: number) {
    if (!(Number.isFinite(windowMs) && windowMs >= 0)) {
      throw new Error(`windowMs must be a number >= 0, got ${windowMs}`);
    }
    this.windowMs = windowMs;
  }

  /** Decides for one occurrence at `nowMs`. */
  admit(nowMs: number): ThrottleDecision {
    if (nowMs - this.#lastLoggedMs < this.windowMs) {
      this.#suppressed += 1;
      return HOLD;
    }
    const suppressed = this.#suppressed;
    this.#lastLoggedMs = nowMs;
    this.#suppressed = 0;
    return { log: true, suppressed };
  }

  /**
   * Occurrences held back and not yet reported, once their window has passed (else 0); a
   * periodic check logs them so a burst that stopped is still summed up. Resets the count.
   */
  flush(nowMs: number): number {
    if (this.#suppressed === 0 || nowMs - this.#lastLoggedMs < this.windowMs) return 0;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.#lastLoggedMs = nowMs;
    return suppressed;
  }
}
