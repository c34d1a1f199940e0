// Goal: read repairs are summed up in one line per interval, not one per repair, and an
// interval without any writes no line; the interval runs on the injected clock.

import { describe, expect, it } from "vitest";
import { ActivityLog } from "../../../../node/metrics/activity-log.js";
import { capturingLogger } from "./metrics-test-helpers.js";
import { ManualClock } from "../manual-clock.js";

describe("ActivityLog", () => {
  it("writes one line with the repairs since the last one, and none when idle", () => {
    const { logger, lines } = capturingLogger();
    const repairs = { readRepairs: 5, readRepairsSkipped: 0 };
    let flushes = 0;
    const log = new ActivityLog({
      logger,
      readRepairs: repairs,
      clock: new ManualClock(),
      flush: () => (flushes += 1),
    });
    log.tick();
    expect(lines).toEqual([]);
    repairs.readRepairs = 12;
    repairs.readRepairsSkipped = 1;
    log.tick();
    log.tick();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: "read repairs",
      sent: 7,
      skipped: 1,
      intervalMs: 60_000,
    });
    expect(flushes).toBe(3);
  });

  it("ticks once per interval of the clock from start() until close()", async () => {
    const { logger } = capturingLogger();
    const clock = new ManualClock();
    let flushes = 0;
    const log = new ActivityLog({
      logger,
      readRepairs: { readRepairs: 0, readRepairsSkipped: 0 },
      clock,
      intervalMs: 1000,
      flush: () => (flushes += 1),
    });
    log.start();
    await clock.advance(999);
    expect(flushes).toBe(0);
    await clock.advance(2001);
    expect(flushes).toBe(3);
    log.close();
    await clock.advance(5000);
    expect(flushes).toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });
});
