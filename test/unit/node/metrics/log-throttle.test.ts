// Goal: a repeated event gets at most one log line per window, and no occurrence is lost: the
// next line (or the periodic flush) reports how many were held back.

import { describe, expect, it } from "vitest";
import { LogThrottle } from "../../../../node/metrics/log-throttle.js";

describe("LogThrottle", () => {
  it("logs the first occurrence, holds back the rest of the window, then reports them", () => {
    const throttle = new LogThrottle(10_000);
    expect(throttle.admit(0)).toEqual({ log: true, suppressed: 0 });
    expect(throttle.admit(1)).toEqual({ log: false });
    expect(throttle.admit(9_999)).toEqual({ log: false });
    expect(throttle.admit(10_000)).toEqual({ log: true, suppressed: 2 });
    expect(throttle.admit(10_001)).toEqual({ log: false });
  });

  it("flushes held-back occurrences once their window has passed, and only once", () => {
    const throttle = new LogThrottle(10_000);
    throttle.admit(0);
    throttle.admit(1);
    throttle.admit(2);
    expect(throttle.flush(5_000)).toBe(0);
    expect(throttle.flush(10_000)).toBe(2);
    expect(throttle.flush(30_000)).toBe(0);
    // The flush counts as a line: the next occurrence within its window is held back.
    throttle.admit(30_001);
    expect(throttle.admit(30_002)).toEqual({ log: false });
  });

  it("logs every occurrence with a zero window", () => {
    const throttle = new LogThrottle(0);
    expect(throttle.admit(5)).toEqual({ log: true, suppressed: 0 });
    expect(throttle.admit(5)).toEqual({ log: true, suppressed: 0 });
  });

  it("refuses a negative window", () => {
    expect(() => new LogThrottle(-1)).toThrow(/windowMs must be a number >= 0, got -1/);
  });
});
