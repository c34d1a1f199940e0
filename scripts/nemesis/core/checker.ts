// The sibling-aware checker of every fault run, live (the nemesis) and simulated (scripts/sim/)
// (../shared/reference/testing.md §2, "sibling-store checker"; Jepsen's set check for the set
// workload). Its core rule (DESIGN.md §8): every acknowledged write is among the final siblings
// or was superseded, transitively, by a write whose context covered it; no value appears that
// nobody wrote; and nothing an acknowledged write superseded (a deleted key's versions included)
// comes back. Pure: no IO, clock or randomness.

import { divergentCopies } from "./convergence.js";
import type { RunHistory, WorkloadName, WriteRecord } from "./history.js";
import { setElementsOf } from "./history.js";
import { checkLostWrites, checkResurrected } from "./supersession.js";
import {
  FAILING_FINDINGS,
  WriteIndex,
  checkConcurrent,
  short,
  type Finding,
  type Observation,
  type Report,
} from "./observations.js";

/** Messages kept per finding; the counts are always complete. */
const EXAMPLES_PER_FINDING_MAX = 5;

/** Per-key figures for the summary. */
export interface KeySummary {
  readonly key: string;
  readonly workload: WorkloadName;
  readonly writesOk: number;
  readonly writesIndeterminate: number;
  readonly writesFailed: number;
  /** Most siblings one observation of the key held. */
  readonly siblingsMax: number;
  /** Siblings of the final r=all read. */
  readonly finalSiblings: number;
  /** Distinct clients that wrote the key: a loose upper bound on concurrent writers. */
  readonly writers: number;
}

/** The verdict and its evidence. */
export interface CheckResult {
  /** True when no failing finding was counted. */
  readonly valid: boolean;
  readonly counts: Readonly<Record<Finding, number>>;
  readonly examples: readonly string[];
  readonly writes: { readonly ok: number; readonly fail: number; readonly indeterminate: number };
  /**
   * Acknowledged writes that are gone with no durable copy promised (dw=0, or dw ≤ 1 by a
   * force-removed node): allowed, reported.
   */
  readonly lostUndurable: number;
  readonly reads: { readonly ok: number; readonly fail: number; readonly indeterminate: number };
  /** Set workload: acknowledged elements, and how many of them the final sets lack. */
  readonly elements: {
    readonly acknowledged: number;
    readonly lost: number;
    /** Indeterminate adds that made it into the final sets (allowed). */
    readonly indeterminatePresent: number;
  };
  readonly keys: readonly KeySummary[];
  readonly converged: boolean;
  readonly convergenceMs: number;
}

/** Checks a whole run. */
export function checkRun(history: RunHistory): CheckResult {
  const counts = emptyCounts();
  const examples: string[] = [];
  const reported = new Set<string>();
  const report: Report = (finding, message, once) => {
    if (once !== undefined) {
      if (reported.has(`${finding}/${once}`)) return;
      reported.add(`${finding}/${once}`);
    }
    counts[finding] += 1;
    if (counts[finding] <= EXAMPLES_PER_FINDING_MAX) examples.push(`${finding}: ${message}`);
  };
  const index = new WriteIndex(history.writes, report);
  const siblingsMax = new Map<string, number>();
  const observe = (observation: Observation): WriteRecord[] => {
    const versions = index.resolve(observation, report);
    checkConcurrent(observation, versions, report);
    const max = siblingsMax.get(observation.key) ?? 0;
    siblingsMax.set(observation.key, Math.max(max, observation.siblings.length));
    return [...new Set(versions.map((version) => version.write))];
  };
  for (const read of history.reads) {
    if (read.outcome !== "ok") continue;
    observe({
      key: read.key,
      what: `read ${read.id} by client ${read.client}`,
      siblings: read.siblings,
      context: read.context,
      completeMs: read.completeMs,
    });
  }
  const finalWrites = new Map<string, WriteRecord[]>();
  for (const final of history.finals) {
    for (const copy of final.copies) {
      if (copy.found) {
        observe({
          key: final.key,
          what: `${copy.node}'s copy`,
          siblings: copy.siblings,
          context: copy.context,
        });
      }
    }
    const what = "final r=all read";
    finalWrites.set(final.key, observe({ ...final, what }));
    for (const why of divergentCopies(final)) report("divergent-replicas", `${final.key}: ${why}`);
  }
  if (!history.convergence.converged) {
    report(
      "not-converged",
      `replicas still differed ${history.convergence.afterHealMs} ms after the heal`,
    );
  }
  const lostNodes = new Set(history.lostNodes ?? []);
  const undurable = checkLostWrites(history.writes, finalWrites, index, report, lostNodes);
  checkResurrected(history, index, report, lostNodes);
  const elements = checkSetElements(history, report, undurable);
  return {
    valid: [...FAILING_FINDINGS].every((finding) => counts[finding] === 0),
    counts,
    examples,
    writes: outcomeCounts(history.writes),
    lostUndurable: undurable.size,
    reads: outcomeCounts(history.reads),
    elements,
    keys: keySummaries(history, siblingsMax),
    converged: history.convergence.converged,
    convergenceMs: history.convergence.afterHealMs,
  };
}

function emptyCounts(): Record<Finding, number> {
  return {
    "lost-write": 0,
    "lost-element": 0,
    phantom: 0,
    "failed-write-visible": 0,
    "duplicate-dot": 0,
    "duplicate-value": 0,
    "siblings-not-concurrent": 0,
    "divergent-replicas": 0,
    "not-converged": 0,
    "unexplained-ack": 0,
    resurrected: 0,
  };
}

/**
 * Jepsen's set check: every acknowledged element is in the union of the final siblings, and
 * every element there was added by some attempted write of that key. An element whose write
 * was lost with no durable copy promised (`undurable`, from checkLostWrites) may be lost too.
 */
function checkSetElements(
  history: RunHistory,
  report: Report,
  undurable: ReadonlySet<WriteRecord>,
): CheckResult["elements"] {
  let acknowledged = 0;
  let lost = 0;
  let indeterminatePresent = 0;
  for (const final of history.finals) {
    if (final.workload !== "set") continue;
    const union = new Set<number>();
    for (const sibling of final.siblings) {
      for (const element of setElementsOf(sibling.value)) union.add(element);
    }
    const attempted = new Set<number>();
    for (const write of history.writes) {
      if (write.key !== final.key || write.element === undefined) continue;
      attempted.add(write.element);
      if (write.outcome === "indeterminate" && union.has(write.element)) indeterminatePresent++;
      // An acknowledged dw=0 add may be lost with its write, and so may one whose write was lost
      // with no durable copy promised (dw ≤ 1 by a force-removed node): counted as lostUndurable.
      if (write.outcome !== "ok" || write.durableRequired === false || undurable.has(write)) {
        continue;
      }
      acknowledged += 1;
      if (union.has(write.element)) continue;
      lost += 1;
      report(
        "lost-element",
        `${final.key}: element ${write.element} was acknowledged but is not in the final set`,
      );
    }
    for (const element of union) {
      if (!attempted.has(element)) {
        report("phantom", `${final.key}: element ${element} in the final set was never added`);
      }
    }
  }
  return { acknowledged, lost, indeterminatePresent };
}

function outcomeCounts(records: readonly { readonly outcome: string }[]): CheckResult["writes"] {
  let ok = 0;
  let fail = 0;
  let indeterminate = 0;
  for (const record of records) {
    if (record.outcome === "ok") ok++;
    else if (record.outcome === "fail") fail++;
    else indeterminate++;
  }
  return { ok, fail, indeterminate };
}

function keySummaries(history: RunHistory, siblingsMax: ReadonlyMap<string, number>): KeySummary[] {
  return history.finals.map((final) => {
    const writes = history.writes.filter((write) => write.key === final.key);
    return {
      key: final.key,
      workload: final.workload,
      writesOk: writes.filter((write) => write.outcome === "ok").length,
      writesIndeterminate: writes.filter((write) => write.outcome === "indeterminate").length,
      writesFailed: writes.filter((write) => write.outcome === "fail").length,
      siblingsMax: siblingsMax.get(final.key) ?? 0,
      finalSiblings: final.siblings.length,
      writers: new Set(writes.map((write) => write.client)).size,
    };
  });
}
