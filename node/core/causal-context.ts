// Causal contexts: sets of dots kept as a version vector plus a "dot cloud" of the dots that are
// not contiguous with it (Almeida et al. 2014, the dot context of delta-CRDTs).
// Pure: no IO, no clock, no randomness; contexts are immutable values.

import { assert, fail } from "./assert.js";

/** One event: the `counter`-th write coordinated by `actor` (a node id). `counter` is >= 1. */
export interface Dot {
  readonly actor: string;
  readonly counter: number;
}

/**
 * A set of dots in compact form (the "dot context" of delta-CRDTs / Almeida et al. 2014).
 *
 * A plain version vector cannot say "covers (a,5) but not (a,4)", which a client that saw only
 * the write (a,5) must be able to say; the cloud holds such dots until the gap fills.
 */
export interface CausalContext {
  /** actor -> n such that dots (actor,1..n) are all covered; actors with n = 0 are absent. */
  readonly vv: ReadonlyMap<string, number>;
  /**
   * Covered dots not contiguous with vv. Normalised: none covered by vv, sorted by
   * (actor, counter), no duplicates, and none equal to (actor, vv[actor] + 1).
   */
  readonly cloud: readonly Dot[];
}

/** The context that covers no dot. */
export const EMPTY_CONTEXT: CausalContext = Object.freeze({
  vv: new Map<string, number>(),
  cloud: Object.freeze([]),
});

function assertDot(dot: Dot): void {
  assert(
    typeof dot.actor === "string" && dot.actor.length > 0,
    "causal-context: a dot needs a non-empty actor",
  );
  if (!Number.isSafeInteger(dot.counter) || dot.counter < 1) {
    fail(`causal-context: dot counter must be a safe integer >= 1, got ${dot.counter}`);
  }
}

/** Orders strings by UTF-16 code units (JavaScript's `<`); the order of actors everywhere. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders dots by actor (string order), then counter. A total order:
 * `compareDots(a, b) === 0` exactly when both fields are equal.
 */
export function compareDots(a: Dot, b: Dot): number {
  const byActor = compareStrings(a.actor, b.actor);
  return byActor !== 0 ? byActor : a.counter - b.counter;
}

/**
 * A string that names a dot uniquely, for Map and Set keys: `actor + "\0" + counter`. Unique
 * because the decimal counter after the last NUL contains no NUL.
 */
export function dotKey(dot: Dot): string {
  return `${dot.actor}\u0000${dot.counter}`;
}

/** First index `i` of the sorted `cloud` with `cloud[i] >= dot` (cloud.length when none). */
function lowerBound(cloud: readonly Dot[], dot: Dot): number {
  let low = 0;
  let high = cloud.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const probe = cloud[middle];
    if (probe !== undefined && compareDots(probe, dot) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * True when `dot` is in the set `context`. Monotone under join:
 * `contextCovers(a, d) ⇒ contextCovers(contextJoin(a, b), d)`.
 */
export function contextCovers(context: CausalContext, dot: Dot): boolean {
  if ((context.vv.get(dot.actor) ?? 0) >= dot.counter) return true;
  const probe = context.cloud[lowerBound(context.cloud, dot)];
  return probe !== undefined && compareDots(probe, dot) === 0;
}

/**
 * The largest counter of `actor` in the context (vv or cloud), 0 when it has none. A new dot
 * (actor, contextMaxCounter + 1) is therefore never covered by `context`.
 */
export function contextMaxCounter(context: CausalContext, actor: string): number {
  const fromVv = context.vv.get(actor) ?? 0;
  const after = lowerBound(context.cloud, { actor, counter: Number.POSITIVE_INFINITY });
  const last = context.cloud[after - 1];
  return last !== undefined && last.actor === actor ? Math.max(fromVv, last.counter) : fromVv;
}

function sortedMap(vv: Map<string, number>): ReadonlyMap<string, number> {
  const entries = [...vv.entries()].sort((x, y) => compareStrings(x[0], y[0]));
  return new Map(entries);
}

/** True when the map's keys are in strictly ascending string order (a normalised vv's are). */
export function ascending(vv: ReadonlyMap<string, number>): boolean {
  let previous: string | undefined;
  for (const actor of vv.keys()) {
    if (previous !== undefined && !(previous < actor)) return false;
    previous = actor;
  }
  return true;
}

/**
 * Builds the normal form of `vv ∪ dots`. Takes ownership of both arguments. Dots sorted by
 * (actor, counter) are absorbed into vv while they extend it contiguously; the rest, minus
 * duplicates and dots vv already covers, form the cloud. `dotsSorted` and `vvSorted` say what
 * the caller already knows, which saves a sort; vv is rebuilt in actor order only when an actor
 * was added out of order.
 */
function normalise(
  vv: Map<string, number>,
  dots: Dot[],
  dotsSorted = false,
  vvSorted = false,
): CausalContext {
  if (!dotsSorted) dots.sort(compareDots);
  let ordered = vvSorted;
  const cloud: Dot[] = [];
  for (const dot of dots) {
    const covered = vv.get(dot.actor) ?? 0;
    if (dot.counter <= covered) continue;
    if (dot.counter === covered + 1) {
      // A new actor goes to the end of the map: out of order unless it sorts last.
      if (covered === 0) ordered = false;
      vv.set(dot.actor, dot.counter);
      continue;
    }
    const last = cloud[cloud.length - 1];
    if (last !== undefined && compareDots(last, dot) === 0) continue;
    cloud.push(dot);
  }
  return { vv: ordered ? vv : sortedMap(vv), cloud };
}

/** The two sorted dot lists as one sorted list (duplicates kept; normalise drops them). */
function mergeSorted(a: readonly Dot[], b: readonly Dot[]): Dot[] {
  if (a.length === 0) return b.slice();
  if (b.length === 0) return a.slice();
  const merged: Dot[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as Dot;
    const y = b[j] as Dot;
    if (compareDots(x, y) <= 0) {
      merged.push(x);
      i++;
    } else {
      merged.push(y);
      j++;
    }
  }
  while (i < a.length) merged.push(a[i++] as Dot);
  while (j < b.length) merged.push(b[j++] as Dot);
  return merged;
}

/**
 * `context ∪ {dot}`, normalised (a cloud dot that becomes contiguous moves into vv).
 * Laws: `contextCovers(contextAdd(c, d), d)`; `contextAdd(c, d)` equals `c` when c covers d.
 */
export function contextAdd(context: CausalContext, dot: Dot): CausalContext {
  assertDot(dot);
  if (contextCovers(context, dot)) return context;
  const copy: Dot = { actor: dot.actor, counter: dot.counter };
  return normalise(new Map(context.vv), [...context.cloud, copy], false, ascending(context.vv));
}

/**
 * Set union of two contexts, normalised. A join-semilattice with EMPTY_CONTEXT as identity:
 * ```text
 * a ⊔ b = b ⊔ a                  (commutativity)
 * (a ⊔ b) ⊔ c = a ⊔ (b ⊔ c)      (associativity)
 * a ⊔ a = a                      (idempotence)
 * a ⊔ ∅ = a                      (identity)
 * ```
 * (equality as in {@link contextEquals}).
 */
export function contextJoin(a: CausalContext, b: CausalContext): CausalContext {
  if (a === b || isEmpty(b)) return a;
  if (isEmpty(a)) return b;
  const vv = new Map(a.vv);
  b.vv.forEach((counter, actor) => {
    if (counter > (vv.get(actor) ?? 0)) vv.set(actor, counter);
  });
  // Normalised clouds are sorted, so their merge is too.
  return normalise(vv, mergeSorted(a.cloud, b.cloud), true, ascending(vv));
}

function isEmpty(context: CausalContext): boolean {
  return context.vv.size === 0 && context.cloud.length === 0;
}

/**
 * True when both contexts are the same set of dots. Because contexts are normalised, this is a
 * comparison of vv entries (in any order) and of the clouds element by element.
 */
export function contextEquals(a: CausalContext, b: CausalContext): boolean {
  if (a === b) return true;
  if (a.vv.size !== b.vv.size || a.cloud.length !== b.cloud.length) return false;
  for (const [actor, counter] of a.vv) {
    if (b.vv.get(actor) !== counter) return false;
  }
  return a.cloud.every((dot, index) => {
    const other = b.cloud[index];
    return other !== undefined && compareDots(dot, other) === 0;
  });
}

/**
 * The context covering exactly `dots` (duplicates allowed, any order). Law:
 * `contextCovers(contextFromDots(ds), d) ⇔ d ∈ ds`.
 */
export function contextFromDots(dots: Iterable<Dot>): CausalContext {
  const copies: Dot[] = [];
  for (const dot of dots) {
    assertDot(dot);
    copies.push({ actor: dot.actor, counter: dot.counter });
  }
  return normalise(new Map(), copies);
}
