// A token bucket that paces anti-entropy repairs (keys per second), so that an exchange after a
// replica lost its data never starves foreground requests. Time comes from an injected clock.

/** Time as the bucket needs it; tests pass a fake one. */
export interface PacingClock {
  nowMs(): number;
  /** Resolves after `ms`, or rejects early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: performance.now() and timers. */
export const SYSTEM_CLOCK: PacingClock = {
  nowMs: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/**
 * Hands out `ratePerSecond` tokens per second, holding at most `burst`. `take(n)` spends n at
 * once and, when that leaves the bucket in debt, waits until the debt is repaid; so over any
 * span of t seconds at most burst + t·rate tokens are spent.
 */
export class TokenBucket {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #clock: PacingClock;
  #tokens: number;
  #updatedMs: number;

  constructor(ratePerSecond: number, burst: number, clock: PacingClock = SYSTEM_CLOCK) {
    if (!(ratePerSecond > 0 && burst > 0))
      throw new Error("a token bucket needs rate and burst > 0");
    this.#ratePerSecond = ratePerSecond;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#updatedMs = clock.nowMs();
  }

  get ratePerSecond(): number {
    return this.#ratePerSecond;
  }

  /** Spends `count` tokens, waiting as long as the bucket is in debt afterwards. */
  async take(count: number, signal?: AbortSignal): Promise<void> {
    const nowMs = this.#clock.nowMs();
    const refill = ((nowMs - this.#updatedMs) * this.#ratePerSecond) / 1000;
    this.#tokens = Math.min(this.#burst, this.#tokens + refill) - count;
    this.#updatedMs = nowMs;
    if (this.#tokens < 0) {
      await this.#clock.sleep((-this.#tokens * 1000) / this.#ratePerSecond, signal);
    }
  }
}
