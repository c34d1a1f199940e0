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
// How: objects are copied into large slabs, one after another; when the bound is reached the
// oldest slab is emptied (its entries dropped) and filled again, so the cache touches no fresh
// memory once it is full. On this machine's hypervisor a page fault costs tens of µs, and a
// fresh 1 MiB slab for every thousand writes made the cache's copies two thirds of a node's
// page faults (BENCHMARKS.md, 2026-12-06, seventh session). Since slab memory is reused, what
// a read hands out is a copy, carved from a buffer of its own for many reads (as Node's Buffer
// pool does): one small object per hit, and no off-heap allocation per object (a 1 KiB
// Uint8Array each cost more than the pread it saved). An entry read in the older half of the
// slabs is copied to the newest one (a second chance, close to LRU).

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
  /** Bumped each time the slab is emptied for reuse: entries name the generation they are in. */
  generation: number;
  readonly bytes: Uint8Array;
  /** Bytes of the buffer written. */
  used: number;
  /** What its entries cost: their objects plus ENTRY_OVERHEAD_BYTES each, at most a slab. */
  charged: number;
  /** The ids whose entries point into this slab (some may have moved on since). */
  ids: string[];
}

/**
 * Bytes of each buffer copies handed out are carved from (a small object takes a slice). Small,
 * as Node's Buffer pool (8 KiB): one object kept for long keeps its whole buffer alive.
 */
const HANDOUT_BUFFER_BYTES = 16 * 1024;
/** Objects at least this large get a buffer of their own when handed out. */
const HANDOUT_ALONE_BYTES = 4 * 1024;

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
  /** The slab being filled (the last one of #slabs). */
  #filling: Slab | undefined;
  /** Where copies handed out are carved from; never written twice. */
  #handout: Uint8Array = new Uint8Array(0);
  #handoutUsed = 0;
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
   * A copy of the object of `id` if the cache holds it from the record at (segmentId, offset),
   * the key's current record; an entry from any other record is dropped. The copy is the
   * caller's: the cache never writes it again.
   */
  get(id: string, segmentId: number, offset: number): Uint8Array | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined || entry.segmentId !== segmentId || entry.offset !== offset) {
      if (entry !== undefined) this.#entries.delete(id);
      this.#misses += 1;
      return undefined;
    }
    this.#hits += 1;
    const copy = this.handOut(entry.object);
    if (this.#nextGeneration - entry.generation > this.#slabsMax / 2) {
      // Older than half the cache: a second chance in the newest slab, or it goes soon.
      this.set(id, segmentId, offset, entry.object);
    }
    return copy;
  }

  /**
   * A copy of `bytes` the caller may keep: a slice of a shared buffer for a small object, a
   * buffer of its own for a large one. Such buffers are never written again once carved.
   */
  handOut(bytes: Uint8Array): Uint8Array {
    const size = bytes.byteLength;
    if (size >= HANDOUT_ALONE_BYTES) return bytes.slice();
    if (this.#handoutUsed + size > this.#handout.byteLength) {
      this.#handout = new Uint8Array(HANDOUT_BUFFER_BYTES);
      this.#handoutUsed = 0;
    }
    const start = this.#handoutUsed;
    this.#handout.set(bytes, start);
    this.#handoutUsed = start + size;
    return this.#handout.subarray(start, start + size);
  }

  /**
   * Keeps a copy of `object` as the one of the record at (segmentId, offset) for `id`. Returns
   * whether it is kept (an object larger than a slab is not).
   */
  set(id: string, segmentId: number, offset: number, object: Uint8Array): boolean {
    // One object may take at most a slab: a large one would push out hundreds of small hot ones.
    if (object.byteLength > this.#slabBytes || this.#slabsMax === 0) {
      this.#entries.delete(id);
      return false;
    }
    const cost = object.byteLength + ENTRY_OVERHEAD_BYTES;
    let slab = this.#filling;
    // What an entry is charged covers its bytes, so a slab that takes the charge has the room
    // (an empty one takes any object up to a slab, checked above).
    if (slab === undefined || (slab.charged > 0 && slab.charged + cost > this.#slabBytes)) {
      slab = this.#nextSlab();
    }
    const start = slab.used;
    slab.bytes.set(object, start);
    slab.used += object.byteLength;
    slab.charged += cost;
    slab.ids.push(id);
    const kept = slab.bytes.subarray(start, slab.used);
    this.#entries.set(id, { segmentId, offset, object: kept, generation: slab.generation });
    return true;
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

  /**
   * The slab to fill next: a new one while the cache is below its bound, else the oldest one,
   * emptied (its entries dropped) and moved to the end.
   */
  #nextSlab(): Slab {
    let slab: Slab;
    if (this.#slabs.length < this.#slabsMax) {
      // Not zeroed: every byte read back is written first.
      const buffer = Buffer.allocUnsafeSlow(this.#slabBytes);
      slab = {
        generation: 0,
        bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength),
        used: 0,
        charged: 0,
        ids: [],
      };
    } else {
      slab = this.#slabs.shift()!;
      for (const id of slab.ids) {
        if (this.#entries.get(id)?.generation === slab.generation) this.#entries.delete(id);
      }
      slab.used = 0;
      slab.charged = 0;
      slab.ids = [];
    }
    slab.generation = this.#nextGeneration++;
    this.#slabs.push(slab);
    this.#filling = slab;
    return slab;
  }
}
