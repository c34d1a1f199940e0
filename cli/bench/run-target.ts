// Drives one target (dkv or the echo baseline): preload, fork the load workers with their
// share of the load, start them together, show progress, read the servers' CPU over the
// measured window, and merge what the workers measured into one TargetResult.

import { securityOf, type ClientCredentialsPem } from "../../node/security/client-security.js";
import type { ChildProcess } from "node:child_process";
import { DkvClient } from "../../coordinator/client.js";
import type { BenchConfig } from "./bench-config.js";
import {
  machineBusyCpuSeconds,
  nextMessage,
  processesCpuSeconds,
  type BenchProcesses,
} from "./bench-processes.js";
import { startProgress } from "./bench-progress.js";
import { summarizeRecording, type TargetResult } from "./bench-summary.js";
import { mergeSnapshots } from "./latency-recorder.js";
import { preloadRecords, type PreloadOutcome } from "./preload.js";
import { benchValue } from "./workload-executor.js";
import type { FromWorker, LoopSpec, WorkerConfig } from "./worker-messages.js";

/** What a target is and how to read its servers' CPU. */
export interface TargetSpec {
  readonly name: "dkv" | "echo";
  readonly addresses: readonly string[];
  readonly serverPids: readonly number[];
  /** Preload without overwriting what a running cluster holds. */
  readonly ifNoneMatch: boolean;
  /** TLS credentials (absent: plaintext). */
  readonly credentials?: ClientCredentialsPem;
}

/** Workers start this long after the last one is ready, so that all start together. */
const START_DELAY_MS = 300;
/** Worker and echo-server start-up bound. */
export const CHILD_READY_TIMEOUT_MS = 30_000;

/** Preload, then the measured run from `config.clientProcesses` worker processes. */
export async function runTarget(
  spec: TargetSpec,
  config: BenchConfig,
  processes: BenchProcesses,
): Promise<TargetResult> {
  const preload = await preloadTarget(spec, config);
  const workers = await Promise.all(
    Array.from({ length: config.clientProcesses }, (_, index) =>
      startWorker(workerConfig(spec, config, index), processes),
    ),
  );
  const startAtEpochMs = Date.now() + START_DELAY_MS;
  const serverCpu = sampleCpu(spec.serverPids, startAtEpochMs + config.warmupMs);
  const progress = showRunProgress(spec.name, workers, config, startAtEpochMs);
  const drainMs = config.loop.kind === "open" ? openLoopDrainMs(config) : 0;
  try {
    const replies = workers.map((worker) =>
      nextMessage<FromWorker>(
        worker,
        (message) => message.type === "result" || message.type === "failed",
        START_DELAY_MS +
          config.durationMs +
          drainMs +
          2 * timeoutMsOf(config) +
          CHILD_READY_TIMEOUT_MS,
        `${spec.name} load worker`,
      ),
    );
    for (const worker of workers) worker.send({ type: "start", startAtEpochMs });
    const results = await Promise.all(replies);
    const windowCpu = serverCpu.finish();
    progress.stop(`done: ${measuredCount(results)} measured operations`);
    const done: Extract<FromWorker, { type: "result" }>[] = [];
    for (const result of results) {
      if (result.type === "failed")
        throw new Error(`${spec.name} load worker failed: ${result.message}`);
      if (result.type === "result") done.push(result);
    }
    return assembleTarget(spec, config, preload, done, windowCpu);
  } finally {
    progress.stop();
    serverCpu.cancel();
  }
}

function measuredCount(results: readonly FromWorker[]): number {
  return results.reduce(
    (sum, result) => sum + (result.type === "result" ? result.completed : 0),
    0,
  );
}

async function preloadTarget(spec: TargetSpec, config: BenchConfig): Promise<PreloadOutcome> {
  const client = new DkvClient(spec.addresses, { security: securityOf(spec.credentials) });
  try {
    return await preloadRecords({
      label: `preload ${spec.name}`,
      client,
      records: config.records,
      value: benchValue(config.valueBytes, config.seed),
      callOptions: config.callOptions,
      concurrency: config.preloadConcurrency,
      ifNoneMatch: spec.ifNoneMatch,
    });
  } finally {
    client.close();
  }
}

function timeoutMsOf(config: BenchConfig): number {
  return config.callOptions.timeoutMs ?? 5000;
}

/** The open loop may keep starting overdue operations this long after the end. */
function openLoopDrainMs(config: BenchConfig): number {
  return timeoutMsOf(config) + 1000;
}

/** Worker `index`'s share of the load; each process starts at a different node. */
function workerConfig(spec: TargetSpec, config: BenchConfig, index: number): WorkerConfig {
  const count = config.clientProcesses;
  const rotation = index % spec.addresses.length;
  const addresses = [...spec.addresses.slice(rotation), ...spec.addresses.slice(0, rotation)];
  let loop: LoopSpec;
  if (config.loop.kind === "closed") {
    const { concurrency } = config.loop;
    loop = {
      kind: "closed",
      concurrency: Math.floor(concurrency / count) + (index < concurrency % count ? 1 : 0),
    };
  } else {
    const { ratePerSecond, inFlightMax } = config.loop;
    loop = {
      kind: "open",
      ratePerSecond: ratePerSecond / count,
      // Interleave the processes' schedules so that together they are evenly spaced.
      phaseOffsetMs: (index * 1000) / ratePerSecond,
      inFlightMax: Math.max(1, Math.ceil(inFlightMax / count)),
      drainMs: openLoopDrainMs(config),
    };
  }
  return {
    workerIndex: index,
    addresses,
    routing: spec.name === "dkv" ? config.routing : "given",
    session: config.session,
    batch: config.batch,
    ...(spec.credentials === undefined ? {} : { credentials: spec.credentials }),
    workload: config.workload,
    records: config.records,
    valueBytes: config.valueBytes,
    seed: config.seed,
    callOptions: config.callOptions,
    loop,
    warmupMs: config.warmupMs,
    durationMs: config.durationMs,
    progressIntervalMs: 1000,
  };
}

async function startWorker(config: WorkerConfig, processes: BenchProcesses): Promise<ChildProcess> {
  const child = processes.forkModule("load-worker-process");
  const ready = nextMessage<FromWorker>(
    child,
    (message) => message.type === "ready" || message.type === "failed",
    CHILD_READY_TIMEOUT_MS,
    "load worker",
  );
  child.send({ type: "configure", config });
  const reply = await ready;
  if (reply.type === "failed") throw new Error(`load worker failed: ${reply.message}`);
  return child;
}

/** CPU used over the measured window, in cores (1 = one core busy); null when unknown. */
interface WindowCpu {
  readonly serverCores: number | null;
  /** CPU seconds the servers used over the window (user + system, all of them). */
  readonly serverCpuSeconds: number | null;
  readonly machineBusyCores: number | null;
}

/** Reads the servers' and the machine's CPU time at the end of the warmup and at finish(). */
function sampleCpu(
  pids: readonly number[],
  fromEpochMs: number,
): { finish(): WindowCpu; cancel(): void } {
  const read = (): { server: number | undefined; machine: number | undefined; atMs: number } => ({
    server: pids.length === 0 ? undefined : processesCpuSeconds(pids),
    machine: machineBusyCpuSeconds(),
    atMs: performance.now(),
  });
  let first: ReturnType<typeof read> | undefined;
  const timer = setTimeout(() => (first = read()), Math.max(0, fromEpochMs - Date.now()));
  const cores = (
    from: number | undefined,
    to: number | undefined,
    wallMs: number,
  ): number | null =>
    from === undefined || to === undefined || wallMs <= 0
      ? null
      : Math.round(((to - from) / (wallMs / 1000)) * 100) / 100;
  return {
    finish: () => {
      const last = read();
      if (first === undefined) {
        return { serverCores: null, serverCpuSeconds: null, machineBusyCores: null };
      }
      const wallMs = last.atMs - first.atMs;
      return {
        serverCores: cores(first.server, last.server, wallMs),
        serverCpuSeconds:
          first.server === undefined || last.server === undefined
            ? null
            : last.server - first.server,
        machineBusyCores: cores(first.machine, last.machine, wallMs),
      };
    },
    cancel: () => clearTimeout(timer),
  };
}

/** A progress display of the run, fed by the workers' progress messages. */
function showRunProgress(
  name: string,
  workers: readonly ChildProcess[],
  config: BenchConfig,
  startAtEpochMs: number,
): { stop(finalNote?: string): void } {
  const completed = workers.map(() => 0);
  const failed = workers.map(() => 0);
  workers.forEach((worker, index) =>
    worker.on("message", (message: FromWorker) => {
      if (message.type !== "progress") return;
      completed[index] = message.completed;
      failed[index] = message.failed;
    }),
  );
  const seconds = Math.ceil(config.durationMs / 1000);
  const progress = startProgress(`run ${name}`, seconds, "s");
  let previous = { total: 0, atMs: Date.now() };
  const timer = setInterval(() => {
    const nowMs = Date.now();
    const elapsedMs = nowMs - startAtEpochMs;
    const total = completed.reduce((sum, count) => sum + count, 0);
    const rate = ((total - previous.total) * 1000) / Math.max(1, nowMs - previous.atMs);
    previous = { total, atMs: nowMs };
    const failures = failed.reduce((sum, count) => sum + count, 0);
    const noteText =
      elapsedMs < config.warmupMs
        ? "warming up"
        : `${Math.round(rate)} ops/s, ${total} measured, ${failures} failed`;
    progress.update(Math.max(0, Math.floor(elapsedMs / 1000)), noteText);
  }, 1000);
  let stopped = false;
  return {
    stop: (finalNote) => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (finalNote !== undefined) progress.update(seconds, finalNote);
      progress.stop();
    },
  };
}

function assembleTarget(
  spec: TargetSpec,
  config: BenchConfig,
  preload: PreloadOutcome,
  results: readonly Extract<FromWorker, { type: "result" }>[],
  windowCpu: WindowCpu,
): TargetResult {
  const merged = mergeSnapshots(results.map((result) => result.recording));
  const measuredSeconds = Math.max(...results.map((result) => result.measuredMs)) / 1000;
  const reads = results.reduce(
    (sum, result) => ({
      count: sum.count + result.readStats.reads,
      notFound: sum.notFound + result.readStats.notFound,
      siblingsMax: Math.max(sum.siblingsMax, result.readStats.siblingsMax),
      siblingsTotal: sum.siblingsTotal + result.readStats.siblingsTotal,
    }),
    { count: 0, notFound: 0, siblingsMax: 0, siblingsTotal: 0 },
  );
  const operations = summarizeRecording(merged, measuredSeconds);
  const measuredOperations = operations.all.operations + operations.all.failed;
  return {
    target: spec.name,
    addresses: spec.addresses,
    measuredSeconds: Math.round(measuredSeconds * 1000) / 1000,
    operations,
    errors: merged.errors,
    preload,
    reads: {
      count: reads.count,
      notFound: reads.notFound,
      siblingsMax: reads.siblingsMax,
      siblingsMean:
        reads.count === 0 ? 0 : Math.round((reads.siblingsTotal / reads.count) * 1000) / 1000,
    },
    cpu: {
      clientProcessCores: results.map(
        (result) =>
          Math.round(
            ((result.cpu.userMicros + result.cpu.systemMicros) / 1000 / result.cpu.wallMs) * 100,
          ) / 100,
      ),
      clientEventLoopDelayP99Ms: results.map(
        (result) => Math.round(result.cpu.eventLoopDelayP99Ms * 100) / 100,
      ),
      serverCores: windowCpu.serverCores,
      serverCpuUsPerOperation:
        windowCpu.serverCpuSeconds === null || measuredOperations === 0
          ? null
          : Math.round((windowCpu.serverCpuSeconds * 1e6) / measuredOperations),
      machineBusyCores: windowCpu.machineBusyCores,
    },
    openLoop:
      config.loop.kind === "open"
        ? {
            targetRateOpsPerSecond: config.loop.ratePerSecond,
            startLagMaxMs:
              Math.round(Math.max(...results.map((result) => result.startLagMaxMs)) * 100) / 100,
            notIssued: results.reduce((sum, result) => sum + result.notIssued, 0),
          }
        : null,
  };
}
