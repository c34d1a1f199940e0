// Goal: the phi-accrual detector turns silence into suspicion as the paper and Akka do: phi is
// -log10 of the normal upper tail, it grows with silence, a heartbeat resets it, the pause and
// the σ floor delay conviction, and outages and local stalls do not skew the history.

import { describe, expect, it } from "vitest";
import {
  PhiAccrualDetector,
  log10UpperTail,
  phiOf,
  upperTailQuantile,
  type PhiAccrualOptions,
} from "../../../../node/core/phi-accrual.js";

const OPTIONS: PhiAccrualOptions = {
  windowSamplesMax: 100,
  stdDeviationMsMin: 200,
  acceptablePauseMs: 2000,
  firstIntervalMsEstimate: 500,
};

/** A detector that has seen `count` heartbeats every `intervalMs`, the last one at the return. */
function regular(options: PhiAccrualOptions, intervalMs: number, count: number) {
  const detector = new PhiAccrualDetector(options);
  let nowMs = 1000;
  for (let index = 0; index < count; index++) {
    nowMs += intervalMs;
    detector.heartbeat(nowMs);
  }
  return { detector, lastMs: nowMs };
}

describe("log10UpperTail()", () => {
  it.each([
    [0, 0.5],
    [1, 0.158655254],
    [2, 0.022750132],
    [3, 0.001349898],
    [5, 2.866515719e-7],
    [6, 9.86587645e-10],
    [-1, 0.841344746],
    [-3, 0.998650102],
  ])("Q(%d) is %d to 1e-6 relative", (y, expected) => {
    const actual = Math.pow(10, log10UpperTail(y));
    expect(Math.abs(actual - expected) / expected).toBeLessThan(1e-6);
  });

  it("stays finite and keeps falling far in the tail", () => {
    expect(Number.isFinite(log10UpperTail(40))).toBe(true);
    expect(log10UpperTail(40)).toBeLessThan(log10UpperTail(30));
  });

  it("is inverted by upperTailQuantile()", () => {
    for (const probability of [0.5, 0.1, 1e-3, 1e-8, 1e-12]) {
      const y = upperTailQuantile(probability);
      expect(log10UpperTail(y)).toBeCloseTo(Math.log10(probability), 6);
    }
    expect(upperTailQuantile(1e-8)).toBeCloseTo(5.612, 3);
  });
});

describe("phiOf()", () => {
  it("is about 0.3 at the mean and 8 at 5.61 σ beyond it", () => {
    expect(phiOf(1000, 1000, 100)).toBeCloseTo(0.301, 3);
    expect(phiOf(1000 + 5.612 * 100, 1000, 100)).toBeCloseTo(8, 2);
  });

  it("refuses a σ that is not positive", () => {
    expect(() => phiOf(1, 1, 0)).toThrow(/σ must be positive/);
  });
});

describe("PhiAccrualDetector", () => {
  it("reports 0 before any heartbeat", () => {
    expect(new PhiAccrualDetector(OPTIONS).phi(123_456)).toBe(0);
  });

  it("never lowers phi while no heartbeat arrives", () => {
    const { detector, lastMs } = regular(OPTIONS, 500, 50);
    let previous = -Infinity;
    for (let silenceMs = 0; silenceMs <= 10_000; silenceMs += 50) {
      const phi = detector.phi(lastMs + silenceMs);
      expect(phi).toBeGreaterThanOrEqual(previous);
      previous = phi;
    }
  });

  it("convicts after mean + pause + 5.61 σmin of silence with a regular history", () => {
    const { detector, lastMs } = regular(OPTIONS, 500, 50);
    const expectedMs = 500 + 2000 + 5.612 * 200;
    expect(detector.silenceMsAtPhi(8)).toBeCloseTo(expectedMs, 0);
    expect(detector.phi(lastMs + expectedMs - 50)).toBeLessThan(8);
    expect(detector.phi(lastMs + expectedMs + 50)).toBeGreaterThan(8);
  });

  it("drops phi to about 0 on a heartbeat", () => {
    const { detector, lastMs } = regular(OPTIONS, 500, 10);
    expect(detector.phi(lastMs + 4000)).toBeGreaterThan(8);
    detector.heartbeat(lastMs + 4000);
    expect(detector.phi(lastMs + 4000)).toBeLessThan(0.01);
  });

  it.each([
    ["a longer acceptable pause", { ...OPTIONS, acceptablePauseMs: 4000 }],
    ["a higher σ floor", { ...OPTIONS, stdDeviationMsMin: 500 }],
  ])("waits longer before conviction with %s", (_name, options) => {
    const base = regular(OPTIONS, 500, 50).detector.silenceMsAtPhi(8);
    expect(regular(options, 500, 50).detector.silenceMsAtPhi(8)).toBeGreaterThan(base + 500);
  });

  it("adapts to irregular arrivals: a jittery history tolerates longer silence", () => {
    const jittery = new PhiAccrualDetector(OPTIONS);
    let nowMs = 0;
    jittery.heartbeat(nowMs);
    for (let index = 0; index < 100; index++) {
      nowMs += index % 2 === 0 ? 100 : 1500;
      jittery.heartbeat(nowMs);
    }
    const stats = jittery.stats();
    expect(stats.meanMs).toBeCloseTo(800, 6);
    expect(stats.stdDeviationMs).toBeCloseTo(700, 6);
    expect(jittery.silenceMsAtPhi(8)).toBeCloseTo(800 + 2000 + 5.612 * 700, -1);
  });

  it("keeps at most windowSamplesMax intervals, forgetting the oldest", () => {
    const detector = new PhiAccrualDetector({ ...OPTIONS, windowSamplesMax: 10 });
    let nowMs = 0;
    for (let index = 0; index < 10; index++) detector.heartbeat((nowMs += 5000));
    for (let index = 0; index < 10; index++) detector.heartbeat((nowMs += 500));
    expect(detector.stats()).toEqual({ samples: 10, meanMs: 500, stdDeviationMs: 0 });
  });

  it("does not record the gap of an outage when resumed", () => {
    const { detector, lastMs } = regular(OPTIONS, 500, 20);
    detector.resume(lastMs + 60_000);
    expect(detector.stats().meanMs).toBe(500);
    expect(detector.phi(lastMs + 60_000)).toBeLessThan(0.01);
  });

  it("restarts the silence on other evidence of life without recording an interval", () => {
    const { detector, lastMs } = regular(OPTIONS, 500, 20);
    detector.evidence(lastMs + 3000);
    expect(detector.silenceMs(lastMs + 3000)).toBe(0);
    expect(detector.phi(lastMs + 3000)).toBeLessThan(0.01);
    expect(detector.stats()).toEqual({ samples: 19, meanMs: 500, stdDeviationMs: 0 });
    detector.evidence(lastMs + 1000); // late, out-of-order evidence changes nothing
    expect(detector.silenceMs(lastMs + 3000)).toBe(0);
    detector.heartbeat(lastMs + 3500);
    expect(detector.stats().meanMs).toBeCloseTo((19 * 500 + 3500) / 20, 6);
  });

  it("does not count a local stall as silence, and never moves past now", () => {
    const { detector, lastMs } = regular(OPTIONS, 500, 20);
    detector.discount(2500, lastMs + 3000);
    expect(detector.silenceMs(lastMs + 3000)).toBe(500);
    detector.discount(60_000, lastMs + 3000);
    expect(detector.silenceMs(lastMs + 3000)).toBe(0);
  });

  it("starts from the first interval estimate (σ = estimate/4) before any measurement", () => {
    const detector = new PhiAccrualDetector(OPTIONS);
    expect(detector.stats()).toEqual({ samples: 0, meanMs: 500, stdDeviationMs: 125 });
  });

  it.each([
    [{ windowSamplesMax: 0 }, /windowSamplesMax/],
    [{ stdDeviationMsMin: 0 }, /stdDeviationMsMin/],
    [{ acceptablePauseMs: -1 }, /acceptablePauseMs/],
    [{ firstIntervalMsEstimate: Number.NaN }, /firstIntervalMsEstimate/],
  ])("refuses bad options %o", (override, message) => {
    expect(() => new PhiAccrualDetector({ ...OPTIONS, ...override })).toThrow(message);
  });
});
