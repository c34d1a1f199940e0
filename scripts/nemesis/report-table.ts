// The terminal summary of a nemesis run (cli-table3): the verdict, every checked invariant with
// its count, the operation counts, convergence, and per-key sibling figures.

import Table from "cli-table3";
import type { CheckResult } from "./core/checker.js";
import { FAILING_FINDINGS, type Finding } from "./core/observations.js";
import type { FaultWindow } from "./core/history.js";
import type { MembershipLaneReport } from "./membership-lane.js";

/** What the summary needs besides the check. */
export interface RunFacts {
  readonly seed: number;
  readonly lww: boolean;
  readonly durationMs: number;
  readonly faults: readonly FaultWindow[];
  readonly unavailable: readonly string[];
  /** A --membership run: its steps, and the keys that ended with fewer than n copies. */
  readonly membership?: MembershipFacts | undefined;
}

/** The membership steps of a run and the copies every key ended with. */
export interface MembershipFacts extends MembershipLaneReport {
  readonly n: number;
  /** `key: copies/n` for every key with fewer than n full copies on its primaries. */
  readonly shortOfCopies: readonly string[];
}

/** Pass: the checker found nothing and every membership step settled with n copies of all. */
export function runVerdict(check: CheckResult, facts: RunFacts): boolean {
  const membership = facts.membership;
  const settled =
    membership === undefined || (membership.completed && membership.shortOfCopies.length === 0);
  return check.valid && settled;
}

const FINDING_LABELS: Readonly<Record<Finding, string>> = {
  "lost-write": "acknowledged writes lost (versions)",
  "lost-element": "acknowledged set elements lost",
  phantom: "phantoms (values nobody wrote)",
  "failed-write-visible": "definitely failed writes visible",
  "duplicate-dot": "duplicate dots (one version, two values)",
  "duplicate-value": "duplicates (one write, two versions; warning)",
  "siblings-not-concurrent": "siblings that were not concurrent",
  "divergent-replicas": "divergent replicas after convergence",
  "not-converged": "not converged before the deadline",
  "unexplained-ack": "acks without a new dot",
  resurrected: "superseded or deleted versions back",
};

/** Plain tables: no colours (output is often piped), no rules between rows. */
const PLAIN = {
  style: { head: [], border: [] },
  chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
};

/** The summary as text. */
export function summaryTable(check: CheckResult, facts: RunFacts): string {
  const verdict = new Table({
    ...PLAIN,
    head: ["verdict", runVerdict(check, facts) ? "PASS" : "FAIL"],
    colWidths: [16, 84],
    wordWrap: true,
  });
  verdict.push(
    ["seed", String(facts.seed)],
    [
      "set resolution",
      facts.lww ? "last-write-wins (control: must lose writes)" : "union of siblings",
    ],
    ["workload time", `${(facts.durationMs / 1000).toFixed(1)} s`],
    ["faults", facts.faults.map((fault) => fault.description).join("\n") || "none"],
    ["not injected", facts.unavailable.join("\n") || "-"],
  );
  const findings = new Table({ ...PLAIN, head: ["invariant", "count", ""] });
  for (const [finding, label] of Object.entries(FINDING_LABELS) as [Finding, string][]) {
    const count = check.counts[finding];
    const mark = count === 0 ? "ok" : FAILING_FINDINGS.has(finding) ? "FAIL" : "warn";
    findings.push([label, String(count), mark]);
  }
  const ops = new Table({ ...PLAIN, head: ["operations", "ok", "fail", "indeterminate"] });
  ops.push(
    ["writes", check.writes.ok, check.writes.fail, check.writes.indeterminate].map(String),
    ["reads", check.reads.ok, check.reads.fail, check.reads.indeterminate].map(String),
  );
  const other = new Table({ ...PLAIN, head: ["figure", "value"] });
  other.push(
    ["set elements acknowledged", String(check.elements.acknowledged)],
    ["set elements lost", String(check.elements.lost)],
    ["indeterminate elements present", String(check.elements.indeterminatePresent)],
    [
      "convergence after heal",
      check.converged ? `${check.convergenceMs} ms` : `NOT after ${check.convergenceMs} ms`,
    ],
  );
  const keys = new Table({
    ...PLAIN,
    head: ["key", "workload", "writes ok", "indet.", "failed", "siblings max", "final", "writers"],
  });
  for (const key of check.keys) {
    keys.push(
      [
        key.key,
        key.workload,
        key.writesOk,
        key.writesIndeterminate,
        key.writesFailed,
        key.siblingsMax,
        key.finalSiblings,
        key.writers,
      ].map(String),
    );
  }
  const examples = check.examples.length > 0 ? `\n${check.examples.join("\n")}` : "";
  const tables = [verdict, findings, ops, other, keys].map((table) => table.toString());
  if (facts.membership !== undefined) tables.push(membershipSummary(facts.membership));
  return tables.join("\n") + examples;
}

/**
 * One row per membership step: what, when, how long, the layout every member settled on; then
 * whether every step settled and every key has n copies.
 */
function membershipSummary(membership: MembershipFacts): string {
  const table = new Table({
    ...PLAIN,
    head: ["membership step", "start s", "commit→settled s", "total s", "layout", "members"],
  });
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  for (const step of membership.steps) {
    const transfer =
      step.committedMs !== undefined && step.settledMs !== undefined
        ? seconds(step.settledMs - step.committedMs)
        : "-";
    table.push([
      step.error === undefined ? step.description : `${step.description}: FAILED ${step.error}`,
      seconds(step.startMs),
      transfer,
      seconds(step.durationMs),
      step.version === undefined ? "-" : `v${step.version} on all`,
      step.members.join(","),
    ]);
  }
  const copies =
    membership.shortOfCopies.length === 0
      ? `every key has ${membership.n} copies on its primaries`
      : `fewer than ${membership.n} copies: ${membership.shortOfCopies.join("; ")}`;
  const state = membership.completed ? "every step settled" : "NOT every step settled";
  return `${table.toString()}\nmembership: ${state}; ${copies}`;
}
