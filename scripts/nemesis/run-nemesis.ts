// One live fault run, end to end: start a local cluster, run the set and register clients,
// inject the seeded nemesis schedule and (with --membership) make the membership steps, heal
// everything, wait for convergence, read every key at r=all and from every node alone, check
// the history, and write the summary and HTML report.

import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { QuorumText } from "../../coordinator/client.js";
import { ringsOf } from "../../node/core/layout.js";
import type { Ring } from "../../node/core/ring.js";
import { SeededRandom } from "../../node/core/seeded-random.js";
import { say } from "../lib/fault-cluster.js";
import { checkRun, type CheckResult } from "./core/checker.js";
import { describeFault, drawSchedule, type LiveFaultKind } from "./core/schedule.js";
import type { FaultWindow, RunHistory, WorkloadName } from "./core/history.js";
import {
  describeStep,
  keysShortOfCopies,
  membersAfter,
  planMembershipSteps,
  type MembershipStep,
} from "./core/membership-steps.js";
import { runFaultLane, sleepUntil } from "./fault-lane.js";
import { LINK_FAULTS, healEverything, type LinkFault } from "./faults.js";
import { readUntilConverged } from "./final-read.js";
import { metadataAt } from "./membership-calls.js";
import { runMembershipLane, type MembershipLaneReport } from "./membership-lane.js";
import { NemesisCluster } from "./nemesis-cluster.js";
import { Recorder } from "./recorder.js";
import { htmlReport } from "./report-html.js";
import { runVerdict, summaryTable, type RunFacts } from "./report-table.js";
import { startWorkload } from "./workload.js";

/** Everything a run is configured by (the CLI's flags). */
export interface NemesisOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly nodes: number;
  readonly clients: number;
  readonly setKeys: number;
  readonly registerKeys: number;
  readonly kinds: readonly LiveFaultKind[];
  /** Faults the user asked for that this cluster cannot inject, with the reason. */
  readonly unavailable: readonly string[];
  readonly intervalMs: number;
  readonly lww: boolean;
  readonly r: QuorumText;
  readonly w: QuorumText;
  readonly timeoutMs: number;
  readonly thinkMs: number;
  readonly convergeTimeoutMs: number;
  readonly aaeIntervalMs: number;
  readonly storage: string;
  readonly outDir: string;
  /** Replaces LINK_FAULTS.delay (default: LINK_FAULTS.delay). */
  readonly linkDelay?: LinkFault | undefined;
  /** Also write the whole history (every read, write and final read) to history.json. */
  readonly dumpHistory?: boolean | undefined;
  /**
   * Make the membership steps (core/membership-steps.ts) while the workload runs; the workload
   * then runs until the last step has settled, and at least durationMs.
   */
  readonly membership?: boolean | undefined;
}

/** What a run produced. */
export interface NemesisOutcome {
  /** The checker found nothing and, with --membership, every step settled with n copies. */
  readonly valid: boolean;
  readonly check: CheckResult;
  readonly facts: RunFacts;
  readonly reportPath: string;
  readonly summaryPath: string;
  readonly table: string;
}

/** The replication factor of the server's default bucket. */
const N = 3;
const PARTITION_COUNT = 64;
/** Run time of the first membership step: the workload has warmed up. */
const MEMBERSHIP_FIRST_AT_MS = 5_000;
/** Quiet time between one membership step settling and the next. */
const MEMBERSHIP_GAP_MS = 3_000;

/** Runs the whole test. Kills every node it started, also when something throws. */
export async function runNemesis(options: NemesisOptions): Promise<NemesisOutcome> {
  const outDir = path.resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const clusterDir = path.join(outDir, "cluster");
  // The nodes would recover an earlier run's data: its values repeat this run's value tags
  // (same clients, seqs and, with the same seed, keys), so the checker would see phantoms and
  // mistake old versions for this run's writes. Never delete it here: it may be evidence.
  if (existsSync(clusterDir) && readdirSync(clusterDir).length > 0) {
    throw new Error(
      `${clusterDir} holds the nodes' data of an earlier run; give a fresh --out (or delete it)`,
    );
  }
  const ids = Array.from({ length: options.nodes }, (_, index) => `n${index + 1}`);
  const schedule =
    options.kinds.length === 0
      ? []
      : drawSchedule({
          seed: options.seed,
          nodes: ids,
          kinds: options.kinds,
          durationMs: options.durationMs,
          intervalMs: options.intervalMs,
        });
  const steps = options.membership === true ? planMembershipSteps(ids, N) : [];
  say(
    `nemesis seed ${options.seed}: ${options.nodes} nodes (n=${N}, r=${options.r}, w=${options.w}), ` +
      `${options.clients} clients, ${(options.durationMs / 1000).toFixed(0)} s, ` +
      `set resolution ${options.lww ? "LAST-WRITE-WINS (control)" : "union"}; output in ${outDir}`,
  );
  for (const fault of schedule) {
    say(`  schedule ${fault.startMs}–${fault.endMs} ms: ${describeFault(fault)}`);
  }
  for (const reason of options.unavailable) say(`  not injected: ${reason}`);
  sayMembershipPlan(steps, ids.length, schedule.length > 0);
  const linkFaults = { ...LINK_FAULTS, delay: options.linkDelay ?? LINK_FAULTS.delay };
  const cluster = await NemesisCluster.start({
    nodes: options.nodes,
    dir: clusterDir,
    storage: options.storage,
    serveArgs: [`--aae-interval-ms=${options.aaeIntervalMs}`],
  });
  try {
    say(`cluster up: ${cluster.specs.map((spec) => `${spec.id}=${spec.address}`).join(" ")}`);
    const keys = [
      ...range(options.setKeys).map((i) => ({ key: `set-${i}`, workload: "set" as WorkloadName })),
      ...range(options.registerKeys).map((i) => ({
        key: `register-${i}`,
        workload: "register" as WorkloadName,
      })),
    ];
    const recorder = new Recorder(performance.now());
    const workload = startWorkload(
      {
        addresses: cluster.addresses,
        clients: options.clients,
        setKeys: keys.filter((key) => key.workload === "set").map((key) => key.key),
        registerKeys: keys.filter((key) => key.workload === "register").map((key) => key.key),
        lww: options.lww,
        seed: options.seed,
        r: options.r,
        w: options.w,
        timeoutMs: options.timeoutMs,
        thinkMs: options.thinkMs,
      },
      recorder,
    );
    say("workload started");
    const [windows, membership] = await bothLanes(
      runFaultLane({
        cluster,
        schedule,
        recorder,
        linkFaults,
        retarget: steps.length > 0 ? new SeededRandom(options.seed * 7 + 3) : undefined,
      }),
      steps.length === 0
        ? Promise.resolve(undefined)
        : runMembershipLane({
            cluster,
            workload,
            recorder,
            steps,
            seed: options.seed,
            firstAtMs: MEMBERSHIP_FIRST_AT_MS,
            gapMs: MEMBERSHIP_GAP_MS,
          }),
    );
    await sleepUntil(recorder, options.durationMs);
    await workload.stop();
    const workloadMs = recorder.now();
    say(`workload stopped: ${recorder.writes.length} writes, ${recorder.reads.length} reads`);
    await healEverything(cluster);
    const final = await readUntilConverged({
      nodes: cluster.specs,
      keys,
      n: N,
      partitionCount: PARTITION_COUNT,
      timeoutMs: options.convergeTimeoutMs,
      pollMs: 250,
      // After membership changes the ring is the committed layout's, not a fresh claim.
      ring: membership === undefined ? undefined : await committedRing(cluster),
    });
    const history: RunHistory = {
      writes: recorder.writes,
      reads: recorder.reads,
      finals: final.finals,
      convergence: { converged: final.converged, afterHealMs: final.elapsedMs },
      lostNodes: membership?.forceRemoved ?? [],
    };
    if (options.dumpHistory === true) {
      const historyPath = path.join(outDir, "history.json");
      writeFileSync(historyPath, historyJson(history, windows));
      say(`history: ${historyPath}`);
    }
    const check = checkRun(history);
    const facts: RunFacts = {
      seed: options.seed,
      lww: options.lww,
      durationMs: workloadMs,
      faults: windows,
      unavailable: options.unavailable,
      ...(membership === undefined
        ? {}
        : {
            membership: { ...membership, n: N, shortOfCopies: keysShortOfCopies(final.finals, N) },
          }),
    };
    const reportPath = path.join(outDir, "report.html");
    writeFileSync(reportPath, htmlReport(check, facts, recorder));
    const summaryPath = path.join(outDir, "summary.json");
    writeFileSync(summaryPath, JSON.stringify({ facts, check }, null, 2) + "\n");
    const table = summaryTable(check, facts);
    return { valid: runVerdict(check, facts), check, facts, reportPath, summaryPath, table };
  } finally {
    await cluster.stop();
    say("cluster stopped (every node killed by pid)");
  }
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

/**
 * Waits for the fault lane and the membership lane; rethrows a lane's failure only once both
 * have ended, so that no lane starts a node after the teardown.
 */
async function bothLanes(
  faults: Promise<FaultWindow[]>,
  membership: Promise<MembershipLaneReport | undefined>,
): Promise<[FaultWindow[], MembershipLaneReport | undefined]> {
  const [windows, report] = await Promise.allSettled([faults, membership]);
  if (windows.status === "rejected") throw windows.reason;
  if (report.status === "rejected") throw report.reason;
  return [windows.value, report.value];
}

/** The ring of the layout a running member follows. */
async function committedRing(cluster: NemesisCluster): Promise<Ring> {
  let lastError: unknown = new Error("no node runs");
  for (const spec of cluster.specs) {
    try {
      return ringsOf((await metadataAt(spec.address)).metadata.layout).current;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function sayMembershipPlan(steps: readonly MembershipStep[], nodes: number, faults: boolean): void {
  let members = nodes;
  for (const [index, step] of steps.entries()) {
    say(`  membership step ${index + 1}: ${describeStep(step, members, [])}`);
    members = membersAfter(step, members);
  }
  if (steps.length > 0 && faults) {
    say("  each fault is drawn again at its start over the members of the moment");
  }
}

/** The history as JSON: contexts as `{vv: {actor: counter}, cloud: [{actor, counter}]}`. */
function historyJson(history: RunHistory, faults: readonly FaultWindow[]): string {
  return JSON.stringify(
    { faults, ...history },
    (_key, value: unknown) => {
      if (value instanceof Map) return Object.fromEntries(value);
      if (value instanceof Set) return [...(value as Set<unknown>)];
      if (typeof value === "bigint") return value.toString();
      return value;
    },
    1,
  );
}
