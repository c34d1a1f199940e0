// Calls awaiting replies, by id, in reusable array slots. A replica stream keeps each call it
// sent until its reply comes back, milliseconds later, two calls per replicated operation. Kept
// in a Map (set on send, deleted on reply), the entries cost the collector far more than their
// size: 400 operations in flight, each with an entry in a long-lived Map, took 15–20 µs of CPU
// per operation against 8–9 µs with the entries in array slots, and 23 full collections in 5 s
// instead of 1 (scripts/bench-map-churn.ts). Pure: no IO.

/**
 * Values under ids that are not reused for a long time: an id names a slot and that slot's
 * generation, so a reply to a call that was already forgotten (timed out, failed) finds nothing,
 * even once the slot holds another call. Generations wrap before an id would pass 2^53 (a double
 * holds integers exactly only below it, and ids travel as uint64): a slot's id comes back only
 * after `generationsMax` more calls in that one slot, 2^39 of them for 16,384 slots.
 */
export class CallSlots<T> {
  readonly #slotsMax: number;
  readonly #generationsMax: number;
  readonly #values: (T | undefined)[] = [];
  /** Per slot: the generation its current (or next) value is given. */
  readonly #generations: number[] = [];
  readonly #free: number[] = [];
  #size = 0;

  /**
   * `slotsMax`: how many values may be held at once; add() refuses more. `generationsMax`: the
   * generations a slot goes through before its ids repeat (the most that keeps ids below 2^53
   * unless a test asks for fewer).
   */
  constructor(
    slotsMax: number,
    generationsMax = Math.floor(Number.MAX_SAFE_INTEGER / slotsMax) - 1,
  ) {
    if (!(Number.isInteger(slotsMax) && slotsMax > 0)) {
      throw new Error(`slotsMax must be a positive integer, got ${slotsMax}`);
    }
    if (!(Number.isInteger(generationsMax) && generationsMax >= 1)) {
      throw new Error(`generationsMax must be a positive integer, got ${generationsMax}`);
    }
    this.#slotsMax = slotsMax;
    this.#generationsMax = generationsMax;
  }

  /** Values held. */
  get size(): number {
    return this.#size;
  }

  /** Values that may be held at once. */
  get slotsMax(): number {
    return this.#slotsMax;
  }

  /** Holds `value`; returns its id (a positive integer). Throws when all slots are taken. */
  add(value: T): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#values.length;
      if (slot >= this.#slotsMax) throw new Error(`all ${this.#slotsMax} call slots are taken`);
      this.#values.push(undefined);
      this.#generations.push(1);
    }
    this.#values[slot] = value;
    this.#size += 1;
    return this.#generations[slot]! * this.#slotsMax + slot;
  }

  /** The value of `id`, left in place; undefined when it is not held (any more). */
  get(id: number): T | undefined {
    const slot = id % this.#slotsMax;
    const value = this.#values[slot];
    if (value === undefined || (id - slot) / this.#slotsMax !== this.#generations[slot]) {
      return undefined;
    }
    return value;
  }

  /** Removes and returns the value of `id`; undefined when it is not held (any more). */
  take(id: number): T | undefined {
    const value = this.get(id);
    if (value === undefined) return undefined;
    this.#release(id % this.#slotsMax);
    this.#size -= 1;
    return value;
  }

  /** Removes and returns every value held, oldest slot first. */
  takeAll(): T[] {
    const taken: T[] = [];
    for (let slot = 0; slot < this.#values.length; slot++) {
      const value = this.#values[slot];
      if (value === undefined) continue;
      taken.push(value);
      this.#release(slot);
    }
    this.#size = 0;
    return taken;
  }

  #release(slot: number): void {
    this.#values[slot] = undefined;
    const next = this.#generations[slot]! + 1;
    this.#generations[slot] = next > this.#generationsMax ? 1 : next;
    this.#free.push(slot);
  }
}
