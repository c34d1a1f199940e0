// Records what the load drivers measured in HDR histograms (Gil Tene's HdrHistogram, via
// hdr-histogram-js): one histogram of microseconds per operation kind, failures counted by
// status. A recording travels between processes as a snapshot of compressed histograms.

import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from "hdr-histogram-js";
import { OPERATION_KINDS, type OperationKind } from "./workload.js";
import type { OperationResult, StepResult } from "./load-schedule.js";

/** Values are microseconds; three significant digits keep every percentile within 0.1%. */
export function newLatencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000, // one hour; the histogram resizes beyond it
    numberOfSignificantValueDigits: 3,
  });
}

/** A recording in a form that survives JSON and IPC. */
export interface RecordingSnapshot {
  /** Compressed histograms of successful operations by kind (microseconds). */
  readonly histograms: Partial<Record<OperationKind, string>>;
  /** Failed operations by gRPC status name (or NOT_ISSUED / CLIENT_ERROR). */
  readonly errors: Record<string, number>;
  /** Failed operations by kind. */
  readonly failedByKind: Partial<Record<OperationKind, number>>;
  /** When the last measured operation finished (clock of the recording process), or -1. */
  readonly lastDoneMs: number;
}

/** Collects the measured operations of one process. */
export class LatencyRecorder {
  readonly #histograms = new Map<OperationKind, Histogram>();
  readonly #errors = new Map<string, number>();
  readonly #failedByKind = new Map<OperationKind, number>();
  #lastDoneMs = -1;
  #completed = 0;
  #failed = 0;

  /** Operations recorded so far, successful and failed. */
  get completed(): number {
    return this.#completed;
  }

  get failed(): number {
    return this.#failed;
  }

  /**
   * Records one operation, or each item of a batch with the batch's latency; only successful
   * ones enter the latency histograms.
   */
  record(result: StepResult, latencyMs: number, doneMs: number): void {
    if ("kind" in result) {
      this.#recordOne(result, latencyMs, doneMs);
      return;
    }
    for (const item of result) this.#recordOne(item, latencyMs, doneMs);
  }

  #recordOne(result: OperationResult, latencyMs: number, doneMs: number): void {
    this.#completed += 1;
    this.#lastDoneMs = Math.max(this.#lastDoneMs, doneMs);
    if (result.status !== "OK") {
      this.#failed += 1;
      this.#errors.set(result.status, (this.#errors.get(result.status) ?? 0) + 1);
      this.#failedByKind.set(result.kind, (this.#failedByKind.get(result.kind) ?? 0) + 1);
      return;
    }
    let histogram = this.#histograms.get(result.kind);
    if (histogram === undefined) {
      histogram = newLatencyHistogram();
      this.#histograms.set(result.kind, histogram);
    }
    histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }

  /** Counts failures that have no latency, e.g. open-loop operations never started. */
  addErrors(status: string, count: number): void {
    if (count <= 0) return;
    this.#failed += count;
    this.#errors.set(status, (this.#errors.get(status) ?? 0) + count);
  }

  snapshot(): RecordingSnapshot {
    const histograms: Partial<Record<OperationKind, string>> = {};
    for (const [kind, histogram] of this.#histograms) {
      histograms[kind] = encodeIntoCompressedBase64(histogram);
    }
    return {
      histograms,
      errors: Object.fromEntries(this.#errors),
      failedByKind: Object.fromEntries(this.#failedByKind),
      lastDoneMs: this.#lastDoneMs,
    };
  }
}

/** Several processes' recordings added together. */
export interface MergedRecording {
  readonly histograms: ReadonlyMap<OperationKind, Histogram>;
  /** Every kind's histogram added into one. */
  readonly overall: Histogram;
  readonly errors: Readonly<Record<string, number>>;
  readonly failedByKind: Readonly<Partial<Record<OperationKind, number>>>;
}

/** Adds snapshots together (HDR histograms add exactly, bucket by bucket). */
export function mergeSnapshots(snapshots: readonly RecordingSnapshot[]): MergedRecording {
  const histograms = new Map<OperationKind, Histogram>();
  const overall = newLatencyHistogram();
  const errors: Record<string, number> = {};
  const failedByKind: Partial<Record<OperationKind, number>> = {};
  for (const snapshot of snapshots) {
    for (const kind of OPERATION_KINDS) {
      const encoded = snapshot.histograms[kind];
      if (encoded !== undefined) {
        const decoded = decodeFromCompressedBase64(encoded);
        let total = histograms.get(kind);
        if (total === undefined) {
          total = newLatencyHistogram();
          histograms.set(kind, total);
        }
        total.add(decoded);
        overall.add(decoded);
      }
      const failed = snapshot.failedByKind[kind];
      if (failed !== undefined) failedByKind[kind] = (failedByKind[kind] ?? 0) + failed;
    }
    for (const [status, count] of Object.entries(snapshot.errors)) {
      errors[status] = (errors[status] ?? 0) + count;
    }
  }
  return { histograms, overall, errors, failedByKind };
}
