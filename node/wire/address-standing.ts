// Which remote addresses may open a new connection to the public port, judged by how their
// calls fared: an address whose calls keep failing authentication spends a budget (a token
// bucket, `ratePerSecond` refilled, `burst` held at most, and down to -burst when it keeps
// failing), and once it is spent its new connections are closed at accept, before the TLS
// handshake that is most of what an anonymous caller costs a node (~11 ms of CPU each). An
// address that authenticated within `trustMs` is never refused: a flood from an address shared
// with good clients (NAT, a local cluster on 127.0.0.1) must not lock those clients out.
// Pure: time comes in as arguments.

/** Addresses remembered at most; the least recently charged or trusted is forgotten first. */
export const ADDRESS_STANDING_MAX = 4096;

interface Standing {
  tokens: number;
  updatedMs: number;
  trustedUntilMs: number;
}

/** Options; `burst` at least 1, `ratePerSecond` above 0. */
export interface AddressStandingOptions {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly trustMs: number;
  readonly addressesMax?: number;
}

/**
 * Per-address standing. Laws: an address never charged is admitted; an address trusted at t is
 * admitted until t + trustMs whatever it is charged; an untrusted address charged k times within
 * an instant after its bucket was full is admitted again iff burst - k ≥ 1, and otherwise after
 * (1 - (burst - k)) / ratePerSecond seconds (k ≤ 2·burst).
 */
export class AddressStanding {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #trustMs: number;
  readonly #addressesMax: number;
  /** Map order is least recently touched first. */
  readonly #entries = new Map<string, Standing>();

  constructor(options: AddressStandingOptions) {
    if (!(options.ratePerSecond > 0)) throw new Error("ratePerSecond must be > 0");
    if (!(options.burst >= 1)) throw new Error("burst must be at least 1");
    this.#ratePerSecond = options.ratePerSecond;
    this.#burst = options.burst;
    this.#trustMs = options.trustMs;
    this.#addressesMax = options.addressesMax ?? ADDRESS_STANDING_MAX;
  }

  /** True when `address` may open a connection at `nowMs` (monotonic). */
  admits(address: string, nowMs: number): boolean {
    const entry = this.#entries.get(address);
    if (entry === undefined || entry.trustedUntilMs > nowMs) return true;
    // Read, not refilled in place: a check per accept must not add up rounding errors.
    return this.#tokensAt(entry, nowMs) >= 1;
  }

  /** A call from `address` was refused UNAUTHENTICATED at `nowMs`. */
  failed(address: string, nowMs: number): void {
    const entry = this.#touched(address, nowMs);
    this.#refill(entry, nowMs);
    entry.tokens = Math.max(-this.#burst, entry.tokens - 1);
  }

  /**
   * A call from `address` proved who its caller is at `nowMs`. Cheap when called on every call:
   * the entry is rewritten at most once a second of trust.
   */
  authenticated(address: string, nowMs: number): void {
    const entry = this.#entries.get(address);
    if (entry !== undefined && entry.trustedUntilMs - nowMs > this.#trustMs - 1000) return;
    this.#touched(address, nowMs).trustedUntilMs = nowMs + this.#trustMs;
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  #touched(address: string, nowMs: number): Standing {
    const entry = this.#entries.get(address) ?? {
      tokens: this.#burst,
      updatedMs: nowMs,
      trustedUntilMs: -Infinity,
    };
    this.#entries.delete(address);
    this.#entries.set(address, entry);
    if (this.#entries.size > this.#addressesMax) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return entry;
  }

  #refill(entry: Standing, nowMs: number): void {
    entry.tokens = this.#tokensAt(entry, nowMs);
    entry.updatedMs = Math.max(entry.updatedMs, nowMs);
  }

  #tokensAt(entry: Standing, nowMs: number): number {
    const elapsedMs = Math.max(0, nowMs - entry.updatedMs);
    return Math.min(this.#burst, entry.tokens + (elapsedMs * this.#ratePerSecond) / 1000);
  }
}
