// Server CPU per operation second by second from a node's start (issue 16, "warm and cold"; not a
// test): starts a local 3-node cluster (TLS, log engine, n=3 r=w=2 dw=1, 1 KiB values) and at
// once drives a closed loop of puts of new keys (or YCSB-A over preloaded keys), printing each
// second's operations and the nodes' CPU per operation, split into their main threads (dkv's
// JavaScript) and their other threads (V8's compiler and GC helpers, libuv's pool). With
// --restart-keys N the cluster first takes N keys and is restarted, and the series starts at
// the restart: key-directory loading and anti-entropy tree rebuilds are then part of it.
// Run: npx tsx scripts/bench-cold.ts [--seconds 30] [--session] [--routing spread|given]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import {
  clusterClientSecurity,
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  stopProcess,
  waitForPeersAnswered,
  waitForServing,
  type LocalNodeSpec,
} from "../cli/local-cluster.js";
import { DkvClient } from "../coordinator/client.js";
import { WorkloadExecutor, benchValue } from "../cli/bench/workload-executor.js";
import { WORKLOADS, keyName } from "../cli/bench/workload.js";
import { say } from "./lib/fault-cluster.js";
import { threadCpu } from "./lib/proc-cpu.js";

/** CPU seconds of the nodes' main threads and of all their other threads. */
function nodesCpu(children: readonly ChildProcess[]): { main: number; other: number } {
  const byThread = new Map<string, number>();
  for (const child of children) threadCpu(child.pid ?? 0, byThread);
  let main = 0;
  let other = 0;
  for (const [name, seconds] of byThread) {
    if (name === "main") main += seconds;
    else other += seconds;
  }
  return { main, other };
}

/** One second of the series. */
interface Second {
  readonly second: number;
  readonly operations: number;
  readonly failed: number;
  /** µs of CPU per operation: the nodes' main threads, their other threads. */
  readonly mainUs: number;
  readonly otherUs: number;
}

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .option("main", { type: "string", default: "dist/cli/main.js", describe: "The build" })
    .option("seconds", { type: "number", default: 30 })
    .option("concurrency", { type: "number", default: 64 })
    .option("session", { type: "boolean", default: false, describe: "Calls on KV.Session" })
    .option("routing", { choices: ["spread", "given"] as const, default: "spread" as const })
    .option("workload", { choices: ["insert", "a"] as const, default: "insert" as const })
    .option("records", { type: "number", default: 5000, describe: "Keys of --workload a" })
    .option("restart-keys", {
      type: "number",
      default: 0,
      describe: "Keys written before a restart of every node; the series starts at the restart",
    })
    .option("json", { type: "boolean", default: false })
    .check((argv) => {
      for (const [name, least] of [
        ["seconds", 1],
        ["concurrency", 1],
        ["records", 1],
        ["restart-keys", 0],
      ] as const) {
        const value = argv[name];
        if (!Number.isSafeInteger(value) || value < least) {
          throw new Error(`--${name} must be a whole number ≥ ${least}, got ${value}`);
        }
      }
      return true;
    })
    .strict()
    .parseAsync();
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-bench-cold-"));
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(3),
    clusterDir: dir,
    storage: "log",
    partitionCount: 64,
    logLevel: "warn",
    mainScript: path.resolve(args.main),
    serveArgs: [],
  });
  const security = clusterClientSecurity(dir);
  let children: ChildProcess[] = [];
  const clients: DkvClient[] = [];
  const start = async (): Promise<void> => {
    children = specs.map((spec: LocalNodeSpec) => spawnNode(spec));
    await Promise.all(specs.map((spec) => waitForServing(spec.address, 60_000, security)));
    await Promise.all(
      specs.map((spec) => waitForPeersAnswered(spec.address, spec.id, 30_000, security)),
    );
  };
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((child) => stopProcess(child, 10_000)));
  };
  // Interrupted, it stops the nodes it started before it exits.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void stop().then(() => process.exit(130)));
  }
  try {
    const addresses = specs.map((spec) => spec.address);
    const value = benchValue(1024, 42);
    const callOptions = { w: 2, r: 2, dw: 1 } as const;
    await start();
    const preload = async (count: number, name: (index: number) => string): Promise<void> => {
      const loader = new DkvClient(addresses, { security });
      for (let first = 0; first < count; first += 100) {
        const keys = Array.from({ length: Math.min(100, count - first) }, (_, i) =>
          name(first + i),
        );
        const outcomes = await loader.putMany(
          keys.map((key) => ({ key, value })),
          callOptions,
        );
        if (outcomes.some((outcome) => !outcome.ok)) throw new Error("a preload put failed");
      }
      loader.close();
    };
    if (args.workload === "a") await preload(args.records, keyName);
    if (args["restart-keys"] > 0) {
      await preload(args["restart-keys"], (index) => `restart-${index}`);
      await stop();
      await start();
      say(`restarted with ${args["restart-keys"]} keys besides the workload's`);
    }
    // As `dkv bench`: spread is one client per node taken in turn; given sends all to n1.
    const rotations =
      args.routing === "spread"
        ? addresses.map((_, first) => [...addresses.slice(first), ...addresses.slice(0, first)])
        : [addresses];
    for (const rotation of rotations) {
      clients.push(new DkvClient(rotation, { security, session: args.session }));
    }
    const executor = new WorkloadExecutor(clients, {
      workload: WORKLOADS[args.workload],
      records: args.records,
      value,
      callOptions,
      seed: 42,
      workerIndex: 0,
    });
    let operations = 0;
    let failed = 0;
    const endAtMs = performance.now() + args.seconds * 1000;
    const loops = Array.from({ length: args.concurrency }, async () => {
      while (performance.now() < endAtMs) {
        const result = await executor.operation();
        if (result.status === "OK") operations += 1;
        else failed += 1;
      }
    });
    const series: Second[] = [];
    let before = { ...nodesCpu(children), operations: 0, failed: 0 };
    for (let second = 1; second <= args.seconds; second++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = { ...nodesCpu(children), operations, failed };
      const done = now.operations - before.operations;
      const perOp = (seconds: number): number =>
        done === 0 ? 0 : Math.round((seconds * 1e6) / done);
      const row: Second = {
        second,
        operations: done,
        failed: now.failed - before.failed,
        mainUs: perOp(now.main - before.main),
        otherUs: perOp(now.other - before.other),
      };
      series.push(row);
      if (!args.json) {
        say(
          `${String(second).padStart(3)} s  ${String(row.operations).padStart(5)} ops  ` +
            `${row.mainUs + row.otherUs} µs/op (main ${row.mainUs}, other threads ` +
            `${row.otherUs})${row.failed > 0 ? `  ${row.failed} failed` : ""}`,
        );
      }
      before = now;
    }
    await Promise.all(loops);
    if (args.json) {
      const config = {
        seconds: args.seconds,
        concurrency: args.concurrency,
        session: args.session,
        routing: args.routing,
        workload: args.workload,
        restartKeys: args["restart-keys"],
      };
      console.log(JSON.stringify({ config, series }));
    }
    return failed > 0 ? 1 : 0;
  } finally {
    for (const client of clients) client.close();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
