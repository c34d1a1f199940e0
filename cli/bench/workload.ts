// The YCSB core workloads dkv's bench runs (A, B, C, F), how an operation is chosen, and how a
// record number becomes a key. Pure: randomness comes in as a SeededRandom.

import type { SeededRandom } from "../../node/core/seeded-random.js";

/** The operation kinds of the workloads: update writes with the last context seen for the key;
 * rmw is YCSB's read-modify-write (a get, then a put with that get's context), timed as one;
 * insert writes a key nobody wrote before (no context, nothing to merge with). */
export type OperationKind = "read" | "update" | "rmw" | "insert";

/** Every kind, in report order. */
export const OPERATION_KINDS: readonly OperationKind[] = ["read", "update", "rmw", "insert"];

/** A workload: the share of each operation kind (the shares sum to 1). */
export interface Workload {
  readonly name: WorkloadName;
  readonly description: string;
  readonly proportions: Readonly<Record<OperationKind, number>>;
}

export type WorkloadName = "a" | "b" | "c" | "f" | "insert";

/** YCSB's core workloads (workloads/workloada … workloadf in the YCSB repository). */
export const WORKLOADS: Readonly<Record<WorkloadName, Workload>> = {
  a: {
    name: "a",
    description: "update heavy: 50% read, 50% update",
    proportions: { read: 0.5, update: 0.5, rmw: 0, insert: 0 },
  },
  b: {
    name: "b",
    description: "read mostly: 95% read, 5% update",
    proportions: { read: 0.95, update: 0.05, rmw: 0, insert: 0 },
  },
  c: {
    name: "c",
    description: "read only: 100% read",
    proportions: { read: 1, update: 0, rmw: 0, insert: 0 },
  },
  f: {
    name: "f",
    description: "read-modify-write: 50% read, 50% get-then-put with the get's context",
    proportions: { read: 0.5, update: 0, rmw: 0.5, insert: 0 },
  },
  insert: {
    name: "insert",
    description: "new keys only: 100% puts of keys never written (YCSB's load phase)",
    proportions: { read: 0, update: 0, rmw: 0, insert: 1 },
  },
};

/** True when the text names a workload. */
export function isWorkloadName(text: string): text is WorkloadName {
  return Object.hasOwn(WORKLOADS, text);
}

/** Picks the next operation kind with the workload's proportions. */
export function chooseOperation(workload: Workload, random: SeededRandom): OperationKind {
  let draw = random.nextDouble();
  for (const kind of OPERATION_KINDS) {
    const share = workload.proportions[kind];
    if (draw < share) return kind;
    draw -= share;
  }
  return "read"; // only reachable through rounding when the shares sum to just under 1
}

/** The key of the `count`-th insert of worker `workerIndex`: the same width as keyName's. */
export function insertKeyName(workerIndex: number, count: number): string {
  return `new${String(workerIndex).padStart(3, "0")}${String(count).padStart(8, "0")}`;
}

/** The key of record number `index`, fixed width so that every key has the same size. */
export function keyName(index: number): string {
  return `user${String(index).padStart(10, "0")}`;
}
