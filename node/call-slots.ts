// Calls awaiting replies, by id, in reusable array slots. A replica stream keeps each call it
// sent until its reply comes back, milliseconds later, two calls per replicated operation. Kept
// in a Map (set on send, deleted on reply), the entries cost the collector far more than their
// size: 400 operations in flight, each with an entry in a long-lived Map, took 15–20 µs of CPU
// per operation against 8–9 µs with the entries in array slots, and 23 full collections in 5 s
// instead of 1 (scripts/bench-map-churn.ts). Pure: no IO.

/**
 * Values under ids that are never reused: an id names a slot and that slot's generation, so a
 * reply to a call that was already forgotten (timed out, failed) finds nothing, even once the
 * slot holds another call.
 */
export class CallSlots<T> {
  readonly #slotsMax: number;
  readonly #values: (T | undefined)[] = [];
  /** Per slot: the generation its current (or next) value is given. */
  readonly #generations: number[] = [];
  readonly #free: number[] = [];
  #size = 0;

  /** `slotsMax`: how many values may be held at once; add() refuses more. */
  constructor(slotsMax: number) {
    if (!(Number.isInteger(slotsMax) && slotsMax > 0)) {
      throw new Error(`slotsMax must be a positive integer, got ${slotsMax}`);
    }
    this.#slotsMax = slotsMax;
  }

  /** Values held. */
  get size(): number {
    return this.#size;
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
    const slot = id % this.#slotsMax;
    this.#values[slot] = undefined;
    this.#generations[slot]! += 1;
    this.#free.push(slot);
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
      this.#values[slot] = undefined;
      this.#generations[slot]! += 1;
      this.#free.push(slot);
    }
    this.#size = 0;
    return taken;
  }
}
