// The readable form of a bench report: what ran, one table of throughput and percentiles per
// target and operation, the dkv/echo ratio beside it, CPU use, the DESIGN §9 checks, warnings.

import Table from "cli-table3";
import type { BenchReport } from "./bench-report.js";
import type { OperationSummary, TargetResult } from "./bench-summary.js";
import { OPERATION_KINDS } from "./workload.js";

/** The report as lines of text. */
export function formatBenchReport(report: BenchReport): string {
  const config = report.config as {
    workload: string;
    workloadDescription: string;
    records: number;
    valueBytes: number;
    loop: { kind: string; concurrency?: number; ratePerSecond?: number };
    durationSeconds: number;
    warmupSeconds: number;
    clientProcesses: number;
    seed: number;
    quorum: { n?: number; r?: unknown; w?: unknown; dw?: unknown };
    routing?: string;
    session?: boolean;
    batch?: number;
  };
  const batch = config.batch ?? 0;
  const step = batch > 0 ? "batches" : "ops";
  const loop =
    config.loop.kind === "closed"
      ? `closed loop, concurrency ${config.loop.concurrency}${batch > 0 ? " batches" : ""}`
      : `open loop, ${config.loop.ratePerSecond} ${step}/s intended (latency from intended start)`;
  const calls =
    batch > 0
      ? `KV.BatchGet/KV.BatchPut of ${batch} operations; figures count operations, each with its batch's latency`
      : config.session === true
        ? "calls coalesced onto a KV.Session stream per node"
        : "unary calls";
  const { n, r, w, dw } = config.quorum;
  const lines = [
    `workload ${config.workload.toUpperCase()} (${config.workloadDescription}); scrambled zipfian 0.99 over ${config.records} records; ${config.valueBytes}-byte values`,
    `${loop}; ${config.clientProcesses} client process(es); ${config.durationSeconds} s with ${config.warmupSeconds} s warmup; n=${n} r=${r} w=${w} dw=${dw}; seed ${config.seed}`,
    `${calls}; routing ${config.routing ?? "given"}`,
    `machine: ${report.machine.cores} cores (${report.machine.cpuModel}), Linux ${report.machine.kernel}, Node ${report.machine.node}; load average ${report.machine.loadAverageAtStart} at start, ${report.machine.loadAverageAtEnd} at end`,
    "",
    table(report),
  ];
  if (report.ratio !== null) {
    const ratio = report.ratio;
    lines.push(
      `dkv/echo: throughput ${ratio.throughput}×; latency p50 ${ratio.p50}×, p95 ${ratio.p95}×, p99 ${ratio.p99}×, p99.9 ${ratio.p999}×, max ${ratio.max}×`,
    );
  }
  for (const target of [report.dkv, report.echo]) {
    if (target !== null) lines.push(detailLine(target));
  }
  lines.push(...designLines(report));
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  return lines.join("\n");
}

function table(report: BenchReport): string {
  const grid = new Table({
    head: ["target", "op", "ok", "failed", "ops/s", "mean ms", "p50", "p95", "p99", "p99.9", "max"],
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const target of [report.dkv, report.echo]) {
    if (target === null) continue;
    for (const kind of [...OPERATION_KINDS, "all"] as const) {
      const summary: OperationSummary | undefined = target.operations[kind];
      if (summary === undefined) continue;
      grid.push([
        target.target,
        kind,
        String(summary.operations),
        String(summary.failed),
        summary.throughputOpsPerSecond.toFixed(0),
        summary.meanMs.toFixed(2),
        summary.p50Ms.toFixed(2),
        summary.p95Ms.toFixed(2),
        summary.p99Ms.toFixed(2),
        summary.p999Ms.toFixed(2),
        summary.maxMs.toFixed(2),
      ]);
    }
  }
  return grid.toString();
}

function detailLine(target: TargetResult): string {
  const cores = target.cpu.clientProcessCores.map((value) => value.toFixed(2)).join(", ");
  const server =
    target.cpu.serverCores === null
      ? "unknown"
      : `${target.cpu.serverCores.toFixed(2)} (${target.cpu.serverCpuUsPerOperation ?? "?"} µs of server CPU per operation)`;
  const machine =
    target.cpu.machineBusyCores === null ? "unknown" : target.cpu.machineBusyCores.toFixed(2);
  const open =
    target.openLoop === null
      ? ""
      : `; start lag max ${target.openLoop.startLagMaxMs} ms, not issued ${target.openLoop.notIssued}`;
  return (
    `${target.target}: ${target.measuredSeconds} s measured; CPU cores used: client ${cores}, servers ${server}, whole machine ${machine}; ` +
    `reads ${target.reads.count} (${target.reads.notFound} not found, siblings max ${target.reads.siblingsMax}, mean ${target.reads.siblingsMean})${open}`
  );
}

function designLines(report: BenchReport): string[] {
  const lines: string[] = [];
  const { design, ratio } = report;
  if (design.throughputRatioMet !== null && ratio !== null) {
    lines.push(
      `DESIGN §9 YCSB-A throughput ≥ ${design.throughputRatioTarget}× echo: ${design.throughputRatioMet ? "met" : "NOT met"} (${ratio.throughput}×)`,
    );
  }
  const config = report.config as { loop: { kind: string }; batch?: number };
  if (config.loop.kind === "closed") {
    // --rate counts the loop's steps: batches, with --batch.
    const perStep = Math.max(1, config.batch ?? 0);
    const half = Math.round(report.dkv.operations.all.throughputOpsPerSecond / 2 / perStep);
    lines.push(
      `for the DESIGN §9 latency check, run the open loop at half this run's throughput (if it was the maximum): --rate ${half}`,
    );
  }
  if (design.p999Met !== null) {
    lines.push(
      `DESIGN §9 p99.9 ≤ ${design.p999TargetMs} ms (open loop, at half the maximum throughput): ${design.p999Met ? "met" : "NOT met"} at this rate (${report.dkv.operations.all.p999Ms} ms)`,
    );
  }
  return lines;
}
