// Goal: a deadline converted to the monotonic clock stays where it was when the wall clock
// steps, and converting it back reads the wall clock of the moment it is handed on.
// Method: the conversions of node/clock.ts on a ManualClock whose wall clock jumps.

import { describe, expect, it } from "vitest";
import { monotonicDeadline, wallDeadline } from "../../../node/clock.js";
import { ManualClock } from "./manual-clock.js";

describe("monotonicDeadline and wallDeadline", () => {
  it.each([-55_000, 0, 55_000])(
    "a deadline 1 s ahead is still due 1 s later after a wall step of %i ms",
    async (stepMs) => {
      const clock = new ManualClock();
      const deadline = monotonicDeadline(clock, clock.nowMs() + 1000);
      expect(deadline).toBe(1000);
      clock.jumpWall(stepMs);
      await clock.advance(400);
      expect(deadline - clock.monotonicMs()).toBe(600);
      // Handed on now, it is 600 ms ahead on the wall clock as it reads after the step.
      expect(wallDeadline(clock, deadline) - clock.nowMs()).toBe(600);
    },
  );

  it("keeps a missing deadline (Infinity) missing both ways", () => {
    const clock = new ManualClock();
    expect(monotonicDeadline(clock, Infinity)).toBe(Infinity);
    expect(wallDeadline(clock, Infinity)).toBe(Infinity);
  });
});
