// The flood benchmark's phases (bench-flood.ts): a real client's gets at a fixed rate, open loop,
// recorded in a histogram with the nodes' CPU; phases of one kind pooled; the attacker as a
// process of its own, pinned to a CPU if asked.

import { execFileSync, fork } from "node:child_process";
import os from "node:os";
import path from "node:path";
import type { Histogram } from "hdr-histogram-js";
import { processCpuSeconds } from "../../cli/bench/bench-processes.js";
import type { DkvClient } from "../../coordinator/client.js";
import { newLatencyHistogram } from "../../cli/bench/latency-recorder.js";
import { sleep } from "./fault-cluster.js";
import type { FloodReport } from "./anonymous-flood.js";

/** CPU seconds (user + system) a process has used, from /proc (these benchmarks need Linux). */
export function cpuSeconds(pid: number): number {
  const seconds = processCpuSeconds(pid);
  if (seconds === undefined) throw new Error(`no CPU time for pid ${pid}: /proc is needed`);
  return seconds;
}

export interface Phase {
  readonly name: string;
  readonly operations: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU of the three nodes, in cores (CPU seconds per second), n1 first. */
  readonly cpuCores: number[];
  /** Failed gets by message. */
  readonly errors: Record<string, number>;
}

/** A phase's latencies (µs) and what `phaseOf` summarises. */
export interface Measured {
  readonly histogram: Histogram;
  readonly failed: number;
  readonly errors: ReadonlyMap<string, number>;
  /** Node CPU seconds used, n1 first, and the wall seconds it took. */
  readonly cpuSeconds: number[];
  readonly wallSeconds: number;
}

/**
 * Gets at a fixed rate, open loop: each latency counts from when the get was due, so a stall
 * shows in full (no coordinated omission).
 */
export async function fixedRate(
  client: DkvClient,
  rate: number,
  seconds: number,
  pids: number[],
): Promise<Measured> {
  const histogram = newLatencyHistogram();
  let failed = 0;
  const errors = new Map<string, number>();
  const cpuBefore = pids.map(cpuSeconds);
  const startedMs = performance.now();
  const pending: Promise<void>[] = [];
  for (let index = 0; index < rate * seconds; index++) {
    const dueMs = startedMs + (index * 1000) / rate;
    const waitMs = dueMs - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    pending.push(
      client.get("flood-key", { timeoutMs: 5000 }).then(
        () => histogram.recordValue(Math.max(1, Math.round((performance.now() - dueMs) * 1000))),
        (error: { details?: string }) => {
          failed += 1;
          // Numbers (times, ports) out, so that one cause is one entry.
          const reason = (error.details ?? String(error)).replace(/[\d.]+/g, "N").slice(0, 80);
          errors.set(reason, (errors.get(reason) ?? 0) + 1);
        },
      ),
    );
  }
  await Promise.all(pending);
  return {
    histogram,
    failed,
    errors,
    cpuSeconds: pids.map((pid, index) => cpuSeconds(pid) - cpuBefore[index]!),
    wallSeconds: (performance.now() - startedMs) / 1000,
  };
}

/** Phases of one kind pooled: one histogram, summed failures, CPU over their summed time. */
export function phaseOf(name: string, measured: readonly Measured[]): Phase {
  const histogram = newLatencyHistogram();
  const errors: Record<string, number> = {};
  for (const one of measured) {
    histogram.add(one.histogram);
    for (const [reason, count] of one.errors) errors[reason] = (errors[reason] ?? 0) + count;
  }
  const wallSeconds = measured.reduce((sum, one) => sum + one.wallSeconds, 0);
  const cpuCores = measured[0]!.cpuSeconds.map(
    (_, index) => measured.reduce((sum, one) => sum + one.cpuSeconds[index]!, 0) / wallSeconds,
  );
  return {
    name,
    operations: histogram.totalCount,
    failed: measured.reduce((sum, one) => sum + one.failed, 0),
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
    cpuCores,
    errors,
  };
}

/** Pins every thread of `pid` to `cpus` (util-linux taskset; Node has no call for it). */
export function pin(pid: number, cpus: string): void {
  execFileSync("taskset", ["--all-tasks", "--cpu-list", "--pid", cpus, `${pid}`], {
    stdio: "ignore",
  });
}

/** The attacker, a process of its own, and what it did once stopped. */
export async function runFlood(
  address: string,
  args: { connections: number; addresses: number; calls: number; nice: number; cpu?: number },
  during: () => Promise<void>,
): Promise<{ report: FloodReport; cpuSeconds: number; wallSeconds: number }> {
  const [host, port] = [address.split(":")[0]!, address.split(":")[1]!];
  const flood = fork(
    path.resolve("scripts/lib/anonymous-flood.ts"),
    [host, port, `${args.connections}`, `${args.addresses}`, `${args.calls}`],
    { execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "inherit", "ipc"] },
  );
  // The attacker stands for other machines: at --flood-nice it takes these 2 cores only when
  // the cluster and the real client leave them idle, and with --attacker-cpu it has a core of
  // its own, so the p99 shows what the node pays.
  os.setPriority(flood.pid!, args.nice);
  if (args.cpu !== undefined) pin(flood.pid!, `${args.cpu}`);
  const exited = new Promise((resolve) => flood.once("exit", resolve));
  try {
    // Measure from the flood's start, not the attacker's: on a loaded machine its start (tsx)
    // can outlast a short phase.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the attacker did not start flooding ${address} within 60 s`)),
        60_000,
      );
      flood.once("message", () => {
        clearTimeout(timer);
        resolve();
      });
      flood.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the attacker exited (${code}) before flooding ${address}`));
      });
    });
    const cpuBefore = cpuSeconds(flood.pid!);
    const startedMs = performance.now();
    await during();
    const used = cpuSeconds(flood.pid!) - cpuBefore;
    const wallSeconds = (performance.now() - startedMs) / 1000;
    const report = await new Promise<FloodReport>((resolve) => {
      flood.once("message", (message) => resolve(message as FloodReport));
      flood.send("stop");
    });
    await exited;
    return { report, cpuSeconds: used, wallSeconds };
  } finally {
    if (flood.exitCode === null) flood.kill("SIGKILL");
  }
}
