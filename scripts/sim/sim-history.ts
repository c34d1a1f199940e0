// What the simulated clients did and saw: every write with the value it wrote (unique), the
// context it sent and the dot it got back, and every read's siblings. The checker judges the
// run from this and from the replicas' final objects.

import type { CausalContext, Dot } from "../../node/core/causal-context.js";

/** A write's outcome as its client knows it. A failed write may still have landed. */
export type WriteStatus = "pending" | "ok" | "failed" | "indeterminate";

/** One client write. */
export interface WriteRecord {
  readonly id: number;
  readonly client: number;
  readonly key: string;
  /** Unique over the run, so a value read names the write that made it. */
  readonly value: string;
  /** The causal context the client sent (decoded); empty for a blind write. */
  readonly context: CausalContext;
  /** Set workload: the element this write added (its id). */
  readonly element: number | undefined;
  /** dw ≥ 1: acknowledged means durable somewhere, so it must never be lost. */
  readonly durableRequired: boolean;
  readonly invokedMs: number;
  status: WriteStatus;
  /** The dot of the new version, from the reply (known only when acknowledged). */
  dot: Dot | undefined;
  error: string | undefined;
}

/** A sibling as a client saw it. */
export interface ObservedSibling {
  readonly value: string;
  readonly dot: Dot;
}

/** One successful read. */
export interface ReadRecord {
  readonly key: string;
  /** The client, or -1 for the convergence phase's reads. */
  readonly client: number;
  readonly siblings: readonly ObservedSibling[];
  readonly timeMs: number;
}

/** The history of one run. */
export class History {
  readonly writes: WriteRecord[] = [];
  readonly reads: ReadRecord[] = [];
  #nextWriteId = 1;

  /** A fresh write id (also the set element a set write adds). */
  nextWriteId(): number {
    return this.#nextWriteId++;
  }

  /** Counts of writes by status. */
  writeCounts(): Record<WriteStatus, number> {
    const counts: Record<WriteStatus, number> = { pending: 0, ok: 0, failed: 0, indeterminate: 0 };
    for (const write of this.writes) counts[write.status] += 1;
    return counts;
  }
}

/** The set a set-workload value holds: `w<id>:<e1>,<e2>,...`. */
export function setElementsOf(value: string): number[] {
  const colon = value.indexOf(":");
  if (colon < 0 || colon === value.length - 1) return [];
  return value
    .slice(colon + 1)
    .split(",")
    .map(Number);
}
