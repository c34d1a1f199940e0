// When a deleted key may be reaped (DESIGN §4 "Delete"): the facts a reaping round gathers and
// the rules that decide on them. A tombstone is removed only when every primary holds the same
// tombstone-only object, it is older than the grace period, every member is up and no hint is
// pending anywhere: then no copy that the tombstone supersedes can come back. Pure: no IO,
// clock or randomness; callers pass the time.

import type { DvvSet } from "./dvv.js";
import { values } from "./dvv.js";

/**
 * The time of the newest delete when every version of the object is a tombstone; undefined
 * when any version is live (or the object is empty).
 */
export function tombstoneSince(object: DvvSet): number | undefined {
  const siblings = values(object);
  if (siblings.length === 0) return undefined;
  let newestMs = 0;
  for (const sibling of siblings) {
    if (!sibling.deleted) return undefined;
    newestMs = Math.max(newestMs, sibling.lastModifiedMs);
  }
  return newestMs;
}

/** What a reaping node knows of the cluster at the start of a round. */
export interface ReapFacts {
  /** Every member of the ring. */
  readonly members: readonly string[];
  /** The members this node believes up (itself included). */
  readonly up: ReadonlySet<string>;
  /** Peers whose traffic is dropped by fault injection. */
  readonly dropped: readonly string[];
  /** Hints pending per node that answered, summed over its targets. */
  readonly hintsPending: ReadonlyMap<string, number>;
}

/**
 * Why no tombstone may be reaped now, or undefined when a round may go ahead. A down or cut-off
 * member may hold a fallback copy or a hint of an older write that would come back; so may a
 * node with hints pending.
 */
export function reapBlocker(facts: ReapFacts): string | undefined {
  const down = facts.members.filter((member) => !facts.up.has(member));
  if (down.length > 0) return `members down: ${down.join(", ")}`;
  if (facts.dropped.length > 0) return `traffic dropped to: ${facts.dropped.join(", ")}`;
  for (const member of facts.members) {
    const pending = facts.hintsPending.get(member);
    if (pending === undefined) return `hints pending on ${member} unknown (no answer)`;
    if (pending > 0) return `${pending} hints pending on ${member}`;
  }
  return undefined;
}

/** True when a tombstone written at `sinceMs` has waited out the grace period at `nowMs`. */
export function graceElapsed(sinceMs: number, nowMs: number, graceMs: number): boolean {
  return nowMs - sinceMs >= graceMs;
}
