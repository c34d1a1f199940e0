// The log engine's cache of recent objects, bounded in bytes, least recently used out first.
// Each entry remembers the record it holds the object of, and serves a read only while the key
// directory still points at that record: a later write, a tombstone or a merge's move of the
// key makes the entry miss without any hook (LogStorage drops the keys of a rollback besides).
//
// Why: every get and every write's read-before-write read its record with a pread and checked
// its crc32 over the whole record, on each of the n replicas: in a profile of YCSB-A through
// the session that was ~15% of the three nodes' busy time (BENCHMARKS.md, 2026-12-06, sixth
// session), for the same few thousand hot keys again and again. Like Cassandra's row cache (and
// unlike Bitcask, which leaves caching to the OS), it trades bounded memory for CPU.

/** Bytes an entry costs besides its object: the map entry, the entry object, the id's chars. */
const ENTRY_OVERHEAD_BYTES = 96;
/**
 * One object may take at most this share of the cache: a large object would push out hundreds
 * of small hot ones to be read once.
 */
const OBJECT_SHARE_MAX = 1 / 16;

interface Entry {
  readonly segmentId: number;
  readonly offset: number;
  readonly object: Uint8Array;
  readonly bytes: number;
}

/** Hits, misses and size of a cache. */
export interface ObjectCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
  readonly bytes: number;
}

/** A byte-bounded LRU map from key id to the object of one record. */
export class ObjectCache {
  readonly #bytesMax: number;
  /** In use order, least recent first (a Map keeps insertion order; a hit re-inserts). */
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;

  /** @param bytesMax the bound on objects plus overhead; 0 caches nothing */
  constructor(bytesMax: number) {
    if (!Number.isSafeInteger(bytesMax) || bytesMax < 0) {
      throw new Error(`an object cache's bytesMax must be a whole number ≥ 0, got ${bytesMax}`);
    }
    this.#bytesMax = bytesMax;
  }

  /**
   * A copy of the object of `id` if the cache holds it from the record at (segmentId, offset),
   * the key's current record; an entry from any other record is dropped.
   */
  get(id: string, segmentId: number, offset: number): Uint8Array | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined || entry.segmentId !== segmentId || entry.offset !== offset) {
      if (entry !== undefined) this.#drop(id, entry);
      this.#misses += 1;
      return undefined;
    }
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    this.#hits += 1;
    // A copy: callers own what a read returns, as they own a fresh read's bytes.
    return entry.object.slice();
  }

  /**
   * Keeps `object` as the one of the record at (segmentId, offset) for `id`. The cache takes
   * the array as it is: the caller must not write to it afterwards.
   */
  set(id: string, segmentId: number, offset: number, object: Uint8Array): void {
    const previous = this.#entries.get(id);
    if (previous !== undefined) this.#drop(id, previous);
    const bytes = object.byteLength + id.length + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.#bytesMax * OBJECT_SHARE_MAX) return;
    this.#entries.set(id, { segmentId, offset, object, bytes });
    this.#bytes += bytes;
    for (const [oldId, oldest] of this.#entries) {
      if (this.#bytes <= this.#bytesMax) break;
      this.#drop(oldId, oldest);
    }
  }

  /** Forgets `id`. */
  delete(id: string): void {
    const entry = this.#entries.get(id);
    if (entry !== undefined) this.#drop(id, entry);
  }

  stats(): ObjectCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      entries: this.#entries.size,
      bytes: this.#bytes,
    };
  }

  #drop(id: string, entry: Entry): void {
    this.#entries.delete(id);
    this.#bytes -= entry.bytes;
  }
}
