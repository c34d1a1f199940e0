// The figures of a bench run: per-operation throughput and percentiles from merged HDR
// histograms, the dkv/echo ratio, and the warnings that say when a figure should not be
// trusted (a saturated client, a missed rate, failures). Pure: no IO.

import type { Histogram } from "hdr-histogram-js";
import type { MergedRecording } from "./latency-recorder.js";
import type { PreloadOutcome } from "./preload.js";
import { OPERATION_KINDS, type OperationKind } from "./workload.js";

/** Throughput and latency of one operation kind (or all), successful operations only. */
export interface OperationSummary {
  readonly operations: number;
  readonly failed: number;
  readonly throughputOpsPerSecond: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** The result of driving one target (dkv or the echo baseline). */
export interface TargetResult {
  readonly target: "dkv" | "echo";
  readonly addresses: readonly string[];
  readonly measuredSeconds: number;
  readonly operations: Partial<Record<OperationKind, OperationSummary>> & {
    readonly all: OperationSummary;
  };
  /** Failed operations by gRPC status name (NOT_ISSUED: open loop ran out of drain time). */
  readonly errors: Readonly<Record<string, number>>;
  readonly preload: PreloadOutcome;
  readonly reads: {
    readonly count: number;
    /** Reads that found no value although every record was preloaded. */
    readonly notFound: number;
    readonly siblingsMax: number;
    readonly siblingsMean: number;
  };
  readonly cpu: {
    /** Cores used by each client process while it generated load (1 = one core). */
    readonly clientProcessCores: readonly number[];
    readonly clientEventLoopDelayP99Ms: readonly number[];
    /** Cores used by the server processes over the measured window; null when unknown. */
    readonly serverCores: number | null;
    /**
     * Server CPU (user + system, summed over the server processes) per operation measured, in
     * µs: DESIGN §9's figure that travels between machines; null when unknown.
     */
    readonly serverCpuUsPerOperation: number | null;
    /** Cores the whole machine was busy over the measured window (every process). */
    readonly machineBusyCores: number | null;
  };
  readonly openLoop: {
    readonly targetRateOpsPerSecond: number;
    readonly startLagMaxMs: number;
    readonly notIssued: number;
  } | null;
}

/** dkv's figures divided by the echo baseline's. */
export interface Ratio {
  /** dkv throughput / echo throughput (DESIGN §9 asks ≥ 0.8 for YCSB-A). */
  readonly throughput: number;
  /** dkv latency / echo latency at each percentile. */
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly byOperation: Partial<Record<OperationKind, { throughput: number; p99: number }>>;
}

/** Microseconds in the histograms to milliseconds in the report, rounded to the microsecond. */
function ms(microseconds: number): number {
  return Math.round(microseconds) / 1000;
}

function summarize(
  histogram: Histogram | undefined,
  failed: number,
  seconds: number,
): OperationSummary {
  const operations = histogram?.totalCount ?? 0;
  const at = (percentile: number): number =>
    histogram === undefined || operations === 0
      ? 0
      : ms(histogram.getValueAtPercentile(percentile));
  return {
    operations,
    failed,
    throughputOpsPerSecond: seconds > 0 ? Math.round((operations / seconds) * 10) / 10 : 0,
    meanMs: operations === 0 || histogram === undefined ? 0 : ms(histogram.mean),
    p50Ms: at(50),
    p95Ms: at(95),
    p99Ms: at(99),
    p999Ms: at(99.9),
    maxMs: operations === 0 || histogram === undefined ? 0 : ms(histogram.maxValue),
  };
}

/** Per-kind and overall summaries of a merged recording over the measured seconds. */
export function summarizeRecording(
  merged: MergedRecording,
  measuredSeconds: number,
): TargetResult["operations"] {
  const failedTotal = Object.values(merged.errors).reduce((sum, count) => sum + count, 0);
  const operations: Partial<Record<OperationKind, OperationSummary>> = {};
  for (const kind of OPERATION_KINDS) {
    const histogram = merged.histograms.get(kind);
    const failed = merged.failedByKind[kind] ?? 0;
    if (histogram !== undefined || failed > 0) {
      operations[kind] = summarize(histogram, failed, measuredSeconds);
    }
  }
  return { ...operations, all: summarize(merged.overall, failedTotal, measuredSeconds) };
}

function divide(top: number, bottom: number): number {
  return bottom > 0 ? Math.round((top / bottom) * 1000) / 1000 : 0;
}

/** dkv / echo, overall and per operation kind. */
export function ratioOf(dkv: TargetResult, echo: TargetResult): Ratio {
  const a = dkv.operations.all;
  const b = echo.operations.all;
  const byOperation: Ratio["byOperation"] = {};
  for (const kind of OPERATION_KINDS) {
    const mine = dkv.operations[kind];
    const theirs = echo.operations[kind];
    if (mine === undefined || theirs === undefined) continue;
    byOperation[kind] = {
      throughput: divide(mine.throughputOpsPerSecond, theirs.throughputOpsPerSecond),
      p99: divide(mine.p99Ms, theirs.p99Ms),
    };
  }
  return {
    throughput: divide(a.throughputOpsPerSecond, b.throughputOpsPerSecond),
    p50: divide(a.p50Ms, b.p50Ms),
    p95: divide(a.p95Ms, b.p95Ms),
    p99: divide(a.p99Ms, b.p99Ms),
    p999: divide(a.p999Ms, b.p999Ms),
    max: divide(a.maxMs, b.maxMs),
    byOperation,
  };
}

/** A client process above this share of one core may be what limits the figures. */
export const CLIENT_CORE_WARNING = 0.9;

/** Other processes busier than this (in cores) make a run's figures suspect. */
export const OTHER_CORES_WARNING = 0.25;

/** Reasons not to take a target's figures at face value. */
export function warningsOf(result: TargetResult, machineCores: number): string[] {
  const warnings: string[] = [];
  const name = result.target;
  result.cpu.clientProcessCores.forEach((cores, index) => {
    if (cores > CLIENT_CORE_WARNING) {
      warnings.push(
        `${name}: client process ${index + 1} used ${(cores * 100).toFixed(0)}% of a core: the client may be the bottleneck (try --client-processes)`,
      );
    }
  });
  const clientCores = result.cpu.clientProcessCores.reduce((sum, cores) => sum + cores, 0);
  if (
    result.cpu.serverCores !== null &&
    clientCores + result.cpu.serverCores > 0.9 * machineCores
  ) {
    warnings.push(
      `${name}: clients (${clientCores.toFixed(2)}) and servers (${result.cpu.serverCores.toFixed(2)}) used ~all ${machineCores} cores: the figures are bounded by this machine`,
    );
  }
  const { serverCores, machineBusyCores } = result.cpu;
  if (serverCores !== null && machineBusyCores !== null) {
    const otherCores = machineBusyCores - serverCores - clientCores;
    if (otherCores > OTHER_CORES_WARNING) {
      warnings.push(
        `${name}: processes outside the bench kept ~${otherCores.toFixed(2)} cores busy during the run: a shared machine, the figures are low`,
      );
    }
  }
  const failed = result.operations.all.failed;
  if (failed > 0) {
    const statuses = Object.entries(result.errors).map(([status, count]) => `${status} ${count}`);
    warnings.push(
      `${name}: ${failed} operations failed (${statuses.join(", ")}); percentiles count successful operations only`,
    );
  }
  if (result.reads.notFound > 0) {
    warnings.push(
      `${name}: ${result.reads.notFound} reads found no value although every record was preloaded`,
    );
  }
  const open = result.openLoop;
  if (
    open !== null &&
    result.operations.all.throughputOpsPerSecond < 0.95 * open.targetRateOpsPerSecond
  ) {
    warnings.push(
      `${name}: achieved ${result.operations.all.throughputOpsPerSecond} ops/s of the ${open.targetRateOpsPerSecond} ops/s asked: the target (or the client) cannot sustain this rate`,
    );
  }
  const preloadFailed = Object.values(result.preload.failed).reduce((sum, count) => sum + count, 0);
  if (preloadFailed > 0) warnings.push(`${name}: ${preloadFailed} preload puts failed`);
  return warnings;
}
