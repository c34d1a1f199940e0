// Bearer tokens of users (DESIGN.md §10): making one, its slow salted hash (the only form the
// cluster metadata keeps), checking a token against stored hashes, and a bounded cache so that a
// verified token costs a SHA-256 and a map lookup per call, not an scrypt.
//
// A token is `dkv_<salt>.<secret>`: 16 random bytes of salt and 32 of secret, base64url. Its
// hash is `scrypt$N$r$p$<salt>$<hash>` with the same salt. The salt is no secret; carrying it in
// the token lets a node find the one stored hash to try, so an unknown token costs no scrypt.

import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { type Access, liveUser, parseTokenHash } from "../core/access.js";
import { SYSTEM_CLOCK } from "../clock.js";
import { FailedTokenBudget } from "./failed-token-budget.js";

/** scrypt's cost by default: N = 2^15, r = 8, p = 1 (32 MiB, tens of ms per hash). */
export const SCRYPT_DEFAULTS = { n: 1 << 15, r: 8, p: 1 } as const;
/** Tokens a TokenVerifier remembers as verified, and as failed; least recently used first out. */
export const TOKEN_CACHE_ENTRIES_MAX = 4096;

const SALT_BYTES = 16;
const SECRET_BYTES = 32;
const HASH_BYTES = 32;
const tokenPattern = /^dkv_([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** A new random token. Show it once; keep only hashToken's result. */
export function newToken(): string {
  const salt = randomBytes(SALT_BYTES).toString("base64url");
  return `dkv_${salt}.${randomBytes(SECRET_BYTES).toString("base64url")}`;
}

/** True when `text` has the form of a token (says nothing of whether it is valid). */
export function isTokenShaped(text: string): boolean {
  return tokenPattern.test(text);
}

/** The hash to store for `token`; throws for text that is not a token. Runs off the event loop. */
export async function hashToken(
  token: string,
  cost: { readonly n: number; readonly r: number; readonly p: number } = SCRYPT_DEFAULTS,
): Promise<string> {
  const match = tokenPattern.exec(token);
  if (match === null) throw new Error("not a dkv token: want dkv_<salt>.<secret>");
  const hash = await derive(match[2]!, match[1]!, cost);
  const text = `scrypt$${cost.n}$${cost.r}$${cost.p}$${match[1]}$${hash.toString("base64url")}`;
  if (parseTokenHash(text) === undefined) throw new Error(`scrypt cost out of bounds: ${text}`);
  return text;
}

/**
 * The one of `hashes` that `token` matches, or undefined. Only a hash with the token's salt is
 * tried (one scrypt at most), and compared in constant time.
 */
export async function verifyToken(
  hashes: readonly string[],
  token: string,
): Promise<string | undefined> {
  const match = tokenPattern.exec(token);
  if (match === null) return undefined;
  for (const stored of hashes) {
    const parsed = parseTokenHash(stored);
    if (parsed === undefined || parsed.salt !== match[1]) continue;
    const expected = Buffer.from(parsed.hash, "base64url");
    const actual = await derive(match[2]!, parsed.salt, parsed);
    if (expected.length === actual.length && timingSafeEqual(expected, actual)) return stored;
  }
  return undefined;
}

function derive(
  secret: string,
  salt: string,
  cost: { readonly n: number; readonly r: number; readonly p: number },
): Promise<Buffer> {
  const { n: N, r, p } = cost;
  // scrypt needs 128·N·r bytes; Node refuses above maxmem (32 MiB by default), so say so.
  const maxmem = 256 * N * r;
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, HASH_BYTES, { N, r, p, maxmem }, (error, key) =>
      error === null ? resolve(key) : reject(error),
    ),
  );
}

/** Who a token proved to be, and by which stored hash. */
export interface VerifiedToken {
  readonly user: string;
  readonly tokenHash: string;
}

/**
 * The outcome of one token check: the user, or why not. `unknown`: no live user holds a hash
 * of its salt (no scrypt ran); `failed`: scrypt ran, or had run before, and matched nothing;
 * `throttled`: its address spent its failed-check budget, so scrypt did not run.
 */
export type TokenCheck =
  | ({ readonly ok: true } & VerifiedToken)
  | { readonly ok: false; readonly reason: "malformed" | "unknown" | "failed" | "throttled" };

/** What a TokenVerifier counted (metrics, tests). */
export interface TokenCheckStats {
  /** Checks answered from the cache of verified tokens. */
  hits: number;
  /** scrypt runs. */
  derivations: number;
  /** Checks that ran scrypt or found the token among recent failures, and failed. */
  failures: number;
  /** Checks refused without scrypt because their address had spent its budget. */
  throttled: number;
}

/**
 * Checks tokens against the users of the cluster metadata, remembering those it verified. A
 * remembered token counts only while its user exists and still holds the hash it matched, so
 * removing the user or rotating or revoking its token ends it at the next call. Unknown tokens
 * cost no scrypt (no stored hash has their salt). A wrong secret for a known salt costs one
 * scrypt, once: such a token can never become good (a new token has a new random salt), so it
 * is remembered as failed; and each address may cause only `failedChecksPerSecondMax` failed
 * checks a second (failed-token-budget.ts). Concurrent checks of one token share one scrypt.
 */
export class TokenVerifier {
  readonly #entriesMax: number;
  /** SHA-256 of the token → what it proved; Map order is the LRU order. */
  readonly #verified = new Map<string, VerifiedToken>();
  /** SHA-256 of tokens that failed scrypt; Map order is the LRU order. */
  readonly #failed = new Map<string, true>();
  readonly #inFlight = new Map<string, Promise<TokenCheck>>();
  readonly #bySalt = new WeakMap<Access, Map<string, VerifiedToken>>();
  readonly #budget: FailedTokenBudget | undefined;
  readonly #monotonicMs: () => number;
  readonly stats: TokenCheckStats = { hits: 0, derivations: 0, failures: 0, throttled: 0 };

  constructor(
    options: {
      readonly entriesMax?: number;
      /** Failed checks a second per address (off when absent). */
      readonly failedChecksPerSecondMax?: number;
      /** Monotonic time for the budget (a Clock's monotonicMs). */
      readonly monotonicMs?: () => number;
    } = {},
  ) {
    this.#entriesMax = options.entriesMax ?? TOKEN_CACHE_ENTRIES_MAX;
    const rate = options.failedChecksPerSecondMax;
    this.#budget = rate === undefined ? undefined : new FailedTokenBudget({ ratePerSecond: rate });
    this.#monotonicMs = options.monotonicMs ?? SYSTEM_CLOCK.monotonicMs;
  }

  /** The user `token` authenticates in `access`, or undefined. */
  async verify(access: Access, token: string): Promise<VerifiedToken | undefined> {
    const checked = await this.check(access, token, "");
    return checked.ok ? { user: checked.user, tokenHash: checked.tokenHash } : undefined;
  }

  /** Checks `token` for a caller at `address` (the remote IP; "" when not known). */
  check(access: Access, token: string, address: string): Promise<TokenCheck> {
    const match = tokenPattern.exec(token);
    if (match === null) return Promise.resolve(MALFORMED);
    const key = createHash("sha256").update(token).digest("base64url");
    const known = this.#verified.get(key);
    if (known !== undefined) {
      this.#verified.delete(key);
      if (liveUser(access, known.user)?.tokenHashes.includes(known.tokenHash) === true) {
        this.#verified.set(key, known);
        this.stats.hits += 1;
        return Promise.resolve({ ok: true, ...known });
      }
    }
    const candidate = this.#index(access).get(match[1]!);
    if (candidate === undefined) return Promise.resolve(UNKNOWN);
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    if (this.#failed.has(key)) {
      this.#remember(this.#failed, key, true);
      this.stats.failures += 1;
      return Promise.resolve(FAILED);
    }
    if (this.#budget !== undefined && !this.#budget.take(address, this.#monotonicMs())) {
      this.stats.throttled += 1;
      return Promise.resolve(THROTTLED);
    }
    return this.#derive(key, candidate, token, address);
  }

  /** Entries remembered now. */
  get size(): number {
    return this.#verified.size;
  }

  #derive(
    key: string,
    candidate: VerifiedToken,
    token: string,
    address: string,
  ): Promise<TokenCheck> {
    this.stats.derivations += 1;
    const run = verifyToken([candidate.tokenHash], token).then((matched): TokenCheck => {
      if (matched === undefined) {
        this.stats.failures += 1;
        this.#remember(this.#failed, key, true);
        return FAILED;
      }
      this.#budget?.refund(address, this.#monotonicMs());
      this.#remember(this.#verified, key, candidate);
      return { ok: true, ...candidate };
    });
    this.#inFlight.set(key, run);
    const forget = (): void => {
      this.#inFlight.delete(key);
    };
    run.then(forget, forget);
    return run;
  }

  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > this.#entriesMax) map.delete(map.keys().next().value!);
  }

  /** The stored hashes of live users by salt, built once per access component. */
  #index(access: Access): Map<string, VerifiedToken> {
    let index = this.#bySalt.get(access);
    if (index === undefined) {
      index = new Map();
      for (const record of access.users) {
        for (const tokenHash of record.tokenHashes) {
          const salt = parseTokenHash(tokenHash)?.salt;
          if (salt !== undefined) index.set(salt, { user: record.user, tokenHash });
        }
      }
      this.#bySalt.set(access, index);
    }
    return index;
  }
}

const MALFORMED: TokenCheck = { ok: false, reason: "malformed" };
const UNKNOWN: TokenCheck = { ok: false, reason: "unknown" };
const FAILED: TokenCheck = { ok: false, reason: "failed" };
const THROTTLED: TokenCheck = { ok: false, reason: "throttled" };
