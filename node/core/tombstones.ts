// When a deleted key may be reaped (DESIGN §4 "Delete"): the plan of a reaping round (which
// tombstones, grouped by the primaries that must agree), the facts the round gathers and the
// rule that decides on them. A tombstone is removed only when every primary holds the same
// tombstone-only object, it is older than the grace period, every member is up and no hint is
// pending anywhere: then no copy that the tombstone supersedes can come back. Pure: no IO,
// clock or randomness; callers pass the time.

import type { DvvSet } from "./dvv.js";
import { values } from "./dvv.js";
import type { NodeId } from "./node-id.js";

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
  /**
   * The layout version whose data is still moving, when a membership change is under way: a
   * node gaining a partition may not hold a delete's older write yet, nor its tombstone.
   */
  readonly transitionOf?: number | undefined;
  /**
   * The layout version this node follows, and each member's that answered: a member that
   * follows another (a change committed that this node has not heard of yet, or the reverse)
   * may hold a write its new owners took, which a reap among the old ones would not see.
   */
  readonly layoutVersion?: number | undefined;
  readonly layoutVersions?: ReadonlyMap<string, number> | undefined;
}

/**
 * Why no tombstone may be reaped now, or undefined when a round may go ahead. A down or cut-off
 * member may hold a fallback copy or a hint of an older write that would come back; so may a
 * node with hints pending.
 */
export function reapBlocker(facts: ReapFacts): string | undefined {
  if (facts.transitionOf !== undefined) {
    return `layout ${facts.transitionOf} is moving data to new owners`;
  }
  const down = facts.members.filter((member) => !facts.up.has(member));
  if (down.length > 0) return `members down: ${down.join(", ")}`;
  if (facts.dropped.length > 0) return `traffic dropped to: ${facts.dropped.join(", ")}`;
  for (const member of facts.members) {
    const version = facts.layoutVersions?.get(member);
    if (facts.layoutVersion !== undefined && version !== undefined) {
      if (version !== facts.layoutVersion) {
        return `${member} follows layout ${version}, this node ${facts.layoutVersion}`;
      }
    }
    const pending = facts.hintsPending.get(member);
    if (pending === undefined) return `hints pending on ${member} unknown (no answer)`;
    if (pending > 0) return `${pending} hints or handed-over partitions pending on ${member}`;
  }
  return undefined;
}

/** True when a tombstone written at `sinceMs` has waited out the grace period at `nowMs`. */
export function graceElapsed(sinceMs: number, nowMs: number, graceMs: number): boolean {
  return nowMs - sinceMs >= graceMs;
}

/** True when a tombstone held since `heldSinceMs` (monotonic) has been held `heldMsMin`. */
export function heldLongEnough(
  heldSinceMs: number,
  monotonicMs: number,
  heldMsMin: number,
): boolean {
  return monotonicMs - heldSinceMs >= heldMsMin;
}

/** A tombstone-only key of a node's index, as far as planning cares. */
export interface IndexedTombstone {
  readonly partition: number;
  /** The time of its newest delete ({@link tombstoneSince}): a coordinator's wall clock. */
  readonly sinceMs: number;
  /**
   * Since when this node has held it with that newest delete, on its monotonic clock (from its
   * start for what it found at start): no wall-clock step or skew moves it.
   */
  readonly heldSinceMs: number;
}

/** Keys whose reaping the same other primaries must agree to. */
export interface ReapGroup<T> {
  /** The key's primaries other than this node, in preference-list order. */
  readonly peers: readonly NodeId[];
  readonly keys: readonly T[];
}

/** What one round takes on. */
export interface ReapPlan<T> {
  /** Keys in the plan, at most keysPerRoundMax. */
  readonly candidates: number;
  /** One group per set of other primaries, in the order first met; keys in index order. */
  readonly groups: readonly ReapGroup<T>[];
}

/** What planning needs to know at the start of a round. */
export interface ReapRoundInput {
  readonly self: NodeId;
  /** The members this node believes up (itself included). */
  readonly up: ReadonlySet<NodeId>;
  /** A partition's primaries, in preference-list order. */
  readonly primariesOf: (partition: number) => readonly NodeId[];
  /** This node's wall clock now. */
  readonly nowMs: number;
  readonly graceMs: number;
  /** This node's monotonic clock now. */
  readonly monotonicMs: number;
  /** How long this node must have held a tombstone (limits.ts writeLifeMs). */
  readonly heldMsMin: number;
  readonly keysPerRoundMax: number;
}

/**
 * Plans a round: the tombstones, taken in index order up to keysPerRoundMax, whose grace has
 * passed, that this node has held for heldMsMin, and whose partition this node leads, grouped
 * by the other primaries that must agree. This node leads a partition when it is the first of
 * the partition's primaries it believes up; while a primary is down nothing is reaped anyway
 * (see {@link reapBlocker}), but the leader plans and then says why it waits. Two nodes that
 * both believe they lead are harmless: every removal is conditional on the copy being
 * unchanged.
 */
export function planReapRound<T extends IndexedTombstone>(
  tombstones: Iterable<T>,
  input: ReapRoundInput,
): ReapPlan<T> {
  const groups = new Map<string, { peers: NodeId[]; keys: T[] }>();
  let candidates = 0;
  for (const tombstone of tombstones) {
    if (candidates >= input.keysPerRoundMax) break;
    if (!graceElapsed(tombstone.sinceMs, input.nowMs, input.graceMs)) continue;
    if (!heldLongEnough(tombstone.heldSinceMs, input.monotonicMs, input.heldMsMin)) continue;
    const primaries = input.primariesOf(tombstone.partition);
    if (primaries.find((node) => input.up.has(node)) !== input.self) continue;
    const peers = primaries.filter((node) => node !== input.self);
    const name = peers.join(",");
    let group = groups.get(name);
    if (group === undefined) groups.set(name, (group = { peers, keys: [] }));
    group.keys.push(tombstone);
    candidates += 1;
  }
  return { candidates, groups: [...groups.values()] };
}

/**
 * The keys every asked peer agreed on: `expected` narrowed to the entries whose answer is
 * true, answer by answer. A key one peer declines (its copy differs) is not reaped anywhere.
 */
export function agreedKeys<T>(expected: readonly T[], answer: readonly boolean[]): T[] {
  return expected.filter((_, index) => answer[index] === true);
}
