// Goal: the deterministic simulation of issue #6 finds no violation on a fixed set of seeds,
// replays a seed exactly, and does fail when the code or the clients are broken on purpose.
// Method: run scripts/sim/run-simulation.ts per seed; `npm run sim` runs many more.

import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runSimulation, type SimResult } from "../../scripts/sim/run-simulation.js";
import type { Mutation } from "../../scripts/sim/sim-mutation.js";
import { SimDisk, SimStorage } from "../../scripts/sim/sim-storage.js";
import { SeededRandom } from "../../node/core/seeded-random.js";
import { SimScheduler } from "../../scripts/sim/sim-scheduler.js";

/** Operations per seed in CI: a few hundred, as in `npm run sim`. */
const STEPS = 300;
/** The checker-can-fail cases try seeds 1.. up to this until one catches the mutation. */
const MUTATION_SEEDS_MAX = 30;
/** Seeds on which a reaper that ignores down members brings a deleted key back (of 1..600). */
const REAP_WHILE_DOWN_SEEDS = [111, 307];
/** Seeds that once reused a dot after a handed-off copy was removed (fixed by counter floors). */
const DOT_REUSE_SEEDS: readonly number[] = [13, 772, 2096];
/** The CI seeds; hints on or off is drawn from the seed, so both modes are covered. */
const SEEDS = Array.from({ length: 33 }, (_, index) => index + 1);

/** CI seeds whose runs make membership changes: join, leave, replace and force-remove. */
const MEMBERSHIP_SEEDS: readonly [number, string][] = [
  [3, "replacex1 joinx1"],
  [4, "leavex1"],
  [10, "replacex1 force-removex1"],
  [12, "force-removex1"],
  [20, "replacex1 leavex1"],
];

/**
 * Seeds that once failed, kept as regressions: 95 and 180, a fallback copy left without a hint
 * (hint delivery's crash window); 477, a partition handed over in a join and never dropped by
 * a node that restarted during the next change (so the reaper reaped past its copy); 600, an
 * after-heal read at r=all that timed out on two delay spikes under a 300 ms client timeout
 * (the harness's check, not the code); 796, a put whose deadline a wall-clock step stretched by
 * 55 s, so its silent primary's copy went to a spare after the key was deleted and reaped;
 * 2042, a set element lost with its dw=1 write on a force-removed node (the checker's rule);
 * 2465, copies of a partition a mid-transition force-remove took from its gaining node, never
 * dropped; 3531, a replace whose new node the convergence phase stopped while the commit was
 * still being written (the harness); 122, a hinted copy that reached its spare after the key's
 * tombstone was reaped, ignored by the primary's guard but kept by the spare, a primary by
 * then, and spread by anti-entropy once the guard lapsed (a stale copy now revives the
 * tombstone); 1744, a delete at dw=1 whose one tombstone went with its force-removed
 * coordinator (the checker's rule); 14641, a hinted copy taken by a node already replaced, out
 * of the reaper's reach, handed off after the key was deleted and reaped (a removed node now
 * refuses replica writes); 18950, a hint for a removed node, waiting to move to a current
 * primary, that the reaper did not count (it summed members' hints only); 18112 and 27009, a
 * hinted copy handed to a spare after its key's tombstone was reaped (a tombstone is now reaped
 * only once held for a write's life; both fail with that hold at 0); 31713, a force-remove lost
 * to a retirement made at once on another node (the claimant alone retires now); 33245, a w=1
 * write a replaced node kept in a down primary's place, lost when it was stopped as removed (a
 * leaving node now hands off its hints before the change retires).
 */
const REGRESSION_SEEDS = [
  95, 122, 180, 477, 600, 796, 1744, 2042, 2465, 3531, 14641, 18112, 18950, 27009, 31713, 33245,
  40799,
];

/** Real runs by seed, so that later tests reuse what earlier ones ran. */
const runs = new Map<number, Promise<SimResult>>();

function runSeed(seed: number): Promise<SimResult> {
  let run = runs.get(seed);
  if (run === undefined) {
    run = runSimulation({ seed, steps: STEPS, mutation: "none" });
    runs.set(seed, run);
  }
  return run;
}

function replay(seed: number, mutation: Mutation = "none"): string {
  const flag = mutation === "none" ? "" : ` --mutation ${mutation}`;
  return `npx tsx scripts/sim.ts --seed ${seed} --steps ${STEPS}${flag}`;
}

function explain(result: SimResult): string {
  return [
    `replay: ${replay(result.seed)}`,
    ...result.failures,
    ...result.traceTail.slice(-30),
  ].join("\n");
}

describe("deterministic simulation", () => {
  it.each(SEEDS)("seed %i keeps every invariant through faults and converges", async (seed) => {
    const result = await runSeed(seed);
    expect(result.failures, explain(result)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.report.writes.ok).toBeGreaterThan(0);
  });

  it.each(MEMBERSHIP_SEEDS)(
    "seed %i changes membership (%s) under faults and keeps every invariant",
    async (seed, changes) => {
      const result = await runSeed(seed);
      expect(result.failures, explain(result)).toEqual([]);
      expect(result.summary.membershipChanges).toBeGreaterThan(0);
      expect(result.summary.membership).toBe(changes);
    },
  );

  it.each(REGRESSION_SEEDS)("seed %i, which once failed, keeps every invariant", async (seed) => {
    const result = await runSeed(seed);
    expect(result.failures, explain(result)).toEqual([]);
  });

  it.each([false, true])("runs with hinted handoff %s and keeps every invariant", async (hints) => {
    const result = await runSimulation({
      seed: 1000,
      steps: STEPS,
      mutation: "none",
      hintedHandoff: hints,
    });
    expect(result.failures, explain(result)).toEqual([]);
    expect(result.summary.hintedHandoff).toBe(hints);
  });

  it("replays a seed exactly: the same trace hash and outcome twice", async () => {
    const first = await runSeed(7);
    const second = await runSimulation({ seed: 7, steps: STEPS, mutation: "none" });
    const other = await runSeed(8);
    expect(second.traceHash).toBe(first.traceHash);
    expect(second.summary).toEqual(first.summary);
    expect(other.traceHash).not.toBe(first.traceHash);
  });

  it("reads no wall clock, real timer or Math.random on the simulation path", async () => {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const ours = [
      `${root}node/`,
      `${root}coordinator/`,
      `${root}scripts/sim/sim-`,
      `${root}scripts/sim/run-`,
    ];
    const calls: string[] = [];
    const watch = <A extends unknown[], R>(name: string, original: (...args: A) => R) =>
      function (this: unknown, ...args: A): R {
        const frames = (new Error().stack ?? "").split("\n").slice(2);
        if (frames.some((frame) => ours.some((prefix) => frame.includes(prefix)))) {
          calls.push(`${name} from ${frames.join(" < ")}`);
        }
        return original.apply(this, args);
      };
    const saved = { now: Date.now, random: Math.random, performanceNow: performance.now };
    const savedTimers = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval };
    Date.now = watch("Date.now", saved.now);
    Math.random = watch("Math.random", saved.random);
    performance.now = watch("performance.now", saved.performanceNow.bind(performance));
    globalThis.setTimeout = watch("setTimeout", savedTimers.setTimeout) as typeof setTimeout;
    globalThis.setInterval = watch("setInterval", savedTimers.setInterval) as typeof setInterval;
    try {
      await runSimulation({ seed: 11, steps: STEPS, mutation: "none" });
    } finally {
      Object.assign(Date, { now: saved.now });
      Object.assign(Math, { random: saved.random });
      Object.assign(performance, { now: saved.performanceNow });
      Object.assign(globalThis, savedTimers);
    }
    expect(calls).toEqual([]);
  });

  it("exercises the faults: crashes, lost messages, unsynced writes lost, hints handed off", async () => {
    const totals = {
      crashes: 0,
      dropped: 0,
      unsyncedWritesLost: 0,
      handedOff: 0,
      indeterminate: 0,
    };
    for (const seed of SEEDS.slice(0, 12)) {
      const { summary } = await runSeed(seed);
      totals.crashes += Number(summary.crashes);
      totals.dropped += Number(summary.dropped);
      totals.unsyncedWritesLost += Number(summary.unsyncedWritesLost);
      totals.handedOff += Number(summary.handedOff);
      totals.indeterminate += Number(summary.writesIndeterminate);
    }
    for (const [name, total] of Object.entries(totals)) expect(total, name).toBeGreaterThan(0);
  });
});

describe("background protocols", () => {
  it("run as in production: detectors change their minds, hints are handed off, exchanges repair keys", async () => {
    const totals = {
      detectorTransitions: 0,
      handedOff: 0,
      exchanges: 0,
      keysRepairedByExchanges: 0,
    };
    for (const seed of SEEDS.slice(0, 12)) {
      const { summary } = await runSeed(seed);
      for (const name of Object.keys(totals) as (keyof typeof totals)[]) {
        totals[name] += Number(summary[name]);
      }
    }
    for (const [name, total] of Object.entries(totals)) expect(total, name).toBeGreaterThan(0);
  });

  // Each mutation breaks a production loop through its own test-only option (default off).
  it.each([5, 7])(
    "seed %i: anti-entropy that repairs only the opening side leaves primaries apart after a full cycle",
    async (seed) => {
      const result = await runSimulation({ seed, steps: STEPS, mutation: "ae-one-side" });
      expect(result.ok, replay(seed, "ae-one-side")).toBe(false);
      expect(result.failures.join("\n")).toMatch(/no convergence: primaries agree/);
    },
  );

  it.each([2, 5])(
    "seed %i: hint delivery that deletes hints before the primary's durable ack is seen breaking its rule",
    async (seed) => {
      const result = await runSimulation({ seed, steps: STEPS, mutation: "hint-early-delete" });
      expect(result.ok, replay(seed, "hint-early-delete")).toBe(false);
      expect(result.failures.join("\n")).toMatch(
        /deleted \d+ hint\(s\) for n\d before their durable ack/,
      );
    },
  );

  it.each(REAP_WHILE_DOWN_SEEDS)(
    "seed %i: a reaper that ignores down members lets a deleted key come back after a full cycle",
    async (seed) => {
      const result = await runSimulation({ seed, steps: STEPS, mutation: "reap-while-down" });
      expect(result.ok, replay(seed, "reap-while-down")).toBe(false);
      expect(result.report.counts.resurrected, explain(result)).toBeGreaterThan(0);
    },
  );
});

describe("regressions", () => {
  it.each(DOT_REUSE_SEEDS)(
    "seed %i: a fallback that handed off and removed its copy never hands out a used dot again",
    async (seed) => {
      const result = await runSeed(seed);
      expect(result.report.counts["duplicate-dot"] ?? 0, explain(result)).toBe(0);
      expect(result.report.valid, explain(result)).toBe(true);
    },
  );
});

describe("the checker can fail", () => {
  type Caught =
    "lost-write" | "lost-element" | "unexplained-ack" | "resurrected" | "divergent-replicas";
  const cases: readonly [Mutation, string, readonly Caught[]][] = [
    [
      "lww",
      "clients that resolve siblings by last-modified time lose acknowledged set elements",
      ["lost-element"],
    ],
    [
      "broken-merge",
      "a merge that drops a sibling but keeps its dot loses acknowledged writes",
      ["lost-write"],
    ],
    [
      "fsync-lies",
      // A lost removal of a handed-off copy whose hint's removal survived (on the other disk)
      // leaves a copy no hint accounts for: divergent-replicas; a lost tombstone, resurrected.
      // Which seed shows it first moves with timing: 5 did, 15 has since request deadlines
      // moved to the monotonic clock (23 and 26 lose writes).
      "a disk that acknowledges fsyncs it never did loses acknowledged writes or deletes",
      ["lost-write", "resurrected", "divergent-replicas"],
    ],
    [
      "forward-gives-up",
      "forwarding that gives up on a silent primary and answers without writing anywhere acknowledges writes that made no version",
      ["unexplained-ack"],
    ],
  ];
  it.each(cases)("%s: %s", async (mutation, _title, findings) => {
    // Usually one of the first seeds shows it; more make the test independent of one seed's luck.
    let caught = 0;
    for (let seed = 1; seed <= MUTATION_SEEDS_MAX && caught === 0; seed++) {
      const result = await runSimulation({ seed, steps: STEPS, mutation });
      for (const finding of findings) caught += result.report.counts[finding];
      if (caught > 0) expect(result.ok, replay(seed, mutation)).toBe(false);
    }
    expect(caught).toBeGreaterThan(0);
  });
});

describe("SimStorage", () => {
  it("a crash keeps durable writes and everything before them, and loses the unsynced tail", async () => {
    const scheduler = new SimScheduler(0, 1000);
    const disk = new SimDisk();
    const options = {
      disk,
      scheduler,
      random: new SeededRandom(1),
      fsyncMs: [1, 1] as const,
      faults: { fsyncLies: false },
    };
    const bytes = (text: string): Uint8Array => Buffer.from(text);
    const storage = new SimStorage(options);
    await storage.open();
    await storage.put("b", bytes("before"), bytes("1"), { durable: false });
    const durable = storage.put("b", bytes("durable"), bytes("2"), { durable: true });
    await scheduler.run();
    expect(await durable).toEqual({ durable: true });
    // Many unsynced writes: a crash keeps a random prefix of them at most, usually none.
    for (let index = 0; index < 50; index++) {
      await storage.put("b", bytes(`after${index}`), bytes("3"), { durable: false });
    }
    storage.crash();
    const restarted = new SimStorage(options);
    await restarted.open();
    expect(await restarted.get("b", bytes("before"))).toEqual(bytes("1"));
    expect(await restarted.get("b", bytes("durable"))).toEqual(bytes("2"));
    expect(await restarted.get("b", bytes("after49"))).toBeUndefined();
  });

  it("a dead engine never answers", async () => {
    const scheduler = new SimScheduler(0, 1000);
    const storage = new SimStorage({
      disk: new SimDisk(),
      scheduler,
      random: new SeededRandom(2),
      fsyncMs: [1, 1],
      faults: { fsyncLies: false },
    });
    await storage.open();
    storage.crash();
    let answered = false;
    void storage.get("b", Buffer.from("k")).then(() => (answered = true));
    await scheduler.run();
    expect(answered).toBe(false);
  });
});
