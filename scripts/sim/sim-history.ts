// What the simulated clients did and saw, recorded in the format of the one checker
// (scripts/nemesis/core/history.ts) that judges live nemesis runs too: every write with its
// unique value, the context it sent, its outcome and the dot it got back; every read's siblings.

import type { Outcome, ReadRecord, WriteRecord } from "../nemesis/core/history.js";

/** The history of one run. */
export class SimHistory {
  readonly writes: WriteRecord[] = [];
  readonly reads: ReadRecord[] = [];
  #nextId = 1;

  /** A fresh operation id (a write's id is also the set element it adds). */
  nextId(): number {
    return this.#nextId++;
  }

  /** Counts of writes by outcome. */
  writeCounts(): Record<Outcome, number> {
    const counts: Record<Outcome, number> = { ok: 0, fail: 0, indeterminate: 0 };
    for (const write of this.writes) counts[write.outcome] += 1;
    return counts;
  }
}
