// A sliding window of recent request latencies for `dkv status` (p50/p99 of the last minute):
// a ring of HDR histograms, one per time slice, merged on demand. Time comes in as arguments
// (nowMs), so the window is tested without a clock; recording allocates nothing.

import { build, type Histogram } from "hdr-histogram-js";

/** What the window saw: requests in it and their percentiles (0 when there were none). */
export interface LatencySnapshot {
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The span the figures cover (the window; less right after start). */
  readonly windowMs: number;
}

/** Bounds of a {@link LatencyWindow}. */
export interface LatencyWindowOptions {
  /** How far back the window reaches (default 60 s). */
  readonly windowMs?: number;
  /** Slices the window is cut into; the oldest slice drops out whole (default 6). */
  readonly slices?: number;
}

interface Slice {
  /** floor(nowMs / sliceMs) of the values in it; -1 when never used. */
  epoch: number;
  readonly histogram: Histogram;
}

/**
 * Latencies of the last `windowMs`, to within one slice: a value recorded at t is counted
 * until the slice after t's slice plus `slices - 1` more have begun, so the window covers
 * between (slices − 1) and slices slices. Values are kept in microseconds to two significant
 * digits (1 % error), from 1 µs up (histograms grow past an hour if ever needed).
 */
export class LatencyWindow {
  readonly windowMs: number;
  readonly #sliceMs: number;
  readonly #slices: Slice[];
  readonly #merged: Histogram;
  readonly #startedMs: number;

  constructor(nowMs: number, options: LatencyWindowOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    const slices = options.slices ?? 6;
    if (!(Number.isInteger(slices) && slices >= 1 && slices <= 60)) {
      throw new Error(`slices must be an integer from 1 to 60, got ${slices}`);
    }
    if (!(Number.isFinite(this.windowMs) && this.windowMs >= slices)) {
      throw new Error(`windowMs must be at least slices (${slices}), got ${this.windowMs}`);
    }
    this.#sliceMs = this.windowMs / slices;
    this.#slices = Array.from({ length: slices }, () => ({ epoch: -1, histogram: newHistogram() }));
    this.#merged = newHistogram();
    this.#startedMs = nowMs;
  }

  /** Records one request that took `latencyMs`, finished at `nowMs`. */
  record(latencyMs: number, nowMs: number): void {
    const epoch = Math.floor(nowMs / this.#sliceMs);
    const slice = this.#slices[epoch % this.#slices.length] as Slice;
    if (slice.epoch !== epoch) {
      slice.histogram.reset();
      slice.epoch = epoch;
    }
    slice.histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }

  /** The requests of the window ending at `nowMs`, with their p50 and p99. */
  snapshot(nowMs: number): LatencySnapshot {
    const epoch = Math.floor(nowMs / this.#sliceMs);
    const merged = this.#merged;
    merged.reset();
    for (const slice of this.#slices) {
      if (slice.epoch > epoch - this.#slices.length && slice.epoch <= epoch) {
        merged.add(slice.histogram);
      }
    }
    const windowMs = Math.min(this.windowMs, Math.max(0, nowMs - this.#startedMs));
    const requests = merged.totalCount;
    if (requests === 0) return { requests: 0, p50Ms: 0, p99Ms: 0, windowMs };
    return {
      requests,
      p50Ms: merged.getValueAtPercentile(50) / 1000,
      p99Ms: merged.getValueAtPercentile(99) / 1000,
      windowMs,
    };
  }
}

function newHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 2,
  });
}
