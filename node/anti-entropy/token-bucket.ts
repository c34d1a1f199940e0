// A token bucket that paces anti-entropy repairs (keys per second), so that an exchange after a
// replica lost its data never starves foreground requests. Time comes from an injected clock
// (its monotonic time and sleeps).

import type { Clock } from "../clock.js";

/**
 * Hands out `ratePerSecond` tokens per second, holding at most `burst`. `take(n)` spends n at
 * once and, when that leaves the bucket in debt, waits until the debt is repaid; so over any
 * span of t seconds at most burst + t·rate tokens are spent.
 */
export class TokenBucket {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #updatedMs: number;

  constructor(ratePerSecond: number, burst: number, clock: Clock) {
    if (!(ratePerSecond > 0 && burst > 0))
      throw new Error("a token bucket needs rate and burst > 0");
    this.#ratePerSecond = ratePerSecond;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#updatedMs = clock.monotonicMs();
  }

  get ratePerSecond(): number {
    return this.#ratePerSecond;
  }

  /**
   * Spends `count` tokens if the bucket holds them now, and says whether it did: for a caller
   * that refuses work rather than waits for it (a connection at accept).
   */
  tryTake(count: number): boolean {
    const nowMs = this.#clock.monotonicMs();
    const refill = ((nowMs - this.#updatedMs) * this.#ratePerSecond) / 1000;
    const tokens = Math.min(this.#burst, this.#tokens + refill);
    this.#updatedMs = Math.max(this.#updatedMs, nowMs);
    if (tokens < count) {
      this.#tokens = tokens;
      return false;
    }
    this.#tokens = tokens - count;
    return true;
  }

  /** Spends `count` tokens, waiting as long as the bucket is in debt afterwards. */
  async take(count: number, signal?: AbortSignal): Promise<void> {
    const nowMs = this.#clock.monotonicMs();
    const refill = ((nowMs - this.#updatedMs) * this.#ratePerSecond) / 1000;
    this.#tokens = Math.min(this.#burst, this.#tokens + refill) - count;
    this.#updatedMs = nowMs;
    if (this.#tokens < 0) {
      await this.#clock.sleep((-this.#tokens * 1000) / this.#ratePerSecond, signal);
    }
  }
}
