// Two local 3-node clusters compared in one run (benchmarks, not tests): both run side by side
// (log engine, n=3 r=w=2 dw=1, 1 KiB values) and one closed loop drives them in turn, in short
// slices ordered ABBA (A, B, B, A, ...), so that what the shared machine does meanwhile — other
// tenants, page cache, clock speed — falls on both alike. The idle cluster only heartbeats. Per
// slice: operations, failures, server CPU of the driven cluster's three nodes (/proc), and the
// client's own CPU. Used by bench-security.ts (TLS + auth against --insecure) and bench-ab.ts
// (two builds, or one build with two sets of flags).
// The cluster started first costs more per operation for the whole run (one build on both sides:
// 1.02–1.07× the server CPU per operation; docs/BENCHMARKS.md, sixteenth session), so by default
// the second half of the slices runs on two fresh clusters started in the other order, and the
// pooled ratio carries that bias on neither side.

import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Table from "cli-table3";
import {
  clusterClientSecurity,
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  stopProcess,
  waitForPeersAnswered,
  waitForServing,
} from "../../cli/local-cluster.js";
import { DkvClient } from "../../coordinator/client.js";
import { WorkloadExecutor, benchValue } from "../../cli/bench/workload-executor.js";
import { WORKLOADS, keyName, type WorkloadName } from "../../cli/bench/workload.js";
import type { StepResult } from "../../cli/bench/load-schedule.js";
import { say, sleep } from "./fault-cluster.js";
import { cpuSeconds } from "./flood-phases.js";

/** One side of the comparison: a build and the flags its nodes run with. */
export interface Side {
  readonly label: string;
  /** The build's dist/cli/main.js. */
  readonly mainScript: string;
  readonly serveArgs: readonly string[];
  /** Node.js flags of this side's nodes only (besides SlicedPairOptions.nodeFlags). */
  readonly nodeFlags?: readonly string[];
}

export interface SlicedPairOptions {
  readonly sides: readonly [Side, Side];
  readonly workload: WorkloadName;
  readonly slices: number;
  readonly sliceSeconds: number;
  readonly warmupSeconds: number;
  readonly concurrency: number;
  readonly records: number;
  readonly routing: "given" | "spread";
  readonly session: boolean;
  readonly seed: number;
  /** Node.js flags for every node, e.g. --trace-gc. */
  readonly nodeFlags: readonly string[];
  /** Every node writes a .cpuprofile on exit, under DIR/<side label>. */
  readonly cpuProfDir: string | undefined;
  /** Prints each slice as it ends. */
  readonly verbose: boolean;
  /**
   * 2: the slices' second half on two fresh clusters started in the other order (B first),
   * which cancels the first-started cluster's bias; 1: one start, A first.
   */
  readonly startOrders: 1 | 2;
}

interface Cluster {
  readonly side: Side;
  readonly children: ChildProcess[];
  readonly executor: WorkloadExecutor;
  stop(): Promise<void>;
}

/** One slice of load on one cluster. */
interface Slice {
  readonly label: string;
  readonly operations: number;
  readonly failed: number;
  readonly seconds: number;
  /** CPU seconds of the driven cluster's nodes, and of this (client) process. */
  readonly serverCpu: number;
  readonly clientCpu: number;
}

/** A side's slices pooled: operations per second, server and client CPU per operation (µs). */
export interface Pooled {
  readonly opsPerSecond: number;
  readonly serverUsPerOp: number;
  readonly clientUsPerOp: number;
  readonly operations: number;
  readonly failed: number;
}

export interface SlicedPairReport {
  readonly a: Pooled;
  readonly b: Pooled;
  /** A's throughput over B's, pooled over all slices. */
  readonly throughputRatio: number;
  readonly serverCpuPerOpRatio: number;
  /** A over B in each ABBA pair of slices: throughput, and server CPU per operation. */
  readonly pairRatios: readonly number[];
  readonly pairCpuRatios: readonly number[];
  readonly pairRatioMedian: number;
  readonly pairCpuRatioMedian: number;
  /**
   * With two start orders: the server CPU per operation of the cluster started first over the
   * one started second, whichever side it was (the geometric mean of the two halves' ratios):
   * 1 when the order makes no difference.
   */
  readonly startOrderCpuRatio?: number;
}

const CALL_OPTIONS = { w: 2, r: 2, dw: 1 } as const;
const running = new Set<Cluster>();

/** Stops every cluster still running (an interrupted run). */
export async function stopAllClusters(): Promise<void> {
  await Promise.all([...running].map((cluster) => cluster.stop()));
}

async function startCluster(side: Side, options: SlicedPairOptions): Promise<Cluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-bench-pair-"));
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(3),
    clusterDir: dir,
    storage: "log",
    partitionCount: 64,
    logLevel: "warn",
    mainScript: side.mainScript,
    serveArgs: side.serveArgs,
  });
  // Plaintext for an --insecure cluster (it has no CA); the admin's certificate otherwise.
  const security = clusterClientSecurity(dir);
  const profDir =
    options.cpuProfDir === undefined ? undefined : path.resolve(options.cpuProfDir, side.label);
  if (profDir !== undefined) mkdirSync(profDir, { recursive: true });
  const nodeFlags = [
    ...options.nodeFlags,
    ...(side.nodeFlags ?? []),
    ...(profDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profDir}`]),
  ];
  const children = specs.map((spec) => spawnNode({ ...spec, args: [...nodeFlags, ...spec.args] }));
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
  const value = benchValue(1024, options.seed);
  const cluster: Cluster = {
    side,
    children,
    executor: new WorkloadExecutor(clients, {
      workload: WORKLOADS[options.workload],
      records: options.records,
      value,
      callOptions: CALL_OPTIONS,
      seed: options.seed,
      workerIndex: 0,
    }),
    async stop() {
      running.delete(cluster);
      for (const client of clients) client.close();
      await Promise.all(children.map((child) => stopProcess(child, 10_000)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(cluster);
  await Promise.all(specs.map((spec) => waitForServing(spec.address, 60_000, security)));
  await Promise.all(
    specs.map((spec) => waitForPeersAnswered(spec.address, spec.id, 60_000, security)),
  );
  for (let first = 0; first < options.records; first += 100) {
    const keys = Array.from({ length: Math.min(100, options.records - first) }, (_, i) =>
      keyName(first + i),
    );
    const outcomes = await clients[0]!.putMany(
      keys.map((key) => ({ key, value })),
      CALL_OPTIONS,
    );
    const failed = outcomes.find((outcome) => !outcome.ok);
    if (failed !== undefined) {
      throw new Error(`${side.label}: preload failed: ${JSON.stringify(failed).slice(0, 300)}`);
    }
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
  const client = process.cpuUsage(clientBefore);
  return {
    label: cluster.side.label,
    operations,
    failed,
    seconds: (performance.now() - startedMs) / 1000,
    serverCpu: pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - serverBefore,
    clientCpu: (client.user + client.system) / 1e6,
  };
}

function pooled(slices: readonly Slice[]): Pooled {
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
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * Starts both clusters, warms each up, runs the ABBA slices and stops the clusters; with two
 * start orders, half the slices on each pair of clusters, the second pair started B first.
 */
export async function runSlicedPair(options: SlicedPairOptions): Promise<SlicedPairReport> {
  const [sideA, sideB] = options.sides;
  const orders: (readonly [Side, Side])[] =
    options.startOrders === 2
      ? [
          [sideA, sideB],
          [sideB, sideA],
        ]
      : [[sideA, sideB]];
  const slices: Slice[] = [];
  /** A's server CPU per operation over B's, in each start order. */
  const orderCpuRatios: number[] = [];
  try {
    let pair = 0;
    // --slices is even (checkSlicedPairArgs), so each start order gets a whole half.
    const pairs = options.slices / orders.length;
    for (const [first, second] of orders) {
      say(
        `starting two 3-node clusters (${first.label} first, then ${second.label}), ` +
          `${options.records} records each`,
      );
      const started = [await startCluster(first, options), await startCluster(second, options)];
      const a = started.find((cluster) => cluster.side === sideA)!;
      const b = started.find((cluster) => cluster.side === sideB)!;
      if (options.warmupSeconds > 0) {
        say(`warm-up: ${options.warmupSeconds} s on each`);
        for (const cluster of started) {
          await runSlice(cluster, options.concurrency, options.warmupSeconds);
        }
      }
      await sleep(1000);
      const halfSlices: Slice[] = [];
      for (let index = 0; index < pairs; index++, pair++) {
        for (const cluster of pair % 2 === 0 ? [a, b] : [b, a]) {
          const slice = await runSlice(cluster, options.concurrency, options.sliceSeconds);
          halfSlices.push(slice);
          if (options.verbose) {
            say(
              `${slice.label}: ${Math.round(slice.operations / slice.seconds)} ops/s, ` +
                `${Math.round((slice.serverCpu * 1e6) / slice.operations)} µs server CPU/op, ` +
                `${slice.failed} failed`,
            );
          }
        }
      }
      const [onA, onB] = [sideA, sideB].map((side) =>
        pooled(halfSlices.filter((slice) => slice.label === side.label)),
      );
      orderCpuRatios.push(onA!.serverUsPerOp / onB!.serverUsPerOp);
      slices.push(...halfSlices);
      await stopAllClusters();
    }
    const pairRatios: number[] = [];
    const pairCpuRatios: number[] = [];
    for (let index = 0; index < slices.length; index += 2) {
      const pair = slices.slice(index, index + 2);
      const [onA, onB] = [sideA, sideB].map((side) =>
        pooled(pair.filter((s) => s.label === side.label)),
      );
      pairRatios.push(onA!.opsPerSecond / onB!.opsPerSecond);
      pairCpuRatios.push(onA!.serverUsPerOp / onB!.serverUsPerOp);
    }
    const pooledA = pooled(slices.filter((slice) => slice.label === sideA.label));
    const pooledB = pooled(slices.filter((slice) => slice.label === sideB.label));
    const [aFirst, bFirst] = orderCpuRatios;
    return {
      a: pooledA,
      b: pooledB,
      throughputRatio: pooledA.opsPerSecond / pooledB.opsPerSecond,
      serverCpuPerOpRatio: pooledA.serverUsPerOp / pooledB.serverUsPerOp,
      pairRatios,
      pairCpuRatios,
      pairRatioMedian: median(pairRatios),
      pairCpuRatioMedian: median(pairCpuRatios),
      ...(aFirst !== undefined && bFirst !== undefined
        ? { startOrderCpuRatio: Math.sqrt(aFirst / bFirst) }
        : {}),
    };
  } finally {
    await stopAllClusters();
  }
}

/** The report as a table and a line of ratios. */
export function formatSlicedPair(options: SlicedPairOptions, report: SlicedPairReport): string {
  const table = new Table({
    head: ["", "ops/s", "server CPU µs/op", "client CPU µs/op", "operations", "failed"],
  });
  for (const [side, row] of [
    [options.sides[0], report.a],
    [options.sides[1], report.b],
  ] as const) {
    table.push([
      side.label,
      Math.round(row.opsPerSecond),
      Math.round(row.serverUsPerOp),
      Math.round(row.clientUsPerOp),
      row.operations,
      row.failed,
    ]);
  }
  const fixed = (values: readonly number[]) => values.map((value) => value.toFixed(2)).join(" ");
  const [a, b] = options.sides.map((side) => side.label);
  return (
    `${table.toString()}\n` +
    `${a} / ${b}: throughput ${report.throughputRatio.toFixed(3)}× pooled, per ABBA pair ` +
    `${fixed(report.pairRatios)} (median ${report.pairRatioMedian.toFixed(3)}×); server CPU per ` +
    `operation ${report.serverCpuPerOpRatio.toFixed(3)}× pooled, per pair ` +
    `${fixed(report.pairCpuRatios)} (median ${report.pairCpuRatioMedian.toFixed(3)}×)` +
    (report.startOrderCpuRatio === undefined
      ? ""
      : `\nhalf the slices with each side's cluster started first; the cluster started first ` +
        `took ${report.startOrderCpuRatio.toFixed(3)}× the server CPU per operation of the other`)
  );
}

/** The yargs options both scripts take. */
export const SLICED_PAIR_ARGS = {
  workload: { choices: ["a", "b", "c", "f", "insert"] as const, default: "a" as const },
  slices: {
    type: "number",
    default: 12,
    describe: "Measured slices per cluster, ABBA order (even)",
  },
  "slice-seconds": { type: "number", default: 5 },
  "warmup-seconds": { type: "number", default: 10, describe: "Per cluster, not measured" },
  concurrency: { type: "number", default: 64 },
  records: { type: "number", default: 5000 },
  routing: { choices: ["given", "spread"] as const, default: "given" as const },
  session: {
    type: "boolean",
    default: false,
    describe: "The client coalesces calls onto KV.Session streams (default: unary calls)",
  },
  seed: { type: "number", default: 42 },
  "node-flag": {
    type: "string",
    array: true,
    default: [] as string[],
    describe: "A Node.js flag for every node, e.g. --node-flag=--trace-gc",
  },
  "cpu-prof-dir": {
    type: "string",
    describe: "Every node writes a .cpuprofile on exit, under DIR/<label>",
  },
  json: { type: "boolean", default: false },
  "start-orders": {
    type: "number",
    default: 2,
    describe:
      "2: the second half of the slices on fresh clusters started in the other order, which " +
      "cancels the first-started cluster's bias; 1: one start (faster)",
  },
} as const;

/** Refuses option values the run cannot use; returns true for yargs' check. */
export function checkSlicedPairArgs(argv: {
  slices: number;
  "start-orders": number;
  "slice-seconds": number;
  "warmup-seconds": number;
  concurrency: number;
  records: number;
}): true {
  if (!Number.isInteger(argv.slices) || argv.slices < 2 || argv.slices % 2 !== 0) {
    throw new Error(`--slices must be an even integer ≥ 2, got ${argv.slices}`);
  }
  for (const name of ["slice-seconds", "concurrency", "records"] as const) {
    if (!(argv[name] > 0)) throw new Error(`--${name} must be positive, got ${argv[name]}`);
  }
  if (!(argv["warmup-seconds"] >= 0)) throw new Error("--warmup-seconds must be ≥ 0");
  if (argv["start-orders"] !== 1 && argv["start-orders"] !== 2) {
    throw new Error(`--start-orders must be 1 or 2, got ${argv["start-orders"]}`);
  }
  return true;
}

/** The run's options from the parsed SLICED_PAIR_ARGS. */
export function slicedPairOptions(
  argv: {
    workload: WorkloadName;
    slices: number;
    "slice-seconds": number;
    "warmup-seconds": number;
    concurrency: number;
    records: number;
    routing: "given" | "spread";
    session: boolean;
    seed: number;
    "node-flag": string[];
    "cpu-prof-dir": string | undefined;
    json: boolean;
    "start-orders": number;
  },
  sides: readonly [Side, Side],
): SlicedPairOptions {
  return {
    sides,
    workload: argv.workload,
    slices: argv.slices,
    sliceSeconds: argv["slice-seconds"],
    warmupSeconds: argv["warmup-seconds"],
    concurrency: argv.concurrency,
    records: argv.records,
    routing: argv.routing,
    session: argv.session,
    seed: argv.seed,
    nodeFlags: argv["node-flag"],
    cpuProfDir: argv["cpu-prof-dir"],
    verbose: !argv.json,
    startOrders: argv["start-orders"] === 1 ? 1 : 2,
  };
}

/** Stops the clusters and exits on SIGINT or SIGTERM. */
export function stopOnInterrupt(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void stopAllClusters().then(() => process.exit(130)));
  }
}
