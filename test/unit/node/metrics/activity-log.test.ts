// Goal: read repairs are summed up in one line per interval, not one per repair, and an
// interval without any writes no line.

import { describe, expect, it } from "vitest";
import { ActivityLog } from "../../../../node/metrics/activity-log.js";
import { capturingLogger } from "./metrics-test-helpers.js";

describe("ActivityLog", () => {
  it("writes one line with the repairs since the last one, and none when idle", () => {
    const { logger, lines } = capturingLogger();
    const repairs = { readRepairs: 5, readRepairsSkipped: 0 };
    let flushes = 0;
    const log = new ActivityLog({ logger, readRepairs: repairs, flush: () => (flushes += 1) });
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
});
