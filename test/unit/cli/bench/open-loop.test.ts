// Goal: the open loop corrects for coordinated omission: an operation's latency counts from
// its intended start, so a stall is charged to every operation scheduled during it, where a
// closed loop records it once; warmup operations are left out; a backlog that cannot start
// before the drain time runs out is reported as not issued.
// Method: the drivers on a virtual clock, with a service whose time per operation is scripted.

import { describe, expect, it } from "vitest";
import { runOpenLoop } from "../../../../cli/bench/open-loop.js";
import { runClosedLoop } from "../../../../cli/bench/closed-loop.js";
import type { Clock, OperationResult } from "../../../../cli/bench/load-schedule.js";

/** Virtual time: timers fire in order, each after the microtasks of the previous one ran. */
class VirtualClock implements Clock {
  #nowMs = 0;
  #sequence = 0;
  #timers: { atMs: number; sequence: number; fire: () => void }[] = [];

  now(): number {
    return this.#nowMs;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#timers.push({
        atMs: this.#nowMs + Math.max(0, ms),
        sequence: this.#sequence++,
        fire: resolve,
      });
    });
  }

  /** Advances time from timer to timer until the promise settles. */
  async run<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) return promise;
      this.#timers.sort((a, b) => a.atMs - b.atMs || a.sequence - b.sequence);
      const next = this.#timers.shift();
      if (next === undefined) throw new Error("nothing scheduled and the run is not done");
      this.#nowMs = Math.max(this.#nowMs, next.atMs);
      next.fire();
    }
  }
}

const OK: OperationResult = { kind: "read", status: "OK" };

/** A service that takes `normalMs`, except that a request started in [stallFromMs,
 * stallFromMs + 1) takes stallMs: one slow request, such as a GC pause or an fsync stall. */
function stallingService(clock: VirtualClock, stallFromMs: number, stallMs: number) {
  const serviceTimesMs: number[] = [];
  const operation = async (): Promise<OperationResult> => {
    const startMs = clock.now();
    const stalls = startMs >= stallFromMs && startMs < stallFromMs + 1;
    await clock.sleep(stalls ? stallMs : 0.5);
    serviceTimesMs.push(clock.now() - startMs);
    return OK;
  };
  return { operation, serviceTimesMs };
}

describe("runOpenLoop", () => {
  it("records the service time when the service keeps up", async () => {
    const clock = new VirtualClock();
    const latenciesMs: number[] = [];
    const outcome = await clock.run(
      runOpenLoop({
        clock,
        schedule: { startMs: 0, warmupEndMs: 100, endMs: 1100 },
        ratePerSecond: 100,
        phaseOffsetMs: 0,
        inFlightMax: 10,
        drainMs: 1000,
        operation: async () => {
          await clock.sleep(2);
          return OK;
        },
        sink: (_result, latencyMs) => latenciesMs.push(latencyMs),
      }),
    );
    expect(latenciesMs).toHaveLength(100); // 10 ms apart from 100 ms to 1100 ms
    expect(latenciesMs.every((latency) => latency === 2)).toBe(true);
    expect(outcome).toEqual({ issued: 110, notIssuedMeasured: 0, startLagMaxMs: 0 });
  });

  it("charges a 100 ms stall to every operation scheduled during it", async () => {
    const clock = new VirtualClock();
    const service = stallingService(clock, 500, 100);
    const latenciesMs: number[] = [];
    const outcome = await clock.run(
      runOpenLoop({
        clock,
        schedule: { startMs: 0, warmupEndMs: 0, endMs: 1000 },
        ratePerSecond: 1000,
        phaseOffsetMs: 0,
        inFlightMax: 1, // the others queue behind the stalled request
        drainMs: 1000,
        operation: service.operation,
        sink: (_result, latencyMs) => latenciesMs.push(latencyMs),
      }),
    );
    expect(latenciesMs).toHaveLength(1000);
    // Only one request was slow to serve ...
    expect(service.serviceTimesMs.filter((time) => time >= 50)).toHaveLength(1);
    // ... but the ~100 scheduled during the stall waited: those due at 500 … 550 at least 50 ms.
    expect(latenciesMs.filter((latency) => latency >= 50).length).toBeGreaterThanOrEqual(50);
    expect(Math.max(...latenciesMs)).toBe(100);
    expect(outcome.startLagMaxMs).toBeGreaterThanOrEqual(99);
  });

  it("leaves out operations due during the warmup", async () => {
    const clock = new VirtualClock();
    let measured = 0;
    await clock.run(
      runOpenLoop({
        clock,
        schedule: { startMs: 0, warmupEndMs: 500, endMs: 1000 },
        ratePerSecond: 100,
        phaseOffsetMs: 0,
        inFlightMax: 10,
        drainMs: 0,
        operation: async () => OK,
        sink: () => (measured += 1),
      }),
    );
    expect(measured).toBe(50);
  });

  it("reports the backlog it could not start before the drain time ran out", async () => {
    const clock = new VirtualClock();
    const outcome = await clock.run(
      runOpenLoop({
        clock,
        schedule: { startMs: 0, warmupEndMs: 0, endMs: 100 },
        ratePerSecond: 100,
        phaseOffsetMs: 0,
        inFlightMax: 1,
        drainMs: 50,
        operation: async () => {
          await clock.sleep(10_000);
          return OK;
        },
        sink: () => undefined,
      }),
    );
    expect(outcome.issued).toBe(1);
    expect(outcome.notIssuedMeasured).toBe(9);
  });
});

describe("runClosedLoop", () => {
  it("records a stall once: the waiting it causes is invisible to a closed loop", async () => {
    const clock = new VirtualClock();
    const service = stallingService(clock, 500, 100);
    const latenciesMs: number[] = [];
    await clock.run(
      runClosedLoop({
        clock,
        schedule: { startMs: 0, warmupEndMs: 0, endMs: 1000 },
        concurrency: 1,
        operation: service.operation,
        sink: (_result, latencyMs) => latenciesMs.push(latencyMs),
      }),
    );
    expect(latenciesMs.filter((latency) => latency >= 50)).toHaveLength(1);
  });
});
