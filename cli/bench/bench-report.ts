// The report of a bench run: the figures of both targets, their ratio, the machine, the
// configuration as run, and the DESIGN §9 checks that apply. `--json` prints it as is.

import os from "node:os";
import type { BenchConfig } from "./bench-config.js";
import { ratioOf, warningsOf, type Ratio, type TargetResult } from "./bench-summary.js";
import { WORKLOADS } from "./workload.js";

/** The whole report; `--json` prints exactly this. */
export interface BenchReport {
  readonly version: 1;
  readonly startedAt: string;
  readonly machine: {
    readonly cores: number;
    readonly cpuModel: string;
    readonly kernel: string;
    readonly node: string;
    /** 1-minute load average at the start and at the end: others' work on a shared machine. */
    readonly loadAverageAtStart: number;
    readonly loadAverageAtEnd: number;
  };
  readonly config: Record<string, unknown>;
  readonly dkv: TargetResult;
  readonly echo: TargetResult | null;
  /** dkv / echo; null without --baseline echo. */
  readonly ratio: Ratio | null;
  /** DESIGN §9 checks that apply to this run (null when the run does not measure them). */
  readonly design: {
    readonly throughputRatioTarget: number;
    readonly throughputRatioMet: boolean | null;
    readonly p999TargetMs: number;
    readonly p999Met: boolean | null;
  };
  readonly warnings: readonly string[];
}

/** DESIGN §9: YCSB-A ≥ 0.8× echo throughput; p99.9 ≤ 30 ms at half the maximum, open loop. */
const DESIGN_THROUGHPUT_RATIO = 0.8;
const DESIGN_P999_MS = 30;

/** Puts the figures of a run together with what ran and where. */
export function buildReport(
  config: BenchConfig,
  start: { readonly startedAt: string; readonly loadAverageAtStart: number },
  dkv: TargetResult,
  echo: TargetResult | null,
): BenchReport {
  const cores = os.cpus().length;
  const ratio = echo === null ? null : ratioOf(dkv, echo);
  const warnings = [...warningsOf(dkv, cores), ...(echo === null ? [] : warningsOf(echo, cores))];
  return {
    version: 1,
    startedAt: start.startedAt,
    machine: {
      cores,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      kernel: os.release(),
      node: process.version,
      loadAverageAtStart: Math.round(start.loadAverageAtStart * 100) / 100,
      loadAverageAtEnd: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    },
    config: reportConfig(config),
    dkv,
    echo,
    ratio,
    design: {
      throughputRatioTarget: DESIGN_THROUGHPUT_RATIO,
      throughputRatioMet:
        ratio !== null &&
        config.workload === "a" &&
        config.loop.kind === "closed" &&
        config.batch === 0
          ? ratio.throughput >= DESIGN_THROUGHPUT_RATIO
          : null,
      p999TargetMs: DESIGN_P999_MS,
      p999Met: config.loop.kind === "open" ? dkv.operations.all.p999Ms <= DESIGN_P999_MS : null,
    },
    warnings,
  };
}

function reportConfig(config: BenchConfig): Record<string, unknown> {
  const { bucket, n, r, w, dw, pr, pw, strictQuorum, timeoutMs } = config.callOptions;
  return {
    workload: config.workload,
    workloadDescription: WORKLOADS[config.workload].description,
    keyChooser: "scrambled zipfian, constant 0.99 (YCSB)",
    records: config.records,
    valueBytes: config.valueBytes,
    loop: config.loop,
    durationSeconds: config.durationMs / 1000,
    warmupSeconds: config.warmupMs / 1000,
    clientProcesses: config.clientProcesses,
    seed: config.seed,
    baseline: config.baseline,
    routing: config.routing,
    session: config.session,
    batch: config.batch,
    target: config.target,
    bucket,
    quorum: { n, r, w, dw, pr, pw, strictQuorum },
    timeoutMs,
  };
}
