// Goal: the recent-latency window behind `dkv status` reports the count and p50/p99 of the
// requests of the last minute only: old slices drop out whole, and nothing is invented when
// the window is empty.

import { describe, expect, it } from "vitest";
import { LatencyWindow } from "../../../../node/metrics/latency-window.js";

describe("LatencyWindow", () => {
  it("reports zero requests and zero percentiles when nothing was recorded", () => {
    const window = new LatencyWindow(0);
    expect(window.snapshot(5000)).toEqual({ requests: 0, p50Ms: 0, p99Ms: 0, windowMs: 5000 });
  });

  it("reports p50 and p99 of the recorded latencies within 1 %", () => {
    const window = new LatencyWindow(0);
    // 1..100 ms, one each: p50 = 50 ms, p99 = 99 ms.
    for (let ms = 1; ms <= 100; ms++) window.record(ms, 1000 + ms);
    const snapshot = window.snapshot(2000);
    expect(snapshot.requests).toBe(100);
    expect(snapshot.p50Ms).toBeGreaterThanOrEqual(49.5);
    expect(snapshot.p50Ms).toBeLessThanOrEqual(50.5);
    expect(snapshot.p99Ms).toBeGreaterThanOrEqual(98);
    expect(snapshot.p99Ms).toBeLessThanOrEqual(100);
  });

  it("keeps sub-millisecond latencies apart", () => {
    const window = new LatencyWindow(0);
    for (let index = 0; index < 99; index++) window.record(0.2, 10);
    window.record(0.9, 10);
    const snapshot = window.snapshot(20);
    expect(snapshot.p50Ms).toBeCloseTo(0.2, 2);
    expect(snapshot.p99Ms).toBeCloseTo(0.2, 2);
    window.record(0.9, 10);
    expect(window.snapshot(20).p99Ms).toBeCloseTo(0.9, 2);
  });

  it.each([
    // [recorded at, asked at, still counted]
    [0, 49_999, true],
    [0, 59_999, true],
    [0, 60_000, false], // six 10 s slices later the first slice is gone
    [5_000, 60_000, false],
    [10_000, 60_000, true],
    [10_000, 69_999, true],
    [10_000, 70_000, false],
  ])("a request at %i ms counts at %i ms: %s", (recordedMs, askedMs, counted) => {
    const window = new LatencyWindow(0, { windowMs: 60_000, slices: 6 });
    window.record(3, recordedMs);
    expect(window.snapshot(askedMs).requests).toBe(counted ? 1 : 0);
  });

  it("reuses a slice for new values without keeping the old ones", () => {
    const window = new LatencyWindow(0, { windowMs: 60_000, slices: 6 });
    window.record(500, 1_000);
    window.record(2, 61_000); // same slot, a minute later
    const snapshot = window.snapshot(61_000);
    expect(snapshot.requests).toBe(1);
    expect(snapshot.p99Ms).toBeCloseTo(2, 1);
  });

  it("says how long it has been collecting, up to the window", () => {
    const window = new LatencyWindow(1000, { windowMs: 60_000 });
    expect(window.snapshot(31_000).windowMs).toBe(30_000);
    expect(window.snapshot(500_000).windowMs).toBe(60_000);
  });

  it.each([
    [{ slices: 0 }, /slices must be an integer from 1 to 60, got 0/],
    [{ slices: 2.5 }, /slices must be an integer/],
    [{ windowMs: 3, slices: 6 }, /windowMs must be at least slices \(6\), got 3/],
  ])("refuses impossible options %o", (options, message) => {
    expect(() => new LatencyWindow(0, options)).toThrow(message);
  });
});
