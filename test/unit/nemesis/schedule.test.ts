// Goal: the nemesis schedule is a function of its seed, heals every fault before the workload
// ends, draws every requested kind, and its partitions are symmetric grudges of the right shape.
// Method: draw schedules and inspect them; check the grudge builders on 5 nodes.

import { describe, expect, it } from "vitest";
import {
  FAULT_KINDS,
  bridgeGrudges,
  describeFault,
  drawSchedule,
  groupGrudges,
  ringGrudges,
  type ScheduleOptions,
} from "../../../scripts/nemesis/core/schedule.js";

const NODES = ["n1", "n2", "n3", "n4", "n5"];
const OPTIONS: ScheduleOptions = {
  seed: 7,
  nodes: NODES,
  kinds: ["kill", "pause", "partition-halves", "partition-ring"],
  durationMs: 60_000,
  intervalMs: 10_000,
};

function symmetric(grudges: ReadonlyMap<string, readonly string[]>): boolean {
  return [...grudges].every(([node, dropped]) =>
    dropped.every((peer) => grudges.get(peer)?.includes(node) === true),
  );
}

describe("drawSchedule", () => {
  it("gives the same schedule for the same seed and another for another seed", () => {
    const text = (seed: number): string =>
      JSON.stringify(drawSchedule({ ...OPTIONS, seed }), (_, v: unknown) =>
        v instanceof Map ? [...v] : v,
      );
    expect(text(7)).toBe(text(7));
    expect(text(7)).not.toBe(text(8));
  });

  it("heals every fault before the end and draws each kind within the first round", () => {
    const schedule = drawSchedule(OPTIONS);
    expect(schedule.length).toBe(6);
    for (const fault of schedule) {
      expect(fault.startMs).toBeLessThan(fault.endMs);
      expect(fault.endMs).toBeLessThanOrEqual(OPTIONS.durationMs);
    }
    expect(new Set(schedule.slice(0, 4).map((fault) => fault.kind))).toEqual(
      new Set(OPTIONS.kinds),
    );
  });

  it("draws nothing when no fault can heal in time", () => {
    expect(drawSchedule({ ...OPTIONS, durationMs: 5_000 })).toEqual([]);
  });

  it("overlaps faults from several lanes, in start order, each healing in time", () => {
    const schedule = drawSchedule({ ...OPTIONS, lanes: 3, kinds: [...FAULT_KINDS] });
    expect(schedule.length).toBeGreaterThan(12);
    const starts = schedule.map((fault) => fault.startMs);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    const overlapping = schedule.some((fault, index) =>
      schedule.slice(index + 1).some((later) => later.startMs < fault.endMs),
    );
    expect(overlapping).toBe(true);
    for (const fault of schedule) expect(fault.endMs).toBeLessThanOrEqual(OPTIONS.durationMs);
    // Every kind shows up: the bag holds each once per round.
    expect(new Set(schedule.map((fault) => fault.kind))).toEqual(new Set(FAULT_KINDS));
  });

  it("draws the simulation-only kinds with their shapes", () => {
    const schedule = drawSchedule({
      ...OPTIONS,
      durationMs: 400_000,
      kinds: ["clock-jump", "partition-one-way"],
    });
    for (const fault of schedule) {
      if (fault.kind === "clock-jump") {
        expect(Math.abs(fault.jumpMs)).toBeGreaterThanOrEqual(1_000);
        expect(Math.abs(fault.jumpMs)).toBeLessThanOrEqual(120_000);
        expect(describeFault(fault)).toMatch(/^clock-jump n\d [+-]\d+ ms$/);
      } else if (fault.kind === "partition-one-way") {
        // One node, cut off in one direction from 1..n-1 peers, never from itself.
        expect(fault.grudges.size).toBe(1);
        const [[node, deaf]] = [...fault.grudges] as [[string, string[]]];
        expect(deaf.length).toBeGreaterThanOrEqual(1);
        expect(deaf).not.toContain(node);
      }
    }
    expect(schedule.some((fault) => fault.kind === "clock-jump" && fault.jumpMs < 0)).toBe(true);
    expect(schedule.some((fault) => fault.kind === "clock-jump" && fault.jumpMs > 0)).toBe(true);
  });
});

describe("grudges", () => {
  it("cuts two groups off from each other", () => {
    const grudges = groupGrudges([
      ["n1", "n2"],
      ["n3", "n4", "n5"],
    ]);
    expect(grudges.get("n1")).toEqual(["n3", "n4", "n5"]);
    expect(grudges.get("n4")).toEqual(["n1", "n2"]);
    expect(symmetric(grudges)).toBe(true);
  });

  it("lets the bridge node see both halves, which do not see each other", () => {
    const grudges = bridgeGrudges(NODES);
    expect(grudges.get("n1")).toEqual([]);
    expect(grudges.get("n2")).toEqual(["n4", "n5"]);
    expect(grudges.get("n5")).toEqual(["n2", "n3"]);
    expect(symmetric(grudges)).toBe(true);
  });

  it("gives every node of a 5-ring a distinct majority: itself and its two neighbours", () => {
    const grudges = ringGrudges(NODES);
    const majorities = new Set<string>();
    for (const node of NODES) {
      const seen = NODES.filter((peer) => !(grudges.get(node) ?? []).includes(peer));
      expect(seen.length).toBe(3);
      majorities.add(seen.join(","));
    }
    expect(majorities.size).toBe(5);
    expect(grudges.get("n1")).toEqual(["n3", "n4"]);
    expect(symmetric(grudges)).toBe(true);
  });
});
