// The one seeded pseudo-random generator of dkv's tools: the simulation, the nemesis schedule
// and workload, and the benchmark draw every choice from it, so that a seed names a run exactly
// (sfc32, seeded through splitmix32; Chris Doty-Humphrey's small fast counting generator). Pure:
// no clock, no IO, never Math.random.

/** A deterministic pseudo-random generator; `fork` derives an independent child stream. */
export class SeededRandom {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** @param seed any safe integer; equal seeds give equal streams */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);
    // Fold the high bits in, so seeds that differ only above 2^32 differ.
    let state = (seed ^ Math.floor(seed / 0x1_0000_0000)) >>> 0;
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = splitmix();
    this.#b = splitmix();
    this.#c = splitmix();
    this.#d = splitmix();
    for (let round = 0; round < 12; round++) this.nextUint32();
  }

  /** A uniform integer in [0, 2^32). */
  nextUint32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1) with 32 random bits (one draw). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A float in [0, 1) with 53 random bits (two draws), for fine-grained distributions. */
  nextDouble(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67_108_864 + low) / 9_007_199_254_740_992;
  }

  /** An integer in [0, bound). */
  int(bound: number): number {
    if (!(Number.isInteger(bound) && bound > 0)) throw new Error(`int bound must be > 0: ${bound}`);
    return Math.floor(this.next() * bound);
  }

  /** An integer in [min, max], both included. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error("pick from an empty array");
    return item;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let index = copy.length - 1; index > 0; index--) {
      const other = this.int(index + 1);
      [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
    }
    return copy;
  }

  /** `bytes` random bytes as lowercase hex (the simulation's actor ids). */
  hex(bytes: number): string {
    let text = "";
    for (let index = 0; index < bytes; index++) {
      text += this.int(256).toString(16).padStart(2, "0");
    }
    return text;
  }

  /** A child stream, so that one subsystem's draws do not shift another's. */
  fork(): SeededRandom {
    return new SeededRandom(this.nextUint32());
  }
}
