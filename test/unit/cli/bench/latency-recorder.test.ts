// Goal: histograms from several client processes merge into exactly the histogram one process
// would have recorded, failures are counted by status and kept out of the percentiles.
// Method: record the same latencies split over two recorders and all in one, compare.

import { describe, expect, it } from "vitest";
import { LatencyRecorder, mergeSnapshots } from "../../../../cli/bench/latency-recorder.js";
import { summarizeRecording } from "../../../../cli/bench/bench-summary.js";

describe("LatencyRecorder and mergeSnapshots", () => {
  it("merges two processes' recordings into the recording of one", () => {
    const first = new LatencyRecorder();
    const second = new LatencyRecorder();
    const single = new LatencyRecorder();
    for (let index = 1; index <= 1000; index++) {
      const latencyMs = index / 10; // 0.1 ms … 100 ms
      const kind = index % 2 === 0 ? "read" : "update";
      (index % 3 === 0 ? first : second).record({ kind, status: "OK" }, latencyMs, index);
      single.record({ kind, status: "OK" }, latencyMs, index);
    }
    second.record({ kind: "update", status: "DEADLINE_EXCEEDED" }, 5000, 2000);
    second.addErrors("NOT_ISSUED", 3);

    const merged = summarizeRecording(mergeSnapshots([first.snapshot(), second.snapshot()]), 10);
    const alone = summarizeRecording(mergeSnapshots([single.snapshot()]), 10);

    expect(merged.all.operations).toBe(1000);
    expect(merged.all.failed).toBe(4);
    expect(merged.update?.failed).toBe(1);
    expect(merged.all.throughputOpsPerSecond).toBe(100);
    for (const field of ["p50Ms", "p95Ms", "p99Ms", "p999Ms", "maxMs", "meanMs"] as const) {
      expect(merged.all[field], field).toBe(alone.all[field]);
      expect(merged.read?.[field], field).toBe(alone.read?.[field]);
    }
    // Three significant digits: the median of 0.1 … 100 ms is 50 ms within 0.1%.
    expect(Math.abs(merged.all.p50Ms - 50)).toBeLessThan(0.05);
    // The 5 s failure is not in the percentiles.
    expect(merged.all.maxMs).toBeLessThan(101);
  });
});
