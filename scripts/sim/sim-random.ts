// The one seeded random source of a simulation run (sfc32 seeded through splitmix32): every
// choice of the network, the disks, the nemesis and the workload draws from it, so a seed
// names a run exactly. Never Math.random.

/** A deterministic pseudo-random generator; `fork` derives an independent child stream. */
export class SimRandom {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** @param seed any integer; equal seeds give equal streams */
  constructor(seed: number) {
    let state = seed >>> 0;
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
    for (let round = 0; round < 12; round++) this.#next32();
  }

  #next32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.#next32() / 4294967296;
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

  /** `bytes` random bytes as lowercase hex (actor ids: production uses crypto.randomBytes). */
  hex(bytes: number): string {
    let text = "";
    for (let index = 0; index < bytes; index++) {
      text += this.int(256).toString(16).padStart(2, "0");
    }
    return text;
  }

  /** A child stream, so that one subsystem's draws do not shift another's. */
  fork(): SimRandom {
    return new SimRandom(this.#next32());
  }
}
