// Goal: the one seeded generator of the tools replays exactly from its seed, spreads its draws
// evenly, and keeps forked streams independent of the parent's later draws.
// Method: fixed seeds; counts over many draws with a loose chi-square bound.

import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../../../node/core/seeded-random.js";

describe("SeededRandom", () => {
  it("replays the same stream from the same seed, and another from another seed", () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 16 }, () => random.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    // Seeds that differ only above 2^32 still differ.
    expect(draw(5)).not.toEqual(draw(5 + 2 ** 32));
  });

  it("refuses a seed that is not a safe integer", () => {
    expect(() => new SeededRandom(1.5)).toThrow(/safe integer/);
    expect(() => new SeededRandom(2 ** 60)).toThrow(/safe integer/);
  });

  it("draws ints evenly over their range", () => {
    const random = new SeededRandom(7);
    const buckets = new Array<number>(10).fill(0);
    const draws = 100_000;
    for (let index = 0; index < draws; index++) {
      const value = random.int(10);
      buckets[value] = (buckets[value] ?? 0) + 1;
    }
    const expected = draws / 10;
    const chiSquare = buckets.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: p = 0.001 at 27.9.
    expect(chiSquare).toBeLessThan(27.9);
    for (let index = 0; index < 1000; index++) {
      const double = random.nextDouble();
      expect(double >= 0 && double < 1).toBe(true);
      const ranged = random.range(-3, 3);
      expect(ranged >= -3 && ranged <= 3).toBe(true);
    }
  });

  it("forks a child whose stream does not depend on the parent's later draws", () => {
    const first = new SeededRandom(9);
    const second = new SeededRandom(9);
    const childOfFirst = first.fork();
    const childOfSecond = second.fork();
    first.nextUint32();
    first.nextUint32();
    expect(childOfFirst.hex(8)).toBe(childOfSecond.hex(8));
    expect(childOfFirst.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});
