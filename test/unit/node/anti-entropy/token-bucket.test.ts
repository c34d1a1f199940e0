// Goal: repairs are paced to the configured keys per second after a bounded burst.
// Method: a fake clock that records the sleeps the bucket asks for.

import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../../../node/anti-entropy/token-bucket.js";
import { fakeClock } from "./aae-test-helpers.js";
import { ManualClock } from "../manual-clock.js";

describe("TokenBucket", () => {
  it("spends the burst without waiting, then waits for the debt", async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(100, 50, clock);
    await bucket.take(50);
    expect(clock.slept).toEqual([]);
    await bucket.take(20);
    expect(clock.slept).toEqual([200]);
  });

  it("spends at most burst + t·rate tokens in t seconds", async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(1000, 64, clock);
    for (let batch = 0; batch < 100; batch++) await bucket.take(64);
    const elapsedSeconds = clock.nowMs() / 1000;
    expect(6400).toBeLessThanOrEqual(64 + elapsedSeconds * 1000 + 1e-6);
    expect(elapsedSeconds).toBeCloseTo((6400 - 64) / 1000, 6);
  });

  it("refills with time, up to the burst", async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 5, clock);
    await bucket.take(5);
    await clock.sleep(10_000);
    clock.slept.length = 0;
    await bucket.take(5);
    expect(clock.slept).toEqual([]);
    await bucket.take(1);
    expect(clock.slept).toEqual([100]);
  });

  it("stops waiting when the signal aborts", async () => {
    const bucket = new TokenBucket(1, 1, new ManualClock());
    await bucket.take(1);
    const abort = new AbortController();
    const waiting = bucket.take(10, abort.signal);
    abort.abort(new Error("closing"));
    await expect(waiting).rejects.toThrow("closing");
  });

  it("tryTake spends what the bucket holds now and refuses, without waiting, past it", async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 3, clock);
    expect([bucket.tryTake(1), bucket.tryTake(1), bucket.tryTake(1), bucket.tryTake(1)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    // A refusal spends nothing: 100 ms later one token is back, and only one.
    await clock.sleep(100);
    expect([bucket.tryTake(1), bucket.tryTake(1)]).toEqual([true, false]);
    // Never more than the burst, however long it waited.
    await clock.sleep(60_000);
    expect([1, 2, 3, 4].map(() => bucket.tryTake(1))).toEqual([true, true, true, false]);
    expect(clock.slept.filter((ms) => ms !== 100 && ms !== 60_000)).toEqual([]);
  });
});
