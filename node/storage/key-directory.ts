// The log engine's in-memory index: key id → (segment, offset, size, version hash). One Map from
// the compact latin1 id to a small-integer slot, plus parallel typed arrays per slot. Pure.

/** Where the latest record of a key lives, as copied out of the directory. */
export interface KeyLocation {
  readonly segmentId: number;
  readonly offset: number;
  readonly size: number;
  readonly versionHash: number;
}

const INITIAL_CAPACITY = 1024;
/** V8 refuses Maps beyond 2^24 entries; the directory asserts a bound below that. */
export const KEY_DIRECTORY_KEYS_MAX = 16_000_000;

/**
 * A compact key directory. Memory per key: one Map entry whose value is a small integer (no
 * heap number), the id string itself (about the key bytes + 2, one byte per char) and 20 bytes
 * of typed-array slots (segment id f64, offset, size, hash u32), doubled at worst by growth.
 * Freed slots are reused, so the arrays never grow beyond the peak key count.
 */
export class KeyDirectory {
  readonly #slots = new Map<string, number>();
  #segmentIds = new Float64Array(INITIAL_CAPACITY);
  #offsets = new Uint32Array(INITIAL_CAPACITY);
  #sizes = new Uint32Array(INITIAL_CAPACITY);
  #hashes = new Uint32Array(INITIAL_CAPACITY);
  #freeSlots: number[] = [];
  #slotsUsed = 0;

  /** Number of keys present. */
  get size(): number {
    return this.#slots.size;
  }

  /** Slot of `id`, or -1. Slots are stable until the key is deleted. */
  slotOf(id: string): number {
    return this.#slots.get(id) ?? -1;
  }

  segmentIdAt(slot: number): number {
    return this.#segmentIds[slot] ?? -1;
  }

  offsetAt(slot: number): number {
    return this.#offsets[slot] ?? 0;
  }

  sizeAt(slot: number): number {
    return this.#sizes[slot] ?? 0;
  }

  versionHashAt(slot: number): number {
    return this.#hashes[slot] ?? 0;
  }

  /** The location of `id`, copied into an object; undefined when absent. */
  get(id: string): KeyLocation | undefined {
    const slot = this.slotOf(id);
    if (slot < 0) return undefined;
    return {
      segmentId: this.segmentIdAt(slot),
      offset: this.offsetAt(slot),
      size: this.sizeAt(slot),
      versionHash: this.versionHashAt(slot),
    };
  }

  /** Points `id` at a record; returns its slot. */
  set(id: string, segmentId: number, offset: number, size: number, versionHash: number): number {
    let slot = this.#slots.get(id);
    if (slot === undefined) {
      slot = this.#allocateSlot();
      this.#slots.set(id, slot);
    }
    this.setAt(slot, segmentId, offset, size, versionHash);
    return slot;
  }

  /** Overwrites the location held in an existing slot. */
  setAt(slot: number, segmentId: number, offset: number, size: number, versionHash: number): void {
    this.#segmentIds[slot] = segmentId;
    this.#offsets[slot] = offset;
    this.#sizes[slot] = size;
    this.#hashes[slot] = versionHash;
  }

  /** Removes `id`; returns whether it was present. */
  delete(id: string): boolean {
    const slot = this.#slots.get(id);
    if (slot === undefined) return false;
    this.#slots.delete(id);
    this.#segmentIds[slot] = -1;
    this.#freeSlots.push(slot);
    return true;
  }

  /** The ids present, as a snapshot array (safe against writes during iteration). */
  ids(): string[] {
    return [...this.#slots.keys()];
  }

  /** Calls `visit` for every key; the directory must not change during the walk. */
  forEach(visit: (id: string, slot: number) => void): void {
    this.#slots.forEach((slot, id) => visit(id, slot));
  }

  #allocateSlot(): number {
    const reused = this.#freeSlots.pop();
    if (reused !== undefined) return reused;
    if (this.#slotsUsed >= KEY_DIRECTORY_KEYS_MAX) {
      throw new Error(
        `key directory full: ${KEY_DIRECTORY_KEYS_MAX} keys (the limit of one V8 Map)`,
      );
    }
    if (this.#slotsUsed === this.#offsets.length) this.#grow();
    return this.#slotsUsed++;
  }

  #grow(): void {
    const capacity = this.#offsets.length * 2;
    this.#segmentIds = copyInto(new Float64Array(capacity), this.#segmentIds);
    this.#offsets = copyInto(new Uint32Array(capacity), this.#offsets);
    this.#sizes = copyInto(new Uint32Array(capacity), this.#sizes);
    this.#hashes = copyInto(new Uint32Array(capacity), this.#hashes);
  }
}

function copyInto<T extends Float64Array | Uint32Array>(target: T, source: T): T {
  target.set(source);
  return target;
}
