// YCSB's key choosers, re-implemented: the Zipfian generator of Gray et al. ("Quickly
// Generating Billion-Record Synthetic Databases", SIGMOD 1994) and YCSB's scrambled Zipfian,
// which spreads the popular items over the key space with FNV-1a-64. Pure: randomness comes in.

import type { SeededRandom } from "../../node/core/seeded-random.js";

/** YCSB's default Zipfian constant (theta). */
export const ZIPFIAN_CONSTANT = 0.99;
/** The item count YCSB's scrambled Zipfian draws from before hashing into the key space. */
export const SCRAMBLED_ITEM_COUNT = 10_000_000_000;
/** zeta(SCRAMBLED_ITEM_COUNT + 1, 0.99), precomputed by YCSB (ScrambledZipfianGenerator.ZETAN). */
export const SCRAMBLED_ZETAN = 26.46902820178302;

/** zeta(n, theta) = sum over i = 1..n of 1 / i^theta. O(n). */
export function zeta(n: number, theta: number): number {
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += 1 / Math.pow(i, theta);
  return sum;
}

/**
 * Integers in [0, itemCount) where item i has probability about 1 / ((i + 1)^theta * zeta(n)):
 * item 0 is the most popular. Same arithmetic as YCSB's ZipfianGenerator.nextLong.
 */
export class ZipfianGenerator {
  readonly itemCount: number;
  readonly theta: number;
  readonly #random: SeededRandom;
  readonly #zetan: number;
  readonly #alpha: number;
  readonly #eta: number;
  readonly #secondThreshold: number;

  /** zetan may be given when known (it costs O(itemCount) to compute). */
  constructor(itemCount: number, theta: number, random: SeededRandom, zetan?: number) {
    if (!Number.isSafeInteger(itemCount) || itemCount < 2) {
      throw new Error(`zipfian item count must be an integer ≥ 2, got ${itemCount}`);
    }
    if (!(theta > 0 && theta < 1)) throw new Error(`zipfian theta must be in (0, 1), got ${theta}`);
    this.itemCount = itemCount;
    this.theta = theta;
    this.#random = random;
    this.#zetan = zetan ?? zeta(itemCount, theta);
    const zeta2theta = zeta(2, theta);
    this.#alpha = 1 / (1 - theta);
    this.#eta = (1 - Math.pow(2 / itemCount, 1 - theta)) / (1 - zeta2theta / this.#zetan);
    this.#secondThreshold = 1 + Math.pow(0.5, theta);
  }

  /** The next item, 0 = most popular. */
  next(): number {
    const u = this.#random.nextDouble();
    const uz = u * this.#zetan;
    if (uz < 1) return 0;
    if (uz < this.#secondThreshold) return 1;
    const item = Math.floor(this.itemCount * Math.pow(this.#eta * u - this.#eta + 1, this.#alpha));
    return Math.min(item, this.itemCount - 1);
  }
}

/**
 * YCSB's ScrambledZipfianGenerator with theta 0.99: draw from a Zipfian over 10^10 items,
 * then map the draw into [0, itemCount) with fnvHash64(draw) mod itemCount. The popular items
 * land at scattered keys instead of the first ones, and the skew is YCSB's, not a pure Zipfian
 * over itemCount (the most popular key gets about 1/26.5 = 3.8% of draws).
 */
export class ScrambledZipfianGenerator {
  readonly itemCount: number;
  readonly #zipfian: ZipfianGenerator;

  constructor(itemCount: number, random: SeededRandom) {
    if (!Number.isSafeInteger(itemCount) || itemCount < 1 || itemCount > 0x7fff_ffff) {
      throw new Error(`item count must be an integer from 1 to 2^31 − 1, got ${itemCount}`);
    }
    this.itemCount = itemCount;
    this.#zipfian = new ZipfianGenerator(
      SCRAMBLED_ITEM_COUNT + 1,
      ZIPFIAN_CONSTANT,
      random,
      SCRAMBLED_ZETAN,
    );
  }

  /** The next item in [0, itemCount). */
  next(): number {
    return fnvHash64Mod(this.#zipfian.next(), this.itemCount);
  }
}

/** A 64-bit value as two unsigned 32-bit halves. */
export interface Uint64Halves {
  readonly high: number;
  readonly low: number;
}

const FNV_OFFSET_HIGH = 0xcbf29ce4;
const FNV_OFFSET_LOW = 0x84222325;
/** The FNV-64 prime 0x100000001b3 = 2^40 + 0x1b3. */
const FNV_PRIME_LOW = 0x1b3;

/**
 * YCSB's Utils.fnvhash64 of a non-negative integer below 2^53: FNV-1a over its 8 little-endian
 * octets, then Math.abs of the signed 64-bit result. Computed on 32-bit halves, no BigInt.
 */
export function fnvHash64(value: number): Uint64Halves {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`fnvHash64 takes a safe non-negative integer, got ${value}`);
  }
  let valueLow = value >>> 0;
  let valueHigh = Math.floor(value / 0x1_0000_0000);
  let high = FNV_OFFSET_HIGH;
  let low = FNV_OFFSET_LOW;
  for (let octetIndex = 0; octetIndex < 8; octetIndex++) {
    low = (low ^ (valueLow & 0xff)) >>> 0;
    valueLow = ((valueLow >>> 8) | ((valueHigh & 0xff) << 24)) >>> 0;
    valueHigh = valueHigh >>> 8;
    // (high·2^32 + low) · (2^40 + 0x1b3) mod 2^64; every partial product stays below 2^53.
    const lowProduct = low * FNV_PRIME_LOW;
    const carry = Math.floor(lowProduct / 0x1_0000_0000);
    high = (high * FNV_PRIME_LOW + carry + ((low * 256) >>> 0)) >>> 0;
    low = lowProduct >>> 0;
  }
  if (high >= 0x8000_0000) {
    // Math.abs of a negative long: two's complement negation.
    low = (~low + 1) >>> 0;
    high = (~high + (low === 0 ? 1 : 0)) >>> 0;
  }
  return { high, low };
}

/** fnvHash64(value) mod modulus, for a modulus below 2^31. */
export function fnvHash64Mod(value: number, modulus: number): number {
  const { high, low } = fnvHash64(value);
  // Fold the high half in 16 bits at a time so that no intermediate exceeds 2^53.
  let remainder = high % modulus;
  remainder = (remainder * 0x1_0000 + (low >>> 16)) % modulus;
  return (remainder * 0x1_0000 + (low & 0xffff)) % modulus;
}
