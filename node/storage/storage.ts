// The Storage port: one node's local, byte-oriented key/value store. Engines (memory, the
// Bitcask-style log, lmdb) implement it; the replica layer above does DVV merging, per-key
// serialisation and Merkle maintenance, so engines never interpret the object bytes.

/** Where a stored object lives: a bucket and a binary key. */
export interface StorageKey {
  readonly bucket: string;
  readonly key: Uint8Array;
}

/** One stored entry, as yielded by {@link Storage.entries}. */
export interface StorageEntry extends StorageKey {
  /** The encoded object (node/core/object-codec.ts); opaque to the engine. */
  readonly object: Uint8Array;
}

/** Options of a write. */
export interface WriteOptions {
  /**
   * Resolve only once the write is durable (fsynced). When false the engine may resolve as
   * soon as the write is visible to reads, and durability follows with the next group commit.
   */
  readonly durable: boolean;
}

/** What a write reports back. */
export interface WriteResult {
  /** True when the write was durable at the moment the promise resolved. */
  readonly durable: boolean;
}

/**
 * Told of keys whose writes a failed fsync undid, non-durable writes that had already resolved
 * among them; the keys now read as they were at the last good sync.
 */
export type RollbackListener = (keys: readonly StorageKey[]) => void;

/** Counters every engine reports; shown by `dkv status`. */
export interface StorageStats {
  readonly engine: string;
  readonly keys: number;
  /** Records found corrupt at recovery or read time (never silently skipped). */
  readonly corruptRecords: number;
}

/**
 * A node-local key/value engine over opaque object bytes.
 *
 * Contract shared by every engine (and checked by the shared storage test suite):
 * - a `get` after a resolved `put` or `remove` of the same key sees its effect;
 * - writes to one key are applied in call order;
 * - a write that rejects leaves the previous value readable (never a half-written one);
 * - after a crash, every write that resolved with `durable: true` is still there.
 */
export interface Storage {
  /** Engine name for status output: "memory", "log", "lmdb". */
  readonly engine: string;
  /** Opens files, replays logs. Must be called once before any other method. */
  open(): Promise<void>;
  /**
   * The stored object bytes, or undefined when the key is absent. The caller may keep them:
   * no engine changes bytes it has handed out (Replica decodes objects as views into them).
   */
  get(bucket: string, key: Uint8Array): Promise<Uint8Array | undefined>;
  /**
   * The stored object's size in bytes (at most a few bytes over), known without reading it, or
   * undefined when absent or when the engine cannot tell cheaply. A read holds this much of its
   * caller's admission budget before it reads (node/wire/admission-ledger.ts).
   */
  storedBytes?(bucket: string, key: Uint8Array): number | undefined;
  /** Stores the object bytes under the key, replacing what was there. */
  put(
    bucket: string,
    key: Uint8Array,
    object: Uint8Array,
    options: WriteOptions,
  ): Promise<WriteResult>;
  /** Removes the key (used when a tombstone is reaped). Absent keys are not an error. */
  remove(bucket: string, key: Uint8Array, options: WriteOptions): Promise<WriteResult>;
  /** Every stored entry, in no particular order; for anti-entropy, handoff and tests. */
  entries(): AsyncIterable<StorageEntry>;
  /** Counters for status and metrics. */
  stats(): StorageStats;
  /**
   * A token naming the stored contents exactly while nothing writes: "opened", the state the
   * files were found in at open (before any write); "closed", the state left at close (after
   * the last write's fsync). A closed token equal to the next open's means nothing changed the
   * store in between, so what was derived from it then (the anti-entropy trees' snapshot) still
   * holds. Engines that cannot tell leave it out; undefined before open or close.
   */
  stateToken?(when: "opened" | "closed"): string | undefined;
  /**
   * Registers a rollback listener. Only an engine that can undo a resolved non-durable write
   * (the log engine, after a failed fsync) implements it.
   */
  onRollback?(listener: RollbackListener): void;
  /** Flushes and closes; further calls reject. */
  close(): Promise<void>;
}
