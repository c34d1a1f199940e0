// The convergence phase of a simulation run: after the heal, the background protocols (not the
// simulator) bring the replicas together. Membership changes finish (every live node holds the
// same metadata, no partition still moving; nodes that left stop), every failure detector sees
// every node up again, hint delivery drains, anti-entropy completes a full cycle of exchanges
// between every pair of primaries of every partition, and tombstone reaping gets its rounds
// (and, when something was reaped, another full cycle once the reap guards ran out, so that a
// stale copy would bring a deleted key back before the checker looks); then the loops stop. Each wait is bounded in virtual time: a phase that never ends is a bug.

import type { SimCluster, ClusterConfig } from "./sim-cluster.js";
import type { SimNemesis } from "./sim-nemesis.js";
import type { SimScheduler } from "./sim-scheduler.js";
import type { SimTrace } from "./sim-trace.js";

/** After the heal, long enough for every request in flight to pass its deadline (≤ 5 s). */
const SETTLE_MS = 6_000;
/** Virtual time allowed for each phase beyond what its own timers need. */
const SLACK_MS = 30_000;
/** How often a wait looks at its condition (virtual ms). */
const POLL_MS = 20;
/** Virtual time allowed for handoff after the heal before the run gives up waiting. */
const HANDOFF_WAIT_MS = 60_000;
/** Virtual time allowed for membership changes to finish moving data after the heal. */
const LAYOUT_WAIT_MS = 120_000;

/** The parts of a run the convergence phase drives. */
export interface ConvergingRun {
  readonly scheduler: SimScheduler;
  readonly cluster: SimCluster;
  readonly nemesis: SimNemesis;
  readonly trace: SimTrace;
  readonly config: ClusterConfig;
}

/**
 * Heals every fault, then waits for the background protocols: the detectors, handoff, one full
 * anti-entropy cycle after the handoff (after which the primaries of every partition must
 * agree), and the reaping rounds of tombstones whose grace has passed; then stops the loops and
 * lets everything in flight finish.
 */
export async function converge(run: ConvergingRun): Promise<void> {
  const { scheduler, cluster, nemesis, trace, config } = run;
  const { failureDetector, antiEntropy, reap } = config.background;
  await nemesis.healAll();
  const healedMs = scheduler.nowMs;
  // A change retires once its partitions moved; then every node's copies it handed over are
  // dropped after the grace period (waited for with the hints below).
  await waitFor(
    run,
    "membership changes complete and every node holds the same metadata",
    () => cluster.layoutsSettled(),
    LAYOUT_WAIT_MS,
    () => cluster.describeLayouts(),
  );
  const settledMs = scheduler.nowMs;
  for (const id of cluster.removedButRunning()) cluster.stopForGood(id);
  const detectMs = failureDetector.pingTimeoutMs + failureDetector.heartbeatIntervalMs + SLACK_MS;
  await waitFor(run, "every detector sees every node up", () => cluster.allSeeAllUp(), detectMs);
  // Requests still in flight may leave hints behind: the handoff is done once they have passed
  // their deadlines and no hint is left.
  await waitFor(
    run,
    "hints handed off",
    () =>
      scheduler.nowMs >= healedMs + SETTLE_MS &&
      scheduler.nowMs >= settledMs + config.dropGraceMs &&
      cluster.hintsPending() === 0,
    HANDOFF_WAIT_MS,
  );
  const cycleStartMs = scheduler.nowMs;
  const intervalMs = antiEntropy.intervalMs ?? 0;
  const cycleMs = 2 * intervalMs + SLACK_MS;
  await waitFor(
    run,
    "a full anti-entropy cycle",
    () => cluster.exchangedSince(cycleStartMs),
    cycleMs,
  );
  // One cycle brings every pair together; exchanges that ran at once may need part of another.
  await waitFor(
    run,
    "primaries agree",
    () => cluster.disagreement() === undefined,
    cycleMs,
    () => String(cluster.disagreement()),
  );
  // Reaping: once the tombstones' grace has passed (on clocks up to the skew apart; the last
  // delete was before the heal), two rounds of every node, so that one starts after the cycle.
  // And once the leaders have held them a write's life (the last came in the cycle just run).
  const graceLeftMs = Math.max(
    0,
    healedMs + (reap.graceMs ?? 0) + config.skewMsMax - scheduler.nowMs,
    reap.heldMsMin ?? 0,
  );
  const reapMs = graceLeftMs + 2 * (reap.intervalMs ?? 0);
  await scheduler.run({ untilMs: scheduler.nowMs + reapMs });
  await waitFor(
    run,
    "primaries agree after reaping",
    () => cluster.disagreement() === undefined,
    cycleMs,
    () => String(cluster.disagreement()),
  );
  // A reaped key is guarded against stale copies only for guardMs: once every guard has run out,
  // one more full anti-entropy cycle shows whether a stale copy brings a deleted key back.
  if (cluster.backgroundStats().tombstonesReaped > 0) {
    await scheduler.run({ untilMs: scheduler.nowMs + (reap.guardMs ?? 0) });
    const afterGuardsMs = scheduler.nowMs;
    await waitFor(
      run,
      "a full anti-entropy cycle after the reap guards",
      () => cluster.exchangedSince(afterGuardsMs),
      cycleMs,
    );
    await waitFor(
      run,
      "primaries agree after the reap guards",
      () => cluster.disagreement() === undefined,
      cycleMs,
      () => String(cluster.disagreement()),
    );
  }
  // Stopping waits for work in flight (an exchange), which needs the scheduler to run.
  const stopped = cluster.stopBackground();
  await scheduler.run();
  await stopped;
  const stats = cluster.backgroundStats();
  trace.record(
    `converged: ${Object.entries(stats)
      .map(([name, count]) => `${name}=${count}`)
      .join(" ")}`,
  );
}

/** Runs until `done()` holds; past `limitMs` of virtual time, records a bug and goes on. */
async function waitFor(
  run: ConvergingRun,
  what: string,
  done: () => boolean,
  limitMs: number,
  detail: () => string = () => "",
): Promise<void> {
  const { scheduler, trace } = run;
  const startMs = scheduler.nowMs;
  // Polled, not checked after every timer: some of these conditions look at every partition.
  while (!done() && scheduler.nowMs < startMs + limitMs) {
    const outcome = await scheduler.run({
      untilMs: Math.min(startMs + limitMs, scheduler.nowMs + POLL_MS),
    });
    if (outcome === "idle") break;
  }
  if (done()) {
    trace.record(`convergence: ${what} after ${scheduler.nowMs - startMs} ms`);
    return;
  }
  const why = detail();
  trace.bug(
    `no convergence: ${what} not reached ${limitMs} ms after it began${why ? `: ${why}` : ""}`,
  );
}
