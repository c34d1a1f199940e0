// What the nemesis clients did and saw, as plain data: every write with its unique value, the
// causal context it sent (decoded) and the dot it got back, every read's siblings, the final
// reads after the heal, and the fault windows. The checker judges a run from this alone.
// Pure: types and small helpers, no IO, clock or randomness.

import type { CausalContext, Dot } from "../../../node/core/causal-context.js";

/**
 * How an operation ended, Jepsen-style: `ok` happened; `fail` certainly did not happen (the
 * request never reached a node, or was refused before anything was stored); `indeterminate`
 * may or may not have happened (a timeout, a dropped connection, a quorum that failed after
 * the coordinator stored locally). An indeterminate write is never counted as lost.
 */
export type Outcome = "ok" | "fail" | "indeterminate";

/** The two workloads: Jepsen's Riak set test, and a register written with contexts. */
export type WorkloadName = "set" | "register";

/**
 * A sibling as a client saw it: the value names its write, the vtag names its dot. A client
 * that sees dots directly (the simulation) gives the dot too; the live nemesis learns it from
 * contexts (dots.ts).
 */
export interface ObservedSibling {
  readonly value: string;
  readonly vtag: string;
  readonly lastModifiedMs: number;
  readonly dot?: Dot | undefined;
}

/** One write (a put with the context of the read before it). */
export interface WriteRecord {
  readonly id: number;
  readonly client: number;
  readonly workload: WorkloadName;
  readonly key: string;
  /** Unique over the run (`<client>.<seq>` prefix), so a value read names this write. */
  readonly value: string;
  /** Set workload: the one element this write added; undefined for the register. */
  readonly element: number | undefined;
  /** The context sent with the put (decoded); EMPTY_CONTEXT for a blind write. */
  readonly context: CausalContext;
  /** The vtags of the siblings the preceding read returned: what this write meant to cover. */
  readonly coveredVtags: readonly string[];
  readonly invokeMs: number;
  readonly completeMs: number;
  readonly outcome: Outcome;
  /** The dot of the version this write made: known when acknowledged. */
  readonly dot: Dot | undefined;
  readonly vtag: string | undefined;
  readonly error: string | undefined;
  /**
   * False for a write made with dw=0: acknowledged before any disk had it, so a crash may lose
   * it (counted as lostUndurable, not a failure). Undefined means true.
   */
  readonly durableRequired?: boolean | undefined;
  /**
   * The dw the write was made with, when known: with dw ≤ 1 only the coordinator's disk was
   * sure to hold it, so a write whose coordinator was force-removed (its disk gone for good)
   * may be lost by one more crash elsewhere, as dw promises no more.
   */
  readonly durableCopies?: number | undefined;
  /** A delete: its version is a tombstone, which no read shows and the reaper removes. */
  readonly deleted?: boolean | undefined;
}

/** One read during the run (the first half of a read-modify-write). */
export interface ReadRecord {
  readonly id: number;
  readonly client: number;
  readonly workload: WorkloadName;
  readonly key: string;
  readonly invokeMs: number;
  readonly completeMs: number;
  readonly outcome: Outcome;
  /** Only for ok reads. */
  readonly siblings: readonly ObservedSibling[];
  /** The context the read returned (decoded); only for ok reads. */
  readonly context: CausalContext | undefined;
  readonly error: string | undefined;
}

/** One node's own copy of a key (Admin.LocalGet) after the heal. */
export interface LocalCopy {
  readonly node: string;
  readonly found: boolean;
  readonly siblings: readonly ObservedSibling[];
  readonly context: CausalContext;
}

/** The final state of one key: the r=all read and every node's copy. */
export interface FinalKey {
  readonly key: string;
  readonly workload: WorkloadName;
  /** The key's n primaries. */
  readonly primaries: readonly string[];
  /** The read at r=all after convergence (or after giving up on it). */
  readonly siblings: readonly ObservedSibling[];
  readonly context: CausalContext;
  readonly copies: readonly LocalCopy[];
}

/** One fault of the schedule as it was actually applied, in run time (ms since start). */
export interface FaultWindow {
  readonly kind: string;
  readonly description: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** Everything the checker reads. */
export interface RunHistory {
  readonly writes: readonly WriteRecord[];
  readonly reads: readonly ReadRecord[];
  readonly finals: readonly FinalKey[];
  /** Whether replicas were seen equal before the deadline, and how long after the heal. */
  readonly convergence: { readonly converged: boolean; readonly afterHealMs: number };
  /** Nodes force-removed from the cluster: their disks count as lost for good. */
  readonly lostNodes?: readonly string[];
}

/** The value a set write stores: `<tag>|e1,e2,...` (elements ascending). */
export function formatSetValue(tag: string, elements: Iterable<number>): string {
  return `${tag}|${[...elements].sort((a, b) => a - b).join(",")}`;
}

/** The elements of a set value; [] for a value without elements or not in set format. */
export function setElementsOf(value: string): number[] {
  const bar = value.indexOf("|");
  if (bar < 0 || bar === value.length - 1) return [];
  return value
    .slice(bar + 1)
    .split(",")
    .map(Number)
    .filter((element) => Number.isSafeInteger(element));
}

/** The tag of a set value (what names its write); the whole value when it has no `|`. */
export function valueTag(value: string): string {
  const bar = value.indexOf("|");
  return bar < 0 ? value : value.slice(0, bar);
}
