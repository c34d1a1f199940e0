// When the replicas of a key agree, judged from the final reads: every primary holds exactly
// the versions and the context of the r=all read, and a copy left on any other node knows
// nothing the primaries do not (its whole context is included in theirs). Pure.

import {
  contextCovers,
  contextEquals,
  type CausalContext,
} from "../../../node/core/causal-context.js";
import type { FinalKey } from "./history.js";

/** True when every replica of the key agrees (see the file comment). */
export function keyConverged(final: FinalKey): boolean {
  return divergentCopies(final).length === 0;
}

/** The nodes whose copy of the key disagrees with the r=all read, with why. */
export function divergentCopies(final: FinalKey): string[] {
  const expected = new Set(final.siblings.map((sibling) => sibling.vtag));
  const divergent: string[] = [];
  for (const copy of final.copies) {
    if (final.primaries.includes(copy.node)) {
      const same = copy.found
        ? copy.siblings.length === expected.size &&
          copy.siblings.every((sibling) => expected.has(sibling.vtag)) &&
          contextEquals(copy.context, final.context)
        : expected.size === 0;
      if (!same) divergent.push(`primary ${copy.node} holds other versions than the r=all read`);
    } else if (copy.found && !contextIncludes(final.context, copy.context)) {
      divergent.push(`${copy.node} (not a primary) knows writes the primaries do not`);
    }
  }
  return divergent;
}

/** True when every dot of `small` is covered by `big`. */
export function contextIncludes(big: CausalContext, small: CausalContext): boolean {
  for (const dot of small.cloud) if (!contextCovers(big, dot)) return false;
  for (const [actor, counter] of small.vv) {
    for (let at = counter; at > (big.vv.get(actor) ?? 0); at--) {
      if (!contextCovers(big, { actor, counter: at })) return false;
    }
  }
  return true;
}
