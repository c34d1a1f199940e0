// Goal: the key choosers draw what YCSB draws: a Zipfian whose most popular items have the
// probabilities 1/((i+1)^theta · zeta(n)), and YCSB's scrambled Zipfian that puts the popular
// items at scattered keys with the hottest at about 1/26.47 of the draws; FNV-64 on 32-bit
// halves equals a BigInt reference; a seed replays the same sequence.
// Method: 200,000 draws with fixed seeds, compared with the closed forms.

import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../../../node/core/seeded-random.js";
import {
  SCRAMBLED_ZETAN,
  ScrambledZipfianGenerator,
  ZipfianGenerator,
  fnvHash64,
  fnvHash64Mod,
  zeta,
} from "../../../../cli/bench/zipfian-generator.js";

const DRAWS = 200_000;
const ITEMS = 1000;

/** How often each item was drawn; fails on any draw outside [0, itemCount). */
function counts(next: () => number, itemCount: number): number[] {
  const result = new Array<number>(itemCount).fill(0);
  let outside = 0;
  for (let draw = 0; draw < DRAWS; draw++) {
    const item = next();
    if (!Number.isInteger(item) || item < 0 || item >= itemCount) outside += 1;
    else result[item] = (result[item] ?? 0) + 1;
  }
  expect(outside).toBe(0);
  return result;
}

function share(itemCounts: readonly number[], items: readonly number[]): number {
  return items.reduce((sum, item) => sum + (itemCounts[item] ?? 0), 0) / DRAWS;
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, offset) => from + offset);
}

/** FNV-1a-64 as YCSB's Utils.fnvhash64 computes it on Java longs (then Math.abs). */
function referenceFnvHash64(value: number): bigint {
  let rest = BigInt(value);
  let hash = 0xcbf29ce484222325n;
  for (let octet = 0; octet < 8; octet++) {
    hash ^= rest & 0xffn;
    rest >>= 8n;
    hash = (hash * 1099511628211n) & 0xffff_ffff_ffff_ffffn;
  }
  const signed = BigInt.asIntN(64, hash);
  return signed < 0n ? -signed : signed;
}

describe("ZipfianGenerator", () => {
  const zetan = zeta(ITEMS, 0.99);
  const generator = new ZipfianGenerator(ITEMS, 0.99, new SeededRandom(7));
  const drawn = counts(() => generator.next(), ITEMS);

  it("gives items 0 and 1 their Zipfian probabilities (within 3%)", () => {
    expect(Math.abs(share(drawn, [0]) / (1 / zetan) - 1)).toBeLessThan(0.03);
    expect(Math.abs(share(drawn, [1]) / (Math.pow(2, -0.99) / zetan) - 1)).toBeLessThan(0.03);
  });

  it("gives the 100 most popular items about zeta(100)/zeta(1000) of the draws", () => {
    expect(Math.abs(share(drawn, range(0, 100)) - zeta(100, 0.99) / zetan)).toBeLessThan(0.02);
  });

  it("makes popularity fall with rank", () => {
    expect(share(drawn, [0])).toBeGreaterThan(share(drawn, [1]));
    expect(share(drawn, [1])).toBeGreaterThan(share(drawn, [9]));
    expect(share(drawn, range(0, 100))).toBeGreaterThan(share(drawn, range(100, 100)));
    expect(share(drawn, range(100, 100))).toBeGreaterThan(share(drawn, range(900, 100)));
  });
});

describe("ScrambledZipfianGenerator", () => {
  const generator = new ScrambledZipfianGenerator(ITEMS, new SeededRandom(7));
  const drawn = counts(() => generator.next(), ITEMS);
  const byPopularity = range(0, ITEMS).sort((a, b) => (drawn[b] ?? 0) - (drawn[a] ?? 0));

  it("makes fnv(0) mod n the hottest key, with about 1/zetan of the draws", () => {
    expect(byPopularity[0]).toBe(fnvHash64Mod(0, ITEMS));
    // 1/26.47 = 3.78%, plus the few tail draws that hash onto the same key.
    expect(share(drawn, [fnvHash64Mod(0, ITEMS)])).toBeGreaterThan(0.95 / SCRAMBLED_ZETAN);
    expect(share(drawn, [fnvHash64Mod(0, ITEMS)])).toBeLessThan(1.15 / SCRAMBLED_ZETAN);
    expect(byPopularity[1]).toBe(fnvHash64Mod(1, ITEMS));
  });

  it("scatters the hot keys instead of crowding them at the first records", () => {
    const hottest10 = byPopularity.slice(0, 10);
    expect(hottest10.filter((key) => key < 10).length).toBeLessThan(3);
    expect(Math.max(...hottest10) - Math.min(...hottest10)).toBeGreaterThan(ITEMS / 2);
  });

  it("is skewed but reaches every key", () => {
    expect(share(drawn, byPopularity.slice(0, 10))).toBeGreaterThan(0.1); // 1% of keys, >10%
    expect(drawn.every((count) => count > 0)).toBe(true);
  });

  it("replays the same keys from the same seed and others from another", () => {
    const sequence = (seed: number): number[] => {
      const replay = new ScrambledZipfianGenerator(ITEMS, new SeededRandom(seed));
      return Array.from({ length: 1000 }, () => replay.next());
    };
    expect(sequence(11)).toEqual(sequence(11));
    expect(sequence(11)).not.toEqual(sequence(12));
  });
});

describe("fnvHash64", () => {
  const values = [0, 1, 2, 255, 256, 65_535, 2 ** 32 - 1, 2 ** 32, 10 ** 10, 2 ** 53 - 1];
  const random = new SeededRandom(3);
  for (let index = 0; index < 200; index++) {
    values.push(Math.floor(random.nextDouble() * 10 ** 10));
  }

  it("equals the BigInt reference, halves and remainders", () => {
    for (const value of values) {
      const { high, low } = fnvHash64(value);
      const reference = referenceFnvHash64(value);
      expect((BigInt(high) << 32n) | BigInt(low), `value ${value}`).toBe(reference);
      for (const modulus of [1, 7, 1000, 10_000, 2 ** 31 - 1]) {
        expect(fnvHash64Mod(value, modulus)).toBe(Number(reference % BigInt(modulus)));
      }
    }
  });
});

describe("SeededRandom", () => {
  it("draws doubles in [0, 1) with a mean of about 0.5", () => {
    const random = new SeededRandom(1);
    let sum = 0;
    let outside = 0;
    for (let draw = 0; draw < DRAWS; draw++) {
      const value = random.nextDouble();
      if (!(value >= 0 && value < 1)) outside += 1;
      sum += value;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / DRAWS - 0.5)).toBeLessThan(0.005);
  });
});
