// Goal: `dkv bench` keeps working: on a cluster of its own, with the echo baseline, it prints
// one JSON report whose operations succeeded, and it leaves no process behind, also when it is
// interrupted. Never asserts speed: benchmarks are not timed tests (DESIGN §9).
// Method: run the built CLI as a child process; afterwards, every address it served is closed.

import { describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import net from "node:net";
import { MAIN_SCRIPT } from "./local-cluster-harness.js";

/** The environment without DKV_NODE, so that the bench starts its own cluster. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env["DKV_NODE"];
  return env;
}

/** Resolves true when something accepts connections at host:port. */
function listening(address: string): Promise<boolean> {
  const [host, port] = address.split(":");
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

interface Summary {
  operations: number;
  failed: number;
  throughputOpsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

interface Target {
  target: string;
  addresses: string[];
  operations: Record<string, Summary>;
  errors: Record<string, number>;
  reads: { count: number; notFound: number };
  cpu: {
    clientProcessCores: number[];
    serverCores: number | null;
    serverCpuUsPerOperation: number | null;
  };
}

describe("dkv bench", () => {
  it.each([
    ["unary calls to the nodes in order", []],
    ["a session per node, requests spread over them", ["--session", "--routing", "spread"]],
    ["batches of 10 operations, spread", ["--batch", "10", "--routing", "spread"]],
  ])(
    "runs workload A against its own cluster and the echo baseline and prints one JSON report (%s)",
    async (_, extra: string[]) => {
      const args = ["bench", "--workload", "a", "--duration", "3", "--records", "200", ...extra];
      const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [MAIN_SCRIPT, ...args, "--baseline", "echo", "--json"],
          // Interrupted before the test's own timeout: on SIGINT the script stops every node it
          // started, which a test timeout would leave running.
          { env: cleanEnv(), maxBuffer: 16 * 1024 * 1024, timeout: 100_000, killSignal: "SIGINT" },
          (error, stdout, stderr) =>
            resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
        );
      });
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as {
        version: number;
        config: { workload: string; records: number; quorum: Record<string, unknown> };
        dkv: Target;
        echo: Target;
        ratio: { throughput: number; p99: number };
        design: { throughputRatioMet: boolean | null };
        warnings: string[];
      };
      expect(report.version).toBe(1);
      expect(report.config).toMatchObject({ workload: "a", records: 200 });
      expect(report.config.quorum).toMatchObject({ n: 3, r: 2, w: 2, dw: 1 });
      for (const target of [report.dkv, report.echo]) {
        for (const kind of ["read", "update", "all"]) {
          const summary = target.operations[kind];
          expect(summary?.operations, `${target.target} ${kind}`).toBeGreaterThan(0);
          expect(summary?.failed, `${target.target} ${kind}`).toBe(0);
          expect(summary?.p50Ms).toBeGreaterThan(0);
          expect(summary?.p50Ms).toBeLessThanOrEqual(summary?.p99Ms ?? 0);
          expect(summary?.p999Ms).toBeLessThanOrEqual(summary?.maxMs ?? 0);
        }
        expect(target.errors).toEqual({});
        expect(target.reads.notFound).toBe(0);
        expect(target.cpu.clientProcessCores).toHaveLength(1);
      }
      // Its own cluster's pids are known: server CPU per operation is measured, never made up.
      expect(report.dkv.cpu.serverCpuUsPerOperation).toBeGreaterThan(0);
      expect(report.ratio.throughput).toBeGreaterThan(0);
      // DESIGN §9's ratio is defined for single calls: a batched run does not claim it.
      const batched = extra.includes("--batch");
      expect(report.design.throughputRatioMet === null).toBe(batched);
      if (batched) expect(report.config).toMatchObject({ batch: 10, routing: "spread" });
      // Every node and the echo server are gone.
      for (const address of [...report.dkv.addresses, ...report.echo.addresses]) {
        expect(await listening(address), address).toBe(false);
      }
    },
    120_000,
  );

  it("stops every node it started when interrupted", async () => {
    const child = spawn(
      process.execPath,
      [MAIN_SCRIPT, "bench", "--duration", "60", "--records", "100"],
      { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    const addresses = await new Promise<string[]>((resolve, reject) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /cluster up: (.+)\n/.exec(stderr);
        if (match?.[1] !== undefined && stderr.includes("run dkv")) {
          resolve(match[1].split(", "));
        }
      });
      child.once("exit", () => reject(new Error(`bench exited early:\n${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    for (const address of addresses) expect(await listening(address), address).toBe(false);
  }, 120_000);

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
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [...script, ...args],
        // Interrupted before the test's own timeout: on SIGINT the script stops every node it
        // started, which a test timeout would leave running.
        { env: cleanEnv(), maxBuffer: 16 * 1024 * 1024, timeout: 100_000, killSignal: "SIGINT" },
        (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as {
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
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [...script, ...args],
        // SIGINT before the test's own timeout: the script then stops every node it started.
        { env: cleanEnv(), maxBuffer: 16 * 1024 * 1024, timeout: 100_000, killSignal: "SIGINT" },
        (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as {
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
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [...script, ...args],
        { env: cleanEnv(), maxBuffer: 16 * 1024 * 1024, timeout: 100_000, killSignal: "SIGINT" },
        (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(0);
    type Pooled = { operations: number; failed: number; serverUsPerOp: number };
    const report = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as {
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
});
