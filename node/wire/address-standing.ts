// Which remote addresses may open a new connection to the public port, judged by how their
// calls fared: an address whose calls keep failing authentication spends a budget (a token
// bucket, `ratePerSecond` refilled, `burst` held at most, and down to -burst when it keeps
// failing), and once it is spent its new connections are closed at accept, before the TLS
// handshake that is most of what an anonymous caller costs a node (~11 ms of CPU each). Each
// time an address spends its budget again, its refill rate halves (down to 1/2^(STRIKES_MAX-1)
// of ratePerSecond), as fail2ban lengthens a repeat offender's ban: a flood that never
// authenticates costs the node fewer and fewer handshakes, while a client that failed a few
// times by mistake is back within seconds. An address that authenticated within `trustMs` is
// never refused, and its strikes are forgiven: a flood from an address shared with good clients
// (NAT, a local cluster on 127.0.0.1) must not lock those clients out.
// Pure: time comes in as arguments.

/** Addresses remembered at most; the least recently charged or trusted is forgotten first. */
export const ADDRESS_STANDING_MAX = 4096;

/**
 * Times an address's budget may be spent before its refill rate stops halving: at the fifth
 * and later, it refills at 1/16 of the rate (with the defaults, a token every 16 s).
 */
export const STRIKES_MAX = 5;

interface Standing {
  tokens: number;
  updatedMs: number;
  trustedUntilMs: number;
  /** Times the budget went from admitting (≥ 1) to refusing, since the last authentication. */
  strikes: number;
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
 * admitted until t + trustMs whatever it is charged; an untrusted address with no strikes
 * charged k times within an instant after its bucket was full is admitted again iff
 * burst - k ≥ 1, and otherwise after (1 - (burst - k)) / ratePerSecond seconds (k ≤ 2·burst);
 * at its s-th strike the rate is ratePerSecond / 2^(min(s, STRIKES_MAX) - 1).
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

  /** True when a call from `address` proved who its caller is within trustMs of `nowMs`. */
  trusted(address: string, nowMs: number): boolean {
    const entry = this.#entries.get(address);
    return entry !== undefined && entry.trustedUntilMs > nowMs;
  }

  /** A call from `address` was refused UNAUTHENTICATED at `nowMs`. */
  failed(address: string, nowMs: number): void {
    const entry = this.#touched(address, nowMs);
    this.#refill(entry, nowMs);
    const before = entry.tokens;
    entry.tokens = Math.max(-this.#burst, before - 1);
    if (before >= 1 && entry.tokens < 1) entry.strikes = Math.min(STRIKES_MAX, entry.strikes + 1);
  }

  /**
   * A call from `address` proved who its caller is at `nowMs`. Cheap when called on every call:
   * the entry is rewritten at most once a second of trust.
   */
  authenticated(address: string, nowMs: number): void {
    const entry = this.#entries.get(address);
    if (entry !== undefined && entry.trustedUntilMs - nowMs > this.#trustMs - 1000) return;
    const touched = this.#touched(address, nowMs);
    touched.trustedUntilMs = nowMs + this.#trustMs;
    touched.strikes = 0;
  }

  /** The strikes of `address` (tests and metrics): 0 when unknown or forgiven. */
  strikes(address: string): number {
    return this.#entries.get(address)?.strikes ?? 0;
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
      strikes: 0,
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
    const rate = this.#ratePerSecond / 2 ** Math.max(0, entry.strikes - 1);
    return Math.min(this.#burst, entry.tokens + (elapsedMs * rate) / 1000);
  }
}
