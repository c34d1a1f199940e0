// Benchmark of KV.BatchPut and KV.BatchGet against unary Put and Get (issue 16's batch figures,
// DESIGN §9 "Batches"; not a test): one 3-node cluster (TLS, log engine, n=3 w=2 r=2 dw=1,
// 1 KiB values), the same client, phases alternated in one run: unary calls, then batches of
// each --sizes, for puts of new keys and gets of existing ones, each --rounds times. Each phase
// is a closed loop of --items-in-flight items for --phase-seconds; reported per phase: items/s
// and server CPU per item (utime + stime of the three node processes, from /proc).
// Run: npm run bench:batch -- [--sizes 1,10,100] [--phase-seconds 5] [--rounds 2] [--json]

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import Table from "cli-table3";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import {
  clusterClientSecurity,
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  stopProcess,
  waitForServing,
} from "../cli/local-cluster.js";
import { DkvClient } from "../coordinator/client.js";
import { builtMainScript, say } from "./lib/fault-cluster.js";

/** One measured phase. */
interface PhaseResult {
  readonly operation: "put" | "get";
  /** 0 for unary calls, else items per batch. */
  readonly batch: number;
  readonly round: number;
  readonly items: number;
  readonly failed: number;
  readonly seconds: number;
  readonly itemsPerSecond: number;
  readonly serverCpuUsPerItem: number;
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat (utime, stime) are 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .usage("$0 [options]\n\nBatched against unary puts and gets on a local 3-node cluster.")
    .option("sizes", { type: "string", default: "1,10,100", describe: "Items per batch" })
    .option("items-in-flight", { type: "number", default: 256 })
    .option("unary-in-flight", { type: "number", default: 64, describe: "Unary calls at once" })
    .option("phase-seconds", { type: "number", default: 5 })
    .option("rounds", { type: "number", default: 2 })
    .option("value-bytes", { type: "number", default: 1024 })
    .option("json", { type: "boolean", default: false })
    .strict()
    .help()
    .parseAsync();
  const sizes = args.sizes.split(",").map(Number);
  if (sizes.some((size) => !Number.isInteger(size) || size < 1 || size > 1000)) {
    throw new Error(`--sizes must be integers from 1 to 1000, got '${args.sizes}'`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-bench-batch-"));
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(3),
    clusterDir: dir,
    storage: "log",
    partitionCount: 64,
    logLevel: "warn",
    mainScript: builtMainScript(),
  });
  const children: ChildProcess[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(children.map((child) => stopProcess(child, 5000)));
  };
  // SIGTERM too: `timeout` and CI runners stop a script with it, and its nodes must not outlive it.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void stopAll().then(() => process.exit(130)));
  }
  const security = clusterClientSecurity(dir);
  const client = new DkvClient(
    specs.map((spec) => spec.address),
    { security, routing: "primary" },
  );
  const value = Buffer.alloc(args["value-bytes"], 7);
  const options = { w: 2, r: 2, dw: 1 } as const;
  let nextKey = 0;
  const serverCpu = (): number =>
    children.reduce((sum, child) => sum + cpuSeconds(child.pid ?? 0), 0);

  /** Runs one phase: a closed loop of calls of `batch` items (0: unary) for phase-seconds. */
  const phase = async (operation: "put" | "get", batch: number): Promise<PhaseResult> => {
    const endMs = performance.now() + args["phase-seconds"] * 1000;
    let items = 0;
    let failed = 0;
    const existing = Math.max(1, nextKey);
    const keyFor = (): string =>
      operation === "put" ? `k${nextKey++}` : `k${Math.floor(Math.random() * existing)}`;
    const lanes =
      batch === 0 ? args["unary-in-flight"] : Math.ceil(args["items-in-flight"] / batch);
    const lane = async (): Promise<void> => {
      while (performance.now() < endMs) {
        if (batch === 0) {
          const key = keyFor();
          const done =
            operation === "put" ? client.put(key, value, options) : client.get(key, options);
          await done.then(
            () => (items += 1),
            () => (failed += 1),
          );
          continue;
        }
        const keys = Array.from({ length: batch }, keyFor);
        const outcomes = await (
          operation === "put"
            ? client.putMany(
                keys.map((key) => ({ key, value })),
                options,
              )
            : client.getMany(keys, options)
        ).catch(() => undefined);
        if (outcomes === undefined) failed += batch;
        else {
          for (const outcome of outcomes) {
            if (outcome.ok) items += 1;
            else failed += 1;
          }
        }
      }
    };
    const cpuBefore = serverCpu();
    const startedMs = performance.now();
    await Promise.all(Array.from({ length: lanes }, lane));
    const seconds = (performance.now() - startedMs) / 1000;
    const cpu = serverCpu() - cpuBefore;
    return {
      operation,
      batch,
      round: 0,
      items,
      failed,
      seconds,
      itemsPerSecond: items / seconds,
      serverCpuUsPerItem: items === 0 ? 0 : (cpu * 1e6) / items,
    };
  };

  try {
    for (const spec of specs) children.push(spawnNode(spec));
    await Promise.all(specs.map((spec) => waitForServing(spec.address, 60_000, security)));
    say(`3 nodes up in ${dir}; warming up`);
    await phase("put", 0);
    const results: PhaseResult[] = [];
    for (let round = 1; round <= args.rounds; round++) {
      for (const operation of ["put", "get"] as const) {
        for (const batch of [0, ...sizes]) {
          const result = { ...(await phase(operation, batch)), round };
          results.push(result);
          say(
            `round ${round} ${operation} ${batch === 0 ? "unary" : `batch ${batch}`}: ` +
              `${Math.round(result.itemsPerSecond)} items/s, ` +
              `${Math.round(result.serverCpuUsPerItem)} µs server CPU per item, ${result.failed} failed`,
          );
        }
      }
    }
    if (args.json) {
      console.log(JSON.stringify({ results }));
      return 0;
    }
    const table = new Table({
      head: ["round", "operation", "calls", "items/s", "× unary", "server CPU/item", "failed"],
    });
    for (const result of results) {
      const unary = results.find(
        (other) =>
          other.round === result.round && other.operation === result.operation && other.batch === 0,
      );
      table.push([
        result.round,
        result.operation,
        result.batch === 0 ? "unary" : `batch of ${result.batch}`,
        Math.round(result.itemsPerSecond),
        unary === undefined ? "" : (result.itemsPerSecond / unary.itemsPerSecond).toFixed(2),
        `${Math.round(result.serverCpuUsPerItem)} µs`,
        result.failed,
      ]);
    }
    console.log(table.toString());
    return 0;
  } finally {
    client.close();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
