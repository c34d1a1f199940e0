// Goal: the benchmark scripts behind `npm run bench:*` keep working, each in a short run: it
// exits 0 and prints one JSON report with the figures its benchmark is about. Never asserts
// speed: benchmarks are not timed tests (DESIGN §9).
// Method: run each script under tsx as a child process, interrupted (SIGINT, on which every
// script stops the nodes it started) before the test's own timeout.

import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { benchEnv } from "./local-cluster-harness.js";

/** Runs `node script args` to its end (or SIGINT after 100 s): exit code and output. */
function runScript(
  script: readonly string[],
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...script, ...args],
      { env: benchEnv(), maxBuffer: 16 * 1024 * 1024, timeout: 100_000, killSignal: "SIGINT" },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

/** The last line of a script's output, parsed: its JSON report. */
function lastJsonLine(stdout: string): unknown {
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
}

describe("the benchmark scripts, short", () => {
  it("measures growing a cluster from 3 to 4 nodes (npm run bench:transfer, short)", async () => {
    const script = ["--import", "tsx", "scripts/bench-transfer.ts"];
    const args = [
      "--keys",
      "150",
      "--phase-seconds",
      "1",
      "--foreground-rate",
      "50",
      "--warmup-seconds",
      "0",
      "--json",
    ];
    const run = await runScript(script, args);
    expect(run.code, run.stderr).toBe(0);
    const report = lastJsonLine(run.stdout) as {
      keysOnNewNode: number;
      secondsToRetired: number;
      phases: { name: string; operations: number; failed: number }[];
    };
    // n = 3 over 4 nodes: the new node holds about three quarters of the keys.
    expect(report.keysOnNewNode).toBeGreaterThan(50);
    expect(report.secondsToRetired).toBeGreaterThan(0);
    expect(report.phases.map((phase) => phase.name)).toEqual([
      "before (3 nodes)",
      "during the transfer",
    ]);
    for (const phase of report.phases) expect(phase.operations).toBeGreaterThan(0);
  }, 120_000);

  it("measures a real client's p99 under an anonymous flood and connection setup cost (npm run bench:flood, short)", async () => {
    const script = ["--import", "tsx", "scripts/bench-flood.ts"];
    const args = [
      ...["--flood-connections", "20", "--phase-seconds", "1", "--rate", "20"],
      ...["--rounds", "2", "--flood-settle-seconds", "1"],
      // At the default nice 19 a suite running in parallel can starve the attacker of every
      // cycle; this smoke test checks the benchmark works, not the flood's strength.
      ...["--flood-nice", "0", "--setup-connections", "5", "--json"],
    ];
    const run = await runScript(script, args);
    expect(run.code, run.stderr).toBe(0);
    const report = lastJsonLine(run.stdout) as {
      flood: { connectionsOpened: number; callsRefused: number; callsOther: number };
      phases: { name: string; operations: number; failed: number }[];
      rounds: { quietP99Ms: number; floodedP99Ms: number; p99Ratio: number }[];
      setup: { mode: string; serverCpuMs: number }[];
    };
    // Two rounds of 1 s phases at 20 gets/s, pooled: 40 gets of each kind.
    expect(report.phases.map((phase) => [phase.name, phase.operations, phase.failed])).toEqual([
      ["quiet", 40, 0],
      ["flooded", 40, 0],
    ]);
    expect(report.rounds).toHaveLength(2);
    for (const round of report.rounds) expect(round.p99Ratio).toBeGreaterThan(0);
    // The attacker got through (the script waits for its first answer), and every anonymous
    // call was refused, none served.
    expect(report.flood.connectionsOpened, JSON.stringify(report.flood)).toBeGreaterThan(0);
    expect(report.flood.callsRefused, JSON.stringify(report.flood)).toBeGreaterThan(0);
    expect(report.flood.callsOther, JSON.stringify(report.flood)).toBe(0);
    expect(report.setup.map((cost) => cost.mode)).toEqual(["tls (client certificate)", "insecure"]);
  }, 120_000);
  it("compares YCSB-A with TLS + auth against --insecure in turns (npm run bench:security, short)", async () => {
    const script = ["--import", "tsx", "scripts/bench-security.ts"];
    const args = [
      ...["--slices", "2", "--slice-seconds", "1", "--warmup-seconds", "0"],
      ...["--records", "100", "--concurrency", "8", "--json"],
    ];
    const run = await runScript(script, args);
    expect(run.code, run.stderr).toBe(0);
    type Pooled = { operations: number; failed: number; serverUsPerOp: number };
    const report = lastJsonLine(run.stdout) as {
      a: Pooled;
      b: Pooled;
      throughputRatio: number;
      pairRatios: number[];
      pairCpuRatios: number[];
      target: { throughputRatioMin: number };
    };
    for (const side of [report.a, report.b]) {
      expect(side.operations).toBeGreaterThan(0);
      expect(side.failed).toBe(0);
      expect(side.serverUsPerOp).toBeGreaterThan(0);
    }
    // Two ABBA pairs of slices, each with ratios of its own.
    expect(report.pairRatios).toHaveLength(2);
    expect(report.pairCpuRatios).toHaveLength(2);
    expect(report.throughputRatio).toBeGreaterThan(0);
    expect(report.target.throughputRatioMin).toBe(0.9);
  }, 120_000);
  it("follows CPU per operation second by second after a restart (npm run bench:cold, short)", async () => {
    const script = ["--import", "tsx", "scripts/bench-cold.ts"];
    const args = [
      ...["--seconds", "2", "--session", "--restart-keys", "300", "--concurrency", "8"],
      "--json",
    ];
    const run = await runScript(script, args);
    expect(run.code, run.stderr).toBe(0);
    type Second = { second: number; operations: number; failed: number; mainUs: number };
    const report = lastJsonLine(run.stdout) as { series: Second[] };
    expect(report.series.map((second) => second.second)).toEqual([1, 2]);
    for (const second of report.series) expect(second.failed).toBe(0);
    expect(report.series.some((second) => second.operations > 0 && second.mainUs > 0)).toBe(true);
  }, 120_000);
});
