// Learning the dot of a write from what a client sees, without a test-only field in the
// protocol: a put's reply context is its sent context plus exactly the new dot, and a sibling's
// vtag is a hash of its dot, so a dot can be found among the dots a read's context covers.
// Pure: no IO, clock or randomness.

import { contextCovers, type CausalContext, type Dot } from "../../../node/core/causal-context.js";
import { vtag as vtagOf } from "../../../node/core/dvv.js";

/** Dots hashed at most per search: bounds the work of a context with huge counters. */
const SEARCH_DOTS_MAX = 200_000;

/**
 * The one dot `reply` covers and `sent` does not: the dot of the acknowledged write, when the
 * reply is `contextAdd(sent, dot)` (DESIGN.md §2, kv-server). Undefined when there is not
 * exactly one such dot, or when `expectedVtag` is given and does not match it.
 */
export function dotAddedBy(
  sent: CausalContext,
  reply: CausalContext,
  expectedVtag?: string,
): Dot | undefined {
  const added: Dot[] = [];
  const note = (dot: Dot): boolean => {
    if (!contextCovers(sent, dot)) added.push(dot);
    return added.length > 1;
  };
  for (const dot of reply.cloud) if (note(dot)) return undefined;
  // Only counters above what sent covers contiguously can be new: O(difference), not O(reply).
  for (const [actor, counter] of reply.vv) {
    for (let at = counter; at > (sent.vv.get(actor) ?? 0); at--) {
      if (note({ actor, counter: at })) return undefined;
    }
  }
  const [dot] = added;
  if (dot === undefined) return undefined;
  if (expectedVtag !== undefined && vtagOf(dot) !== expectedVtag) return undefined;
  return dot;
}

/**
 * The dots of `context` whose vtags are in `vtags`, newest counters first (a sibling is usually
 * a recent write). Stops after SEARCH_DOTS_MAX hashes; what is not found is absent.
 */
export function findDotsByVtag(
  context: CausalContext,
  vtags: ReadonlySet<string>,
): Map<string, Dot> {
  const found = new Map<string, Dot>();
  if (vtags.size === 0) return found;
  let hashed = 0;
  for (const dot of dotsOf(context, () => true)) {
    hashed += 1;
    const tag = vtagOf(dot);
    if (vtags.has(tag)) found.set(tag, dot);
    if (found.size === vtags.size || hashed >= SEARCH_DOTS_MAX) break;
  }
  return found;
}

/**
 * The dots of a context that pass `keep`, cloud dots first, then each actor's contiguous range
 * from its highest counter down. Lazy, so a caller can stop early. Counts of unbounded contexts
 * are the caller's to bound.
 */
function* dotsOf(context: CausalContext, keep: (dot: Dot) => boolean): Generator<Dot> {
  for (const dot of context.cloud) if (keep(dot)) yield dot;
  const ranges = [...context.vv.entries()];
  const cursors = ranges.map(([, counter]) => counter);
  // Round-robin over the actors so that the newest dots of every actor come first.
  for (let live = ranges.length; live > 0;) {
    live = 0;
    for (let index = 0; index < ranges.length; index++) {
      const counter = cursors[index] ?? 0;
      const actor = ranges[index]?.[0];
      if (counter < 1 || actor === undefined) continue;
      live += 1;
      cursors[index] = counter - 1;
      const dot = { actor, counter };
      if (keep(dot)) yield dot;
    }
  }
}
