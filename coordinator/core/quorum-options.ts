// Quorum options: turns a request's n/r/w/dw/pr/pw (symbolic or counted, possibly unset) and
// the bucket's defaults into checked numbers (DESIGN §2). Pure: no IO, clock or randomness.

/** A quorum option as the client sends it: a symbol, an explicit count, or unset. */
export type QuorumValue =
  | { readonly kind: "default" }
  | { readonly kind: "one" }
  | { readonly kind: "quorum" }
  | { readonly kind: "all" }
  | { readonly kind: "count"; readonly count: number };

/** The quorum options of one request; `n` = 0 and `{ kind: "default" }` mean "bucket default". */
export interface QuorumRequest {
  readonly n: number;
  readonly r: QuorumValue;
  readonly w: QuorumValue;
  readonly dw: QuorumValue;
  readonly pr: QuorumValue;
  readonly pw: QuorumValue;
}

/** A bucket's quorum defaults; symbolic values are resolved against each request's n. */
export interface BucketDefaults {
  readonly n: number;
  readonly r: QuorumValue;
  readonly w: QuorumValue;
  readonly dw: QuorumValue;
  readonly pr: QuorumValue;
  readonly pw: QuorumValue;
}

/**
 * The defaults of DESIGN §2 (the same as Riak's bucket type defaults, except that dw is 1:
 * an acknowledged write is on disk somewhere before the client hears "ok").
 */
export const DEFAULT_BUCKET: BucketDefaults = Object.freeze({
  n: 3,
  r: Object.freeze({ kind: "quorum" }),
  w: Object.freeze({ kind: "quorum" }),
  dw: Object.freeze({ kind: "count", count: 1 }),
  pr: Object.freeze({ kind: "count", count: 0 }),
  pw: Object.freeze({ kind: "count", count: 0 }),
});

/** Resolved, validated quorum numbers for one request. */
export interface QuorumConfig {
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly dw: number;
  readonly pr: number;
  readonly pw: number;
}

/** The options a request may set, in the order they are validated and reported. */
type QuorumField = "n" | "r" | "w" | "dw" | "pr" | "pw";

/**
 * Either the checked numbers, or the first invalid field (order n, r, w, dw, pr, pw) with a
 * lowercase message that names it and carries the numbers; the edge maps it to
 * INVALID_ARGUMENT.
 */
export type QuorumResolution =
  | { readonly ok: true; readonly config: QuorumConfig }
  | { readonly ok: false; readonly field: QuorumField; readonly message: string };

/** One field's allowed range; `maxName` says what the upper bound is, for the message. */
interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly maxName: string;
}

/**
 * Resolves a request's quorum options against its bucket's defaults.
 *
 * `quorum` = ⌊n/2⌋+1, `one` = 1, `all` = n, `default` = the bucket's value resolved against
 * the request's n (so a bucket default of `quorum` means 2 for a request with n=3 but 1 for
 * n=1, as in Riak's riak_kv_util normalize_rw_value). A bucket default that is itself
 * `default` falls back to {@link DEFAULT_BUCKET}.
 *
 * Validation (DESIGN §2): 1 ≤ n ≤ the bucket's n; 1 ≤ r, w ≤ n; 0 ≤ dw ≤ w; 0 ≤ pr, pw ≤ n;
 * every count an integer. r and w start at 1 because a zero quorum would answer without
 * touching any replica; dw, pr and pw may be 0, meaning "no such demand".
 */
export function resolveQuorum(request: QuorumRequest, bucket: BucketDefaults): QuorumResolution {
  const n = request.n === 0 ? bucket.n : request.n;
  const nError = checkCount("n", n, { min: 1, max: bucket.n, maxName: "the bucket's n" });
  if (nError !== undefined) return nError;

  const upToN: Bounds = { min: 1, max: n, maxName: "n" };
  const r = resolveValue(request.r, bucket.r, DEFAULT_BUCKET.r, n);
  const rError = checkCount("r", r, upToN);
  if (rError !== undefined) return rError;
  const w = resolveValue(request.w, bucket.w, DEFAULT_BUCKET.w, n);
  const wError = checkCount("w", w, upToN);
  if (wError !== undefined) return wError;
  const dw = resolveValue(request.dw, bucket.dw, DEFAULT_BUCKET.dw, n);
  const dwError = checkCount("dw", dw, { min: 0, max: w, maxName: "w" });
  if (dwError !== undefined) return dwError;

  const zeroToN: Bounds = { min: 0, max: n, maxName: "n" };
  const pr = resolveValue(request.pr, bucket.pr, DEFAULT_BUCKET.pr, n);
  const prError = checkCount("pr", pr, zeroToN);
  if (prError !== undefined) return prError;
  const pw = resolveValue(request.pw, bucket.pw, DEFAULT_BUCKET.pw, n);
  const pwError = checkCount("pw", pw, zeroToN);
  if (pwError !== undefined) return pwError;

  return { ok: true, config: { n, r, w, dw, pr, pw } };
}

/**
 * The number a quorum value stands for at replication factor n. `default` defers to the
 * bucket, and a bucket that says `default` too defers to the built-in default, so the chain
 * always ends in a concrete value.
 */
function resolveValue(
  requested: QuorumValue,
  bucketValue: QuorumValue,
  builtIn: QuorumValue,
  n: number,
): number {
  let value = requested;
  if (value.kind === "default") value = bucketValue;
  if (value.kind === "default") value = builtIn;
  switch (value.kind) {
    case "one":
      return 1;
    case "quorum":
      return Math.floor(n / 2) + 1;
    case "all":
      return n;
    case "count":
      return value.count;
    case "default":
      throw new Error("resolveQuorum: the built-in default must not itself be 'default'");
  }
}

/** The failed resolution for `field` when `value` is not an integer within `bounds`. */
function checkCount(
  field: QuorumField,
  value: number,
  bounds: Bounds,
): QuorumResolution | undefined {
  if (!Number.isInteger(value)) {
    return { ok: false, field, message: `${field} must be an integer (got ${value})` };
  }
  if (value < bounds.min) {
    const message = `${field} must be at least ${bounds.min} (got ${value})`;
    return { ok: false, field, message };
  }
  if (value > bounds.max) {
    const message = `${field}=${value} exceeds ${bounds.maxName}=${bounds.max}`;
    return { ok: false, field, message };
  }
  return undefined;
}

/**
 * The quorum of a write to a partition whose primaries change: every count that asks for acks
 * grows by `widenBy`, so that at least the asked-for number of old primaries, and of new ones,
 * hold the write (transitionPreferenceList). Unchanged when nothing changes.
 */
export function widenQuorum<Q extends QuorumConfig>(
  quorum: Q,
  widenBy: number,
  primaries: number,
): Q {
  if (widenBy === 0) return quorum;
  const grow = (count: number): number => (count > 0 ? count + widenBy : 0);
  return {
    ...quorum,
    n: primaries,
    w: quorum.w + widenBy,
    dw: grow(quorum.dw),
    pw: grow(quorum.pw),
  };
}
