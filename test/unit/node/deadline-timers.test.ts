// Goal: many deadlines under one clock timer expire each at its own time, in any order of
// arrival, never before it and never after a delete, and leave no timer behind. Method: a
// DeadlineTimers on the manual clock, on each of its two timelines.

import { describe, expect, it } from "vitest";
import { DeadlineTimers } from "../../../node/deadline-timers.js";
import { ManualClock } from "./manual-clock.js";

describe("DeadlineTimers", () => {
  it("calls each back at its deadline, whatever the order they were added in", async () => {
    const clock = new ManualClock();
    const timers = new DeadlineTimers(clock, "monotonic");
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${clock.monotonicMs()}`);
    timers.add(300, at("c"));
    timers.add(100, at("a"));
    timers.add(200, at("b"));
    timers.add(100, at("a2"));
    expect(clock.pendingTimers, "one clock timer for four deadlines").toBe(1);
    await clock.advance(99);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired, "equal deadlines in the order they were added").toEqual(["a@100", "a2@100"]);
    await clock.advance(200);
    expect(fired).toEqual(["a@100", "a2@100", "b@200", "c@300"]);
    expect(timers.size).toBe(0);
    expect(clock.pendingTimers, "nothing left to wait for").toBe(0);
  });

  it("never calls back a deleted deadline, and its early timer then finds nothing due", async () => {
    const clock = new ManualClock();
    const timers = new DeadlineTimers(clock, "monotonic");
    const fired: number[] = [];
    const early = timers.add(50, () => fired.push(50));
    timers.add(80, () => fired.push(80));
    timers.delete(early);
    timers.delete(early); // twice is harmless
    await clock.advance(60);
    expect(fired).toEqual([]);
    await clock.advance(20);
    expect(fired).toEqual([80]);
  });

  it("keeps the others in order when the first, a middle or the last one is deleted", async () => {
    const clock = new ManualClock();
    const timers = new DeadlineTimers(clock, "monotonic");
    const fired: number[] = [];
    const entries = [10, 20, 30, 40, 50].map((ms) => timers.add(ms, () => fired.push(ms)));
    timers.delete(entries[0]!);
    timers.delete(entries[2]!);
    timers.delete(entries[4]!);
    timers.add(45, () => fired.push(45));
    expect(timers.size).toBe(3);
    await clock.advance(100);
    expect(fired).toEqual([20, 40, 45]);
    expect(timers.size).toBe(0);
    timers.delete(entries[1]!); // expired already: a no-op
    expect(timers.size).toBe(0);
  });

  it("after a firing that expired something, waits 10 ms before the next (a storm of expiries)", async () => {
    const clock = new ManualClock();
    const timers = new DeadlineTimers(clock, "monotonic");
    const fired: string[] = [];
    for (const ms of [100, 101, 105, 200]) {
      timers.add(ms, () => fired.push(`${ms}@${clock.monotonicMs()}`));
    }
    await clock.advance(300);
    expect(fired).toEqual(["100@100", "101@110", "105@110", "200@200"]);
  });

  it("a deadline already passed expires on the next turn of the clock", async () => {
    const clock = new ManualClock();
    await clock.advance(1_000);
    const timers = new DeadlineTimers(clock, "monotonic");
    let fired = false;
    timers.add(10, () => (fired = true));
    await clock.advance(0);
    expect(fired).toBe(true);
  });

  it("a deadline added from a callback, earlier than the next, still expires on time", async () => {
    const clock = new ManualClock();
    const timers = new DeadlineTimers(clock, "monotonic");
    const fired: number[] = [];
    timers.add(500, () => fired.push(500));
    timers.add(10, () => {
      fired.push(10);
      timers.add(20, () => fired.push(20));
    });
    await clock.advance(500);
    expect(fired).toEqual([10, 20, 500]);
  });

  it("reads wall deadlines on the wall clock, and Infinity never passes", async () => {
    const clock = new ManualClock(1_000_000);
    const timers = new DeadlineTimers(clock, "wall");
    const fired: string[] = [];
    timers.add(1_000_100, () => fired.push("wall"));
    timers.add(Infinity, () => fired.push("never"));
    expect(clock.pendingTimers, "no timer for a deadline that never passes").toBe(1);
    await clock.advance(100);
    expect(fired).toEqual(["wall"]);
    await clock.advance(1e9);
    expect(fired).toEqual(["wall"]);
    expect(timers.size).toBe(1);
  });

  it("clear forgets every deadline and cancels the timer", async () => {
    const clock = new ManualClock();
    const timers = new DeadlineTimers(clock, "monotonic");
    let fired = 0;
    timers.add(10, () => (fired += 1));
    timers.add(20, () => (fired += 1));
    timers.clear();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(100);
    expect(fired).toBe(0);
    timers.add(110, () => (fired += 1));
    await clock.advance(10);
    expect(fired, "usable after a clear").toBe(1);
  });
});
