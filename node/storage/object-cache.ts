// The log engine's cache of recent objects, bounded in bytes. Each entry remembers the record it
// holds the object of, and serves a read only while the key directory still points at that
// record: a later write, a tombstone or a merge's move of the key makes the entry miss without
// any hook (LogStorage drops the keys of a rollback besides).
//
// Why: every get and every write's read-before-write read its record with a pread and checked
// its crc32 over the whole record, on each of the n replicas: in a profile of YCSB-A through
// the session that was ~15% of the three nodes' busy time (BENCHMARKS.md, 2026-12-06, sixth
// session), for the same few thousand hot keys again and again. Like Cassandra's row cache (and
// unlike Bitcask, which leaves caching to the OS), it trades bounded memory for CPU.
//
// How: objects are copied into large slabs, one after another, and the oldest slab goes when
// the bound is reached (its entries with it), so that a write or a hit allocates no typed array
// of its own: a 1 KiB Uint8Array each was an off-heap allocation that cost more than the pread
// it saved. A hit hands out a view into its slab; a slab is never written again once filled
// and never reused, so bytes handed out never change (Storage.get's promise). A hit on an entry
// in the older half of the slabs copies it to the newest one (a second chance, close to LRU).

/** Bytes an entry costs besides its object: the map entry, the entry and view objects. */
const ENTRY_OVERHEAD_BYTES = 160;
/** Slabs in a full cache: the bound is kept to within one slab. */
const SLABS_PER_CACHE = 32;
/** The smallest slab: below it, a cache is a handful of slabs of small objects. */
const SLAB_BYTES_MIN = 64 * 1024;
/**
 * The largest slab: a cache of many gigabytes is many slabs, not 32 buffers larger than one
 * allocation can be (a Buffer holds at most 4 GiB), and dropping the oldest frees a little.
 * It is also the largest object DESIGN §7 allows (16 MiB), so no object is too big for it.
 */
const SLAB_BYTES_MAX = 16 * 1024 * 1024;

interface Slab {
  readonly generation: number;
  readonly bytes: Uint8Array;
  /** Bytes of the buffer written. */
  used: number;
  /** What its entries cost: their objects plus ENTRY_OVERHEAD_BYTES each, at most a slab. */
  charged: number;
  /** The ids whose entries point into this slab (some may have moved on since). */
  readonly ids: string[];
}

interface Entry {
  readonly segmentId: number;
  readonly offset: number;
  readonly object: Uint8Array;
  /** The slab holding the object. */
  readonly generation: number;
}

/** Hits, misses and size of a cache. */
export interface ObjectCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
  readonly bytes: number;
}

/** A byte-bounded map from key id to the object of one record, oldest slab out first. */
export class ObjectCache {
  readonly #slabBytes: number;
  readonly #slabsMax: number;
  /** Oldest first; the last one is being filled. */
  readonly #slabs: Slab[] = [];
  readonly #entries = new Map<string, Entry>();
  #nextGeneration = 0;
  #hits = 0;
  #misses = 0;

  /**
   * @param bytesMax the bound on the slabs' buffers; each slab also carries at most its own size
   *   in objects plus entry overhead, so memory stays below twice this even for tiny objects.
   *   Below one slab of SLAB_BYTES_MIN, nothing is cached.
   */
  constructor(bytesMax: number) {
    if (!Number.isSafeInteger(bytesMax) || bytesMax < 0) {
      throw new Error(`an object cache's bytesMax must be a whole number ≥ 0, got ${bytesMax}`);
    }
    const share = Math.floor(bytesMax / SLABS_PER_CACHE);
    this.#slabBytes = Math.min(SLAB_BYTES_MAX, Math.max(SLAB_BYTES_MIN, share));
    this.#slabsMax = Math.floor(bytesMax / this.#slabBytes);
  }

  /**
   * The object of `id` if the cache holds it from the record at (segmentId, offset), the key's
   * current record; an entry from any other record is dropped. The bytes are the cache's:
   * callers keep them unchanged (Storage.get).
   */
  get(id: string, segmentId: number, offset: number): Uint8Array | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined || entry.segmentId !== segmentId || entry.offset !== offset) {
      if (entry !== undefined) this.#entries.delete(id);
      this.#misses += 1;
      return undefined;
    }
    this.#hits += 1;
    if (this.#nextGeneration - entry.generation > this.#slabsMax / 2) {
      // Older than half the cache: a second chance in the newest slab, or it goes soon.
      this.set(id, segmentId, offset, entry.object);
    }
    return entry.object;
  }

  /**
   * Keeps a copy of `object` as the one of the record at (segmentId, offset) for `id`; returns
   * the copy (the cache's, kept unchanged like a hit's), or undefined when it is not kept.
   */
  set(id: string, segmentId: number, offset: number, object: Uint8Array): Uint8Array | undefined {
    // One object may take at most a slab: a large one would push out hundreds of small hot ones.
    if (object.byteLength > this.#slabBytes || this.#slabsMax === 0) {
      this.#entries.delete(id);
      return undefined;
    }
    const cost = object.byteLength + ENTRY_OVERHEAD_BYTES;
    let slab = this.#slabs[this.#slabs.length - 1];
    // What an entry is charged covers its bytes, so a slab that takes the charge has the room
    // (an empty one takes any object up to a slab, checked above).
    if (slab === undefined || (slab.charged > 0 && slab.charged + cost > this.#slabBytes)) {
      slab = this.#addSlab();
    }
    const start = slab.used;
    slab.bytes.set(object, start);
    slab.used += object.byteLength;
    slab.charged += cost;
    slab.ids.push(id);
    const copy = slab.bytes.subarray(start, slab.used);
    this.#entries.set(id, { segmentId, offset, object: copy, generation: slab.generation });
    return copy;
  }

  /** True when an entry for `id` is kept, whatever record it is from. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Forgets `id`. */
  delete(id: string): void {
    this.#entries.delete(id);
  }

  /** `bytes`: the slabs' buffers (what the bound holds to) and the entries' overhead. */
  stats(): ObjectCacheStats {
    let bytes = this.#entries.size * ENTRY_OVERHEAD_BYTES;
    for (const slab of this.#slabs) bytes += slab.bytes.length;
    return { hits: this.#hits, misses: this.#misses, entries: this.#entries.size, bytes };
  }

  /** Starts a new slab, dropping the oldest ones (and their entries) beyond the bound. */
  #addSlab(): Slab {
    while (this.#slabs.length >= this.#slabsMax) {
      const oldest = this.#slabs.shift()!;
      for (const id of oldest.ids) {
        if (this.#entries.get(id)?.generation === oldest.generation) this.#entries.delete(id);
      }
    }
    // Not zeroed: every byte handed out is written first. A plain Uint8Array over the buffer,
    // so that what a read hands out is what other engines hand out, not a Buffer.
    const buffer = Buffer.allocUnsafeSlow(this.#slabBytes);
    const slab: Slab = {
      generation: this.#nextGeneration++,
      bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength),
      used: 0,
      charged: 0,
      ids: [],
    };
    this.#slabs.push(slab);
    return slab;
  }
}
