// Goal: call ids from reusable slots are never reused, so a late reply to a forgotten call
// finds nothing even after its slot holds another call; the bound holds. Method: CallSlots
// driven directly, and a random run against a Map as the model.

import { describe, expect, it } from "vitest";
import { CallSlots } from "../../../node/call-slots.js";

describe("CallSlots", () => {
  it("gives each value an id that takes it back once", () => {
    const slots = new CallSlots<string>(4);
    const a = slots.add("a");
    const b = slots.add("b");
    expect(a).not.toBe(b);
    expect(slots.size).toBe(2);
    expect(slots.get(a), "get leaves it in place").toBe("a");
    expect(slots.take(a)).toBe("a");
    expect(slots.take(a), "taken already").toBeUndefined();
    expect(slots.get(a)).toBeUndefined();
    expect(slots.size).toBe(1);
    const c = slots.add("c"); // reuses a's slot
    expect(c).not.toBe(a);
    expect(slots.take(a), "a late reply to the old call finds nothing").toBeUndefined();
    expect(slots.take(c)).toBe("c");
    expect(slots.take(b)).toBe("b");
  });

  it("ids are positive, and ids it never gave find nothing", () => {
    const slots = new CallSlots<number>(8);
    const id = slots.add(1);
    expect(id).toBeGreaterThan(0);
    for (const wrong of [0, -1, id + 1, id + 8, id - 8, Number.NaN, id + 0.5, 2 ** 60]) {
      expect(slots.take(wrong), String(wrong)).toBeUndefined();
    }
    expect(slots.take(id)).toBe(1);
  });

  it("refuses a value past its bound, and takes all back in slot order", () => {
    const slots = new CallSlots<number>(3);
    slots.add(1);
    const two = slots.add(2);
    slots.add(3);
    expect(() => slots.add(4)).toThrow(/all 3 call slots are taken/);
    slots.take(two);
    const again = slots.add(5);
    expect(slots.takeAll()).toEqual([1, 5, 3]);
    expect(slots.size).toBe(0);
    expect(slots.take(again), "taken by takeAll").toBeUndefined();
    expect(() => new CallSlots(0)).toThrow(/positive integer/);
  });

  it("wraps a slot's generations before an id could pass 2^53", () => {
    const wrapping = new CallSlots<string>(1, 2);
    const ids = [1, 2, 3].map(() => {
      const id = wrapping.add("x");
      wrapping.take(id);
      return id;
    });
    expect(ids, "generations 1, 2, then 1 again").toEqual([1, 2, 1]);
    // The default bound, on slots so many that a few generations reach 2^53.
    const huge = new CallSlots<string>(2 ** 51);
    const seen: number[] = [];
    for (let round = 0; round < 4; round++) {
      const id = huge.add("y");
      expect(Number.isSafeInteger(id), String(id)).toBe(true);
      expect(huge.take(id)).toBe("y");
      seen.push(id);
    }
    expect(seen).toEqual([2 ** 51, 2 ** 52, 2 ** 51, 2 ** 52]);
    expect(() => new CallSlots(4, 0)).toThrow(/generationsMax/);
  });

  it("agrees with a Map over a random run of adds and takes, late ids included", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const slots = new CallSlots<number>(16);
    const model = new Map<number, number>();
    const given: number[] = [];
    const ever = new Set<number>();
    for (let step = 0; step < 5_000; step++) {
      if (model.size < 16 && random() < 0.55) {
        const id = slots.add(step);
        expect(ever.has(id), "an id is never given twice").toBe(false);
        ever.add(id);
        model.set(id, step);
        given.push(id);
      } else if (given.length > 0) {
        const id = given[Math.floor(random() * given.length)]!;
        expect(slots.take(id)).toBe(model.get(id));
        model.delete(id);
      }
      expect(slots.size).toBe(model.size);
    }
  });
});
