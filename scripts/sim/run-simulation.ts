// One deterministic simulation run: a seed draws the cluster (3–5 nodes), the network, the
// workload and the nemesis; the clients run against the real coordinator and replica code while
// faults come and go; then everything heals, hints are handed off, every key is read at r=all
// through every node, and the one checker (scripts/nemesis/core/checker.ts, which judges live
// nemesis runs too) judges the history against every replica's copy.

import { EMPTY_CONTEXT } from "../../node/core/causal-context.js";
import { EMPTY_DVV_SET, join, liveValues, sync, vtag, type DvvSet } from "../../node/core/dvv.js";
import { DEFAULT_LIMITS, writeLifeMs, type Limits } from "../../node/core/limits.js";
import { DEFAULT_BUCKET } from "../../coordinator/core/quorum-options.js";
import { checkRun, type CheckResult } from "../nemesis/core/checker.js";
import type { FinalKey, LocalCopy, ObservedSibling } from "../nemesis/core/history.js";
import { FAILING_FINDINGS, type Finding } from "../nemesis/core/observations.js";
import { SimCluster, type ClusterConfig } from "./sim-cluster.js";
import type { SimEndpoint } from "./sim-endpoint.js";
import { SimHistory } from "./sim-history.js";
import { simLogger } from "./sim-logger.js";
import { mutationOf, type BackgroundBreakage, type Mutation } from "./sim-mutation.js";
import { converge } from "./sim-converge.js";
import type { BackgroundConfig } from "./sim-process.js";
import { DEFAULT_DELIVERY } from "../../node/hints/hint-delivery.js";
import { failureDetectorOptions } from "../../node/membership/failure-detector-options.js";
import { SimNemesis } from "./sim-nemesis.js";
import { SimMembership, drawMembership } from "./sim-membership.js";
import { SimNetwork, type NetworkFaults } from "./sim-network.js";
import { SeededRandom } from "../../node/core/seeded-random.js";
import { SimScheduler } from "./sim-scheduler.js";
import { SimTrace } from "./sim-trace.js";
import { SIM_BUCKET, SimWorkload } from "./sim-workload.js";

/** The virtual time a run starts at (2024-01-01), so that lastModifiedMs looks like a date. */
const START_MS = 1_704_067_200_000;
/** Timers one run may fire before it is declared livelocked. */
const EVENTS_MAX = 2_000_000;

/** What to run. */
export interface SimOptions {
  readonly seed: number;
  /** Client operations in the run (each a get, a put, or a get and a put). */
  readonly steps: number;
  /** Test-only breakage that the checker must catch; "none" for a real run. */
  readonly mutation: Mutation;
  /** Hinted handoff and sloppy quorum; drawn from the seed when undefined. */
  readonly hintedHandoff?: boolean;
  /** Called with every trace line (replays). */
  readonly verbose?: (line: string) => void;
  /**
   * A key whose every stored write (each node's data and hint engines) is added to the trace:
   * for following one key through a failing replay. It changes the trace hash.
   */
  readonly traceKey?: string;
}

/** What a run found. */
export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  /** Invariant violations and bugs, one line each. */
  readonly failures: readonly string[];
  readonly traceHash: string;
  readonly report: CheckResult;
  readonly summary: Readonly<Record<string, number | string | boolean>>;
  /** The last trace lines, for a failing run. */
  readonly traceTail: readonly string[];
}

/** The parts of one run. */
interface Run {
  readonly scheduler: SimScheduler;
  readonly trace: SimTrace;
  readonly network: SimNetwork<SimEndpoint>;
  readonly config: ClusterConfig;
  readonly cluster: SimCluster;
  readonly history: SimHistory;
  readonly workload: SimWorkload;
  readonly nemesis: SimNemesis;
  readonly membership: SimMembership;
}

/** Runs one seed to completion. */
export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const run = buildRun(options);
  const timing = await drive(run);
  const finals = await inspectReplicas(run.cluster, run.workload);
  const report = checkRun({
    writes: run.history.writes,
    reads: run.history.reads,
    finals,
    // Replicas that still differ are divergent-replicas, key by key.
    convergence: { converged: true, afterHealMs: timing.healToConvergedMs },
    lostNodes: run.membership.forceRemoved,
  });
  // Warnings (a write stored twice by a retry) are in the examples too; only failures count.
  const failing = report.examples.filter((example) =>
    FAILING_FINDINGS.has(example.slice(0, example.indexOf(":")) as Finding),
  );
  const failures = [...run.trace.bugs.map((bug) => `bug: ${bug}`), ...failing];
  return {
    seed: options.seed,
    ok: report.valid && run.trace.bugs.length === 0,
    failures,
    traceHash: run.trace.hash(),
    report,
    summary: { ...summaryOf(run, options), ...timing },
    traceTail: failures.length > 0 ? run.trace.tail() : [],
  };
}

/** Draws everything from the seed, in a fixed order. */
function buildRun(options: SimOptions): Run {
  const random = new SeededRandom(options.seed);
  const scheduler = new SimScheduler(START_MS, EVENTS_MAX);
  const trace = new SimTrace(scheduler, options.verbose);
  // Every request a node receives tells its failure detector the sender is alive.
  const network = new SimNetwork<SimEndpoint>(
    scheduler,
    random.fork(),
    trace,
    (endpoint, from, kind) => endpoint.received(from, kind),
  );
  const baseFaults = drawBaseFaults(random);
  network.setFaults(baseFaults);
  const config = drawCluster(random, options);
  const {
    limits: _limits,
    bucket: _bucket,
    mangle: _mangle,
    forwardPolicy: _policy,
    ...shown
  } = config;
  trace.record(`config ${JSON.stringify(shown)}`);
  const logger = simLogger(trace);
  const cluster = new SimCluster({
    config,
    ...(options.traceKey === undefined ? {} : { traceKey: options.traceKey }),
    scheduler,
    network,
    random: random.fork(),
    trace,
    logger,
  });
  const history = new SimHistory();
  const workload = new SimWorkload({
    cluster,
    scheduler,
    random: random.fork(),
    trace,
    history,
    config: {
      clients: random.range(2, 6),
      opsTotal: options.steps,
      registerKeys: random.range(1, 4),
      setKeys: random.range(1, 2),
      thinkMs: [0, random.range(5, 60)],
      timeoutMs: random.pick([300, 1000, 3000]),
      lww: options.mutation === "lww",
    },
  });
  const nemesis = new SimNemesis({
    cluster,
    network,
    scheduler,
    random: random.fork(),
    trace,
    config: {
      seed: random.nextUint32(),
      intervalMs: random.range(200, 2500),
      lanes: random.range(1, 3),
      baseFaults,
    },
  });
  // Drawn last, so that the rest of a seed's run is drawn as before membership changes were.
  const membershipRandom = random.fork();
  const membership = new SimMembership({
    cluster,
    scheduler,
    random: membershipRandom,
    trace,
    config: drawMembership(membershipRandom, DEFAULT_BUCKET.n),
  });
  return { scheduler, trace, network, config, cluster, history, workload, nemesis, membership };
}

/** The phases: start, clients under faults, heal and handoff, reads at r=all everywhere. */
async function drive(run: Run): Promise<{ faultPhaseMs: number; healToConvergedMs: number }> {
  const { scheduler, cluster, workload, nemesis, membership } = run;
  const startMs = scheduler.nowMs;
  for (const id of cluster.ids) await cluster.start(id);
  let clientsDone = false;
  void workload.run().then(() => (clientsDone = true));
  void nemesis.run(() => clientsDone);
  void membership.run(() => clientsDone);
  // A membership change under way when the clients finish is finished first (SimMembership.busy).
  await scheduler.run({ until: () => clientsDone && !membership.busy });
  const faultPhaseEndMs = scheduler.nowMs;
  await converge(run);
  await readEverything(run);
  return {
    faultPhaseMs: faultPhaseEndMs - startMs,
    healToConvergedMs: scheduler.nowMs - faultPhaseEndMs,
  };
}

function summaryOf(run: Run, options: SimOptions): Record<string, number | string | boolean> {
  const { cluster, network, history, nemesis, trace, scheduler } = run;
  const writes = history.writeCounts();
  return {
    nodes: run.config.nodeCount,
    hintedHandoff: run.config.hintedHandoff,
    operations: options.steps,
    writesOk: writes.ok,
    writesFailed: writes.fail,
    writesIndeterminate: writes.indeterminate,
    reads: history.reads.length,
    crashes: cluster.stats.crashes,
    unsyncedWritesLost: cluster.stats.lostWrites,
    messages: network.stats.sent,
    dropped: network.stats.dropped,
    duplicated: network.stats.duplicated,
    ...backgroundSummary(cluster),
    faults: [...nemesis.faultsUsed].map(([name, count]) => `${name}x${count}`).join(" "),
    membershipChanges: run.membership.count,
    membership: [...run.membership.made].map(([kind, count]) => `${kind}x${count}`).join(" "),
    events: scheduler.events,
    lateReplyErrors: [...trace.notes.values()].reduce((sum, count) => sum + count, 0),
  };
}

/**
 * Reads every key at r=all through every node; read repair brings the primaries together. The
 * reads take the default request timeout (a client that sets no deadline, DESIGN §2), not the
 * workload's: the healed network still holds up a message now and then (spikes of up to
 * spikeMsMax each way), and an r=all read waits for its slowest replica: with the workload's
 * shortest timeout (300 ms), a request and its reply both held up (173 ms + 128 ms or more)
 * failed a read in seed 600. That is a slow network, which DESIGN allows, not a key left
 * unavailable after the heal, which is what this check is for.
 */
async function readEverything(run: Run): Promise<void> {
  const { scheduler, cluster, workload, trace } = run;
  const all = { r: DEFAULT_BUCKET.n, w: 1, dw: 1, pr: 0, pw: 0, strict: false };
  const timeoutMs = SIM_LIMITS.requestTimeoutMsMax;
  for (const process of cluster.processes()) {
    const reads = workload.keys.map((key) => workload.read(-1, key, process.self, all, timeoutMs));
    await scheduler.run();
    const results = await Promise.all(reads);
    results.forEach((read, index) => {
      if (read !== undefined) return;
      trace.bug(
        `read of ${workload.keys[index]} at r=all through ${process.self} failed after the heal`,
      );
    });
  }
}

/**
 * Every key as the checker sees it: each live node's own copy, read directly from its replica,
 * and the merge of the primaries' copies in place of a final r=all read. A copy holding only
 * tombstones reads as not found, as it does to clients, whether or not it was reaped yet; its
 * context (what the delete covered) is kept.
 */
async function inspectReplicas(cluster: SimCluster, workload: SimWorkload): Promise<FinalKey[]> {
  const finals: FinalKey[] = [];
  const anyProcess = cluster.processes()[0];
  if (anyProcess === undefined) throw new Error("no node is up after the heal");
  for (const key of workload.keys) {
    const keyBytes = Buffer.from(key);
    const primaries = anyProcess.coordinator.preferenceList(
      SIM_BUCKET,
      keyBytes,
      DEFAULT_BUCKET.n,
    ).primaries;
    const copies: LocalCopy[] = [];
    let merged: DvvSet = EMPTY_DVV_SET;
    for (const process of cluster.processes()) {
      const object = await process.replica.get(SIM_BUCKET, keyBytes);
      copies.push(copyOf(process.self, object));
      if (object !== undefined && primaries.includes(process.self)) merged = sync(merged, object);
    }
    const final = copyOf("merged", merged);
    finals.push({
      key,
      workload: workload.isSetKey(key) ? "set" : "register",
      primaries,
      siblings: final.siblings,
      context: final.context,
      copies,
    });
  }
  return finals;
}

function copyOf(node: string, object: DvvSet | undefined): LocalCopy {
  if (object === undefined) return { node, found: false, siblings: [], context: EMPTY_CONTEXT };
  const live = liveValues(object);
  // A tombstone's context still says what it deleted: a stale copy elsewhere is judged by it.
  if (live.length === 0) return { node, found: false, siblings: [], context: join(object) };
  const siblings: ObservedSibling[] = live.map((sibling) => ({
    value: Buffer.from(sibling.value).toString(),
    vtag: vtag(sibling.dot),
    lastModifiedMs: sibling.lastModifiedMs,
    dot: sibling.dot,
  }));
  return { node, found: true, siblings, context: join(object) };
}

/** The network when the nemesis leaves it alone: short delays, a little jitter that reorders. */
function drawBaseFaults(random: SeededRandom): NetworkFaults {
  return {
    dropRate: 0,
    duplicateRate: random.chance(0.5) ? 0.02 : 0,
    delayMs: [1, random.range(3, 20)],
    spikeRate: 0.01,
    spikeMsMax: 200,
  };
}

/**
 * The limits of a simulated node: requests live at most as long as the longest client timeout
 * here (3 s), and a hinted copy gets 1 s more, so a tombstone is reaped 4 s after its node got
 * it (writeLifeMs), short enough for reaping to happen during the faults.
 */
const SIM_LIMITS: Limits = {
  ...DEFAULT_LIMITS,
  requestTimeoutMsDefault: 1_000,
  requestTimeoutMsMax: 3_000,
};

function drawCluster(random: SeededRandom, options: SimOptions): ClusterConfig {
  const nodeCount = random.range(3, 5);
  const { breakage, ...mutation } = mutationOf(options.mutation, random);
  return {
    nodeCount,
    partitionCount: random.pick([8, 16, 64]),
    fsyncMs: [1, random.range(2, 15)],
    skewMsMax: random.pick([0, 20, 500]),
    hintedHandoff: options.hintedHandoff ?? random.chance(0.8),
    hintBytesMaxPerTarget: random.chance(0.2) ? 400 : SIM_LIMITS.hintBytesMax,
    limits: SIM_LIMITS,
    bucket: DEFAULT_BUCKET,
    ...mutation,
    background: drawBackground(random, breakage),
    // Longer than any request stays in flight (client timeouts ≤ 3 s), short enough to happen.
    dropGraceMs: random.pick([4_000, 8_000]),
  };
}

/**
 * The background protocols' settings: production's options, with intervals short enough that
 * detection, handoff, exchanges and reaping all happen within a run of a few virtual seconds.
 */
function drawBackground(random: SeededRandom, breakage: BackgroundBreakage): BackgroundConfig {
  return {
    failureDetector: failureDetectorOptions({
      heartbeatIntervalMs: random.pick([500, 1_000]),
      checkIntervalMs: random.pick([250, 500]),
      acceptablePauseMs: random.pick([300, 1_500]),
      stdDeviationMsMin: random.pick([50, 200]),
      pingTimeoutMs: random.pick([1_000, 2_000, 5_000]),
    }),
    delivery: {
      ...DEFAULT_DELIVERY,
      checkIntervalMs: random.pick([200, 500]),
      // Small batches interleave more with foreground writes.
      batchHintsMax: random.pick([8, 128]),
      ackTimeoutMs: random.pick([2_000, 10_000]),
      deleteBeforeAck: breakage.deleteBeforeAck,
    },
    antiEntropy: {
      intervalMs: random.pick([2_000, 3_000, 4_000]),
      confirmDelayMs: random.pick([50, 500]),
      replyTimeoutMs: random.pick([1_000, 5_000]),
      shape: random.pick([
        { branchCount: 4, leavesPerBranch: 16 },
        { branchCount: 8, leavesPerBranch: 8 },
        { branchCount: 32, leavesPerBranch: 32 },
      ]),
      repairOneSide: breakage.repairOneSide,
    },
    reap: {
      graceMs: random.pick([200, 1_000, 3_000]),
      intervalMs: random.pick([500, 1_000, 1_500]),
      // Longer than any request stays in flight here (client timeouts ≤ 3 s). Under the
      // reap-while-down mutation, shorter than the outages: a stale copy that comes back
      // within the guard revives the tombstone (Replica.merge), which hides the mutation when
      // the down member returns in time, and in production an outage may last hours.
      guardMs: reapGuardMs(random.pick([5_000, 10_000]), breakage.reapWhileDown),
      heldMsMin: writeLifeMs(SIM_LIMITS),
      callTimeoutMs: random.pick([1_000, 5_000]),
      reapWhileDown: breakage.reapWhileDown,
    },
  };
}

/** The reap guard: as drawn, or 100 ms under the reap-while-down mutation (see the call). */
function reapGuardMs(drawnMs: number, reapWhileDown: boolean): number {
  return reapWhileDown ? 100 : drawnMs;
}

/** What the background protocols did, for the summary. */
function backgroundSummary(cluster: SimCluster): Record<string, number> {
  const stats = cluster.backgroundStats();
  return {
    handedOff: stats.delivered,
    exchanges: stats.exchanges,
    keysRepairedByExchanges: stats.keysRepaired,
    tombstonesReaped: stats.tombstonesReaped,
    detectorTransitions: stats.transitions,
  };
}
