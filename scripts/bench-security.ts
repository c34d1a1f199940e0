// YCSB-A with security on (TLS + authentication, as a node runs by default) against --insecure,
// in one run (issue 15, DESIGN §9: target ≥ 0.9×; a benchmark, not a test). Two 3-node clusters
// run side by side (log engine, n=3 r=w=2 dw=1, 1 KiB values); one closed loop drives them in
// turn, in short slices ordered ABBA (secure, insecure, insecure, secure, ...), so that what the
// shared machine does meanwhile — other tenants, page cache, clock speed — falls on both alike.
// The idle cluster only heartbeats. Per slice: operations, failures, server CPU of the driven
// cluster's three nodes (/proc), and the client's own CPU. The figure is the secure cluster's
// throughput over the insecure one's, pooled over all slices, with each ABBA pair's ratio beside.
// The secure client authenticates with the bootstrap admin's certificate (`dkv cluster up`'s).
// Run: npm run bench:security -- [--slices 12] [--slice-seconds 5] [--warmup-seconds 5]
//      [--concurrency 64] [--records 5000] [--routing given|spread] [--session] [--json]

import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
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
import { WorkloadExecutor, benchValue } from "../cli/bench/workload-executor.js";
import { WORKLOADS, keyName } from "../cli/bench/workload.js";
import type { StepResult } from "../cli/bench/load-schedule.js";
import { builtMainScript, say, sleep } from "./lib/fault-cluster.js";
import { cpuSeconds } from "./lib/flood-phases.js";

/** Security on (the default) or off (--insecure). */
type Mode = "secure" | "insecure";

interface Cluster {
  readonly mode: Mode;
  readonly children: ChildProcess[];
  readonly clients: DkvClient[];
  readonly executor: WorkloadExecutor;
  stop(): Promise<void>;
}

/** One slice of load on one cluster. */
interface Slice {
  readonly mode: Mode;
  readonly operations: number;
  readonly failed: number;
  readonly seconds: number;
  /** CPU seconds of the driven cluster's nodes, and of this (client) process. */
  readonly serverCpu: number;
  readonly clientCpu: number;
}

const CALL_OPTIONS = { w: 2, r: 2, dw: 1 } as const;
const running = new Set<Cluster>();

async function startCluster(
  mode: Mode,
  options: { routing: "given" | "spread"; session: boolean; records: number; seed: number },
): Promise<Cluster> {
  const dir = mkdtempSync(path.join(tmpdir(), `dkv-bench-security-${mode}-`));
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(3),
    clusterDir: dir,
    storage: "log",
    partitionCount: 64,
    logLevel: "warn",
    mainScript: builtMainScript(),
    serveArgs: mode === "insecure" ? ["--insecure"] : [],
  });
  // Plaintext for the --insecure cluster (it has no CA); the admin's certificate otherwise.
  const security = clusterClientSecurity(dir);
  if (security.tls !== (mode === "secure")) throw new Error(`${mode} cluster: wrong client`);
  const children = specs.map((spec) => spawnNode(spec));
  const addresses = specs.map((spec) => spec.address);
  // "spread": one client per node, taken in turn per operation, as `dkv bench --routing spread`.
  const firsts = options.routing === "spread" ? addresses.map((_, first) => first) : [0];
  const clients = firsts.map(
    (first) =>
      new DkvClient([...addresses.slice(first), ...addresses.slice(0, first)], {
        security,
        session: options.session,
      }),
  );
  const client = clients[0]!;
  const cluster: Cluster = {
    mode,
    children,
    clients,
    executor: new WorkloadExecutor(clients, {
      workload: WORKLOADS.a,
      records: options.records,
      value: benchValue(1024, options.seed),
      callOptions: CALL_OPTIONS,
      seed: options.seed,
      workerIndex: 0,
    }),
    async stop() {
      running.delete(cluster);
      for (const one of clients) one.close();
      await Promise.all(children.map((child) => stopProcess(child, 10_000)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(cluster);
  await Promise.all(specs.map((spec) => waitForServing(spec.address, 60_000, security)));
  const value = benchValue(1024, options.seed);
  for (let first = 0; first < options.records; first += 100) {
    const keys = Array.from({ length: Math.min(100, options.records - first) }, (_, i) =>
      keyName(first + i),
    );
    const outcomes = await client.putMany(
      keys.map((key) => ({ key, value })),
      CALL_OPTIONS,
    );
    const failed = outcomes.find((outcome) => !outcome.ok);
    if (failed !== undefined) throw new Error(`${mode} cluster: preload failed`);
  }
  return cluster;
}

function failures(result: StepResult): number {
  const results = Array.isArray(result) ? result : [result];
  return results.filter((one) => one.status !== "OK").length;
}

/** Drives `cluster` with `concurrency` loops for `seconds`; in-flight operations are awaited. */
async function runSlice(cluster: Cluster, concurrency: number, seconds: number): Promise<Slice> {
  const pids = cluster.children.map((child) => child.pid ?? 0);
  const serverBefore = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const clientBefore = process.cpuUsage();
  const startedMs = performance.now();
  const endMs = startedMs + seconds * 1000;
  let operations = 0;
  let failed = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < endMs) {
      const result = await cluster.executor.operation();
      operations += 1;
      failed += failures(result);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const wall = (performance.now() - startedMs) / 1000;
  const client = process.cpuUsage(clientBefore);
  return {
    mode: cluster.mode,
    operations,
    failed,
    seconds: wall,
    serverCpu: pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - serverBefore,
    clientCpu: (client.user + client.system) / 1e6,
  };
}

/** Operations per second, server and client CPU per operation (µs) of some slices together. */
function pooled(slices: readonly Slice[]): {
  opsPerSecond: number;
  serverUsPerOp: number;
  clientUsPerOp: number;
  operations: number;
  failed: number;
} {
  const sum = (pick: (slice: Slice) => number) => slices.reduce((s, one) => s + pick(one), 0);
  const operations = sum((slice) => slice.operations);
  return {
    opsPerSecond: operations / sum((slice) => slice.seconds),
    serverUsPerOp: (sum((slice) => slice.serverCpu) * 1e6) / operations,
    clientUsPerOp: (sum((slice) => slice.clientCpu) * 1e6) / operations,
    operations,
    failed: sum((slice) => slice.failed),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const args = await yargs(hideBin(process.argv))
    .option("slices", {
      type: "number",
      default: 12,
      describe: "Measured slices per cluster (ABBA order; even)",
    })
    .option("slice-seconds", { type: "number", default: 5 })
    .option("warmup-seconds", { type: "number", default: 5, describe: "Per cluster, not measured" })
    .option("concurrency", { type: "number", default: 64 })
    .option("records", { type: "number", default: 5000 })
    .option("routing", { choices: ["given", "spread"] as const, default: "given" as const })
    .option("session", {
      type: "boolean",
      default: false,
      describe: "The client coalesces calls onto KV.Session streams (default: unary calls)",
    })
    .option("seed", { type: "number", default: 42 })
    .option("json", { type: "boolean", default: false })
    .check((argv) => {
      if (!Number.isInteger(argv.slices) || argv.slices < 2 || argv.slices % 2 !== 0) {
        throw new Error(`--slices must be an even integer ≥ 2, got ${argv.slices}`);
      }
      for (const name of ["slice-seconds", "concurrency", "records"] as const) {
        if (!(argv[name] > 0)) throw new Error(`--${name} must be positive, got ${argv[name]}`);
      }
      if (!(argv["warmup-seconds"] >= 0)) throw new Error("--warmup-seconds must be ≥ 0");
      return true;
    })
    .strict()
    .parseAsync();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void Promise.all([...running].map((cluster) => cluster.stop())).then(() => process.exit(130));
    });
  }
  const options = {
    routing: args.routing,
    session: args.session,
    records: args.records,
    seed: args.seed,
  };
  try {
    say(`starting a secure and an --insecure 3-node cluster, ${args.records} records each`);
    const secure = await startCluster("secure", options);
    const insecure = await startCluster("insecure", options);
    if (args["warmup-seconds"] > 0) {
      say(`warm-up: ${args["warmup-seconds"]} s on each`);
      await runSlice(secure, args.concurrency, args["warmup-seconds"]);
      await runSlice(insecure, args.concurrency, args["warmup-seconds"]);
    }
    await sleep(1000);
    const slices: Slice[] = [];
    for (let index = 0; index < args.slices; index++) {
      // ABBA: secure first in even pairs of slices, insecure first in odd ones.
      const order = index % 2 === 0 ? [secure, insecure] : [insecure, secure];
      for (const cluster of order) {
        const slice = await runSlice(cluster, args.concurrency, args["slice-seconds"]);
        slices.push(slice);
        if (!args.json) {
          say(
            `${slice.mode}: ${Math.round(slice.operations / slice.seconds)} ops/s, ` +
              `${Math.round((slice.serverCpu * 1e6) / slice.operations)} µs server CPU/op, ` +
              `${slice.failed} failed`,
          );
        }
      }
    }
    const pairRatios: number[] = [];
    for (let index = 0; index < slices.length; index += 2) {
      const pair = slices.slice(index, index + 2);
      const on = pair.find((slice) => slice.mode === "secure")!;
      const off = pair.find((slice) => slice.mode === "insecure")!;
      pairRatios.push(on.operations / on.seconds / (off.operations / off.seconds));
    }
    const on = pooled(slices.filter((slice) => slice.mode === "secure"));
    const off = pooled(slices.filter((slice) => slice.mode === "insecure"));
    const ratio = on.opsPerSecond / off.opsPerSecond;
    const report = {
      config: {
        slices: args.slices,
        sliceSeconds: args["slice-seconds"],
        warmupSeconds: args["warmup-seconds"],
        concurrency: args.concurrency,
        records: args.records,
        routing: args.routing,
        session: args.session,
        quorum: { n: 3, ...CALL_OPTIONS },
      },
      secure: on,
      insecure: off,
      throughputRatio: ratio,
      serverCpuPerOpRatio: on.serverUsPerOp / off.serverUsPerOp,
      pairRatios,
      pairRatioMedian: median(pairRatios),
      target: { throughputRatioMin: 0.9, met: ratio >= 0.9 },
    };
    if (args.json) {
      console.log(JSON.stringify(report));
      return;
    }
    const table = new Table({
      head: ["", "ops/s", "server CPU µs/op", "client CPU µs/op", "operations", "failed"],
    });
    for (const [name, row] of [
      ["TLS + auth", on],
      ["--insecure", off],
    ] as const) {
      table.push([
        name,
        Math.round(row.opsPerSecond),
        Math.round(row.serverUsPerOp),
        Math.round(row.clientUsPerOp),
        row.operations,
        row.failed,
      ]);
    }
    console.log(table.toString());
    console.log(
      `throughput, secure / insecure: ${ratio.toFixed(3)}× pooled ` +
        `(target ≥ 0.9×: ${report.target.met ? "met" : "not met"}); ` +
        `per ABBA pair ${pairRatios.map((r) => r.toFixed(2)).join(" ")}, ` +
        `median ${report.pairRatioMedian.toFixed(3)}×; server CPU per op ` +
        `${report.serverCpuPerOpRatio.toFixed(3)}×`,
    );
  } finally {
    await Promise.all([...running].map((cluster) => cluster.stop()));
  }
}

await main();
