// How many token checks that may fail (each one scrypt, tens of milliseconds of a thread) one
// remote address may cause: a token bucket per address, `ratePerSecond` refilled, twice that
// held at most. A check reserves one before it runs scrypt and gets it back if the token proves
// good, so a flood of wrong secrets costs at most burst + t·rate scrypts per address over t
// seconds, while a good token is remembered once verified and never pays again.
// Pure: time comes in as arguments.

/** Addresses remembered at most; the least recently charged is forgotten first. */
export const FAILED_TOKEN_ADDRESSES_MAX = 4096;

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Per-address budgets of failed token checks. */
export class FailedTokenBudget {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #addressesMax: number;
  /** Map order is least recently charged first. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: { readonly ratePerSecond: number; readonly addressesMax?: number }) {
    if (!(options.ratePerSecond > 0)) throw new Error("ratePerSecond must be > 0");
    this.#ratePerSecond = options.ratePerSecond;
    this.#burst = Math.max(1, 2 * options.ratePerSecond);
    this.#addressesMax = options.addressesMax ?? FAILED_TOKEN_ADDRESSES_MAX;
  }

  /**
   * Reserves one check for `address` at `nowMs` (monotonic): true when it may run scrypt,
   * false when the address has spent its budget (nothing is reserved then).
   */
  take(address: string, nowMs: number): boolean {
    const bucket = this.#refilled(address, nowMs);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    this.#buckets.delete(address);
    this.#buckets.set(address, bucket);
    if (this.#buckets.size > this.#addressesMax) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    return true;
  }

  /** Gives back a reservation whose token proved good. */
  refund(address: string, nowMs: number): void {
    const bucket = this.#buckets.get(address);
    if (bucket === undefined) return;
    this.#refill(bucket, nowMs);
    bucket.tokens = Math.min(this.#burst, bucket.tokens + 1);
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.#buckets.size;
  }

  #refilled(address: string, nowMs: number): Bucket {
    const bucket = this.#buckets.get(address);
    if (bucket === undefined) return { tokens: this.#burst, updatedMs: nowMs };
    this.#refill(bucket, nowMs);
    return bucket;
  }

  #refill(bucket: Bucket, nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - bucket.updatedMs);
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (elapsedMs * this.#ratePerSecond) / 1000);
    bucket.updatedMs = nowMs;
  }
}
