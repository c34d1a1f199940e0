// The lmdb engine: the Storage port over lmdb-js (a copy-on-write B+tree in a memory map), the
// reference and alternative backend to the log engine. Does IO through lmdb.

import { SYSTEM_CLOCK, type Clock } from "../clock.js";
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { open, type RootDatabase } from "lmdb";
import type { Storage, StorageEntry, StorageStats, WriteOptions, WriteResult } from "./storage.js";
import { StorageWriteError } from "./write-queue.js";

/** Options of {@link LmdbStorage}. */
export interface LmdbStorageOptions {
  /** Directory of the lmdb environment (created if missing). */
  readonly dir: string;
  /** Largest key in bytes (default 64 KiB, DESIGN §7). */
  readonly keyBytesMax?: number;
  /** Largest object in bytes (default 16 MiB, DESIGN §7). */
  readonly objectBytesMax?: number;
  /** Bounds the wait for a failed commit's cause (default: the system clock). */
  readonly clock?: Clock;
}

/** lmdb-js refuses keys above 1978 bytes with the default page size. */
const LMDB_KEY_BYTES_MAX = 1978;
/** First two bytes of a hashed key; never a short key's prefix (a bucket length ≤ 1976). */
const HASHED_KEY_PREFIX = 0xffff;
/**
 * The key of the environment's format marker: prefix 0xfffe, like the hashed prefix never the
 * start of a stored (bucket, key) id.
 */
const FORMAT_KEY = Buffer.from([0xfe, 0xff, ...Buffer.from("format", "latin1")]);
/** Format 2: every value starts with the CRC-32 of the rest. Format 1 (no marker): no CRC. */
const CHECKSUMMED_FORMAT = 2;
/** Corrupt keys remembered for status; past this only the count grows. */
const CORRUPT_KEYS_MAX = 10_000;

/**
 * The lmdb engine.
 *
 * Commit and flush semantics of lmdb-js 3.5 (README "Overlapping Sync Options" and write.js):
 * `put`/`remove` are queued and the writes waiting when the worker thread starts a transaction
 * are committed together; the returned promise resolves once that transaction has *committed*
 * (visible to reads, and to a reopen after a process crash since the pages are in the OS).
 * With `overlappingSync` (the default on Linux) the fsync of a commit runs after it, overlapping
 * later transactions; `db.flushed` resolves once the latest commit is flushed to disk. So a
 * durable write here awaits its commit and then `db.flushed`; a non-durable one only its commit.
 * That is group commit for free: concurrent writers share both the transaction and the flush.
 *
 * Keys: (bucket, key) is stored as `bucketLength u16 LE | bucket | key`. Longer than lmdb's key
 * limit, it is replaced by `0xffff | sha256(id)` and the value carries the full id, checked on
 * read (`idLength u32 LE | id | object`).
 *
 * Checksums: lmdb checks nothing of a value, so every value starts with the CRC-32 of the rest
 * (`crc u32 LE | value as above`). A value whose CRC does not match is corruption: counted for
 * status and served as missing, so read repair and anti-entropy bring the key back from the
 * other replicas. An environment written before checksums (no format marker, not empty) keeps
 * its unchecked values.
 */
export class LmdbStorage implements Storage {
  readonly engine = "lmdb";
  readonly #dir: string;
  readonly #keyBytesMax: number;
  readonly #objectBytesMax: number;
  readonly #clock: Clock;
  #db: RootDatabase<Buffer, Buffer> | undefined;
  #closed = false;
  /** Values carry a CRC-32 (format 2); then the format marker is stored too. */
  #checksummed = false;
  readonly #corruptKeys = new Set<string>();
  #corruptRecords = 0;

  constructor(options: LmdbStorageOptions) {
    this.#dir = options.dir;
    this.#keyBytesMax = options.keyBytesMax ?? 64 * 1024;
    this.#objectBytesMax = options.objectBytesMax ?? 16 * 1024 * 1024;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  async open(): Promise<void> {
    if (this.#db !== undefined || this.#closed) throw new Error("lmdb storage cannot open twice");
    this.#db = open<Buffer, Buffer>({
      path: this.#dir,
      encoding: "binary",
      keyEncoding: "binary",
      compression: false,
      overlappingSync: true,
      // With event-turn batching on, a failed commit (a full disk) also rejects a promise of
      // lmdb-js's own that nobody can catch, and the process exits on the unhandled rejection
      // (test/unit/node/storage/lmdb-storage-disk-full.test.ts). Writes still share
      // transactions: those queued while one commits go in the next.
      eventTurnBatching: false,
    });
    const db = this.#db;
    const marker = db.get(FORMAT_KEY);
    if (marker !== undefined) {
      if (marker.length !== 1 || marker[0] !== CHECKSUMMED_FORMAT) {
        throw new Error(
          `lmdb storage in ${this.#dir} has unknown format ${marker.toString("hex")}`,
        );
      }
      this.#checksummed = true;
    } else if (db.getKeysCount({ limit: 1 }) === 0) {
      await committed(db.put(FORMAT_KEY, Buffer.from([CHECKSUMMED_FORMAT])), this.#clock);
      await committed(db.flushed, this.#clock);
      this.#checksummed = true;
    }
  }

  async get(bucket: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    const db = this.#checkOpen();
    const id = idBytesOf(bucket, key);
    const lmdbKey = lmdbKeyOf(id);
    const checked = db.get(lmdbKey);
    if (checked === undefined) return undefined;
    const stored = this.#verified(lmdbKey, checked);
    if (stored === undefined) return undefined;
    if (id.length <= LMDB_KEY_BYTES_MAX) return copyOf(stored);
    const idLength = stored.readUInt32LE(0);
    if (!stored.subarray(4, 4 + idLength).equals(id)) return undefined;
    return copyOf(stored.subarray(4 + idLength));
  }

  /** The stored value's length (object, checksum and any long id), from LMDB's map: no copy. */
  storedBytes(bucket: string, key: Uint8Array): number | undefined {
    const db = this.#checkOpen();
    return db.getBinaryFast(lmdbKeyOf(idBytesOf(bucket, key)))?.length;
  }

  async put(
    bucket: string,
    key: Uint8Array,
    object: Uint8Array,
    options: WriteOptions,
  ): Promise<WriteResult> {
    const db = this.#checkOpen();
    this.#checkSizes(key, object);
    const id = idBytesOf(bucket, key);
    const crcBytes = this.#checksummed ? 4 : 0;
    const hashed = id.length > LMDB_KEY_BYTES_MAX;
    const value = Buffer.allocUnsafe(crcBytes + (hashed ? 4 + id.length : 0) + object.byteLength);
    let at = crcBytes;
    if (hashed) {
      value.writeUInt32LE(id.length, at);
      id.copy(value, at + 4);
      at += 4 + id.length;
    }
    value.set(object, at);
    if (this.#checksummed) value.writeUInt32LE(crc32(value.subarray(4)), 0);
    await committed(db.put(lmdbKeyOf(id), value), this.#clock);
    if (!options.durable) return { durable: false };
    await committed(db.flushed, this.#clock);
    return { durable: true };
  }

  async remove(bucket: string, key: Uint8Array, options: WriteOptions): Promise<WriteResult> {
    const db = this.#checkOpen();
    await committed(db.remove(lmdbKeyOf(idBytesOf(bucket, key))), this.#clock);
    if (!options.durable) return { durable: false };
    await committed(db.flushed, this.#clock);
    return { durable: true };
  }

  async *entries(): AsyncIterable<StorageEntry> {
    const db = this.#checkOpen();
    for (const { key, value: checked } of db.getRange()) {
      if (key.equals(FORMAT_KEY)) continue;
      const value = this.#verified(key, checked);
      if (value === undefined) continue;
      let id: Buffer = key;
      let object: Buffer = value;
      if (key.readUInt16LE(0) === HASHED_KEY_PREFIX) {
        const idLength = value.readUInt32LE(0);
        id = value.subarray(4, 4 + idLength);
        object = value.subarray(4 + idLength);
      }
      const bucketBytes = id.readUInt16LE(0);
      yield {
        bucket: id.toString("utf8", 2, 2 + bucketBytes),
        key: copyOf(id.subarray(2 + bucketBytes)),
        object: copyOf(object),
      };
    }
  }

  stats(): StorageStats {
    const db = this.#db;
    const entries =
      db === undefined ? 0 : ((db.getStats() as { entryCount?: number }).entryCount ?? 0);
    const keys = Math.max(0, entries - (this.#checksummed ? 1 : 0));
    return { engine: this.engine, keys, corruptRecords: this.#corruptRecords };
  }

  /** The value without its CRC; undefined (and counted once per key) when the CRC is wrong. */
  #verified(lmdbKey: Buffer, stored: Buffer): Buffer | undefined {
    if (!this.#checksummed) return stored;
    if (stored.length >= 4 && crc32(stored.subarray(4)) === stored.readUInt32LE(0)) {
      return stored.subarray(4);
    }
    const name = lmdbKey.toString("latin1");
    if (!this.#corruptKeys.has(name)) {
      if (this.#corruptKeys.size < CORRUPT_KEYS_MAX) this.#corruptKeys.add(name);
      this.#corruptRecords += 1;
    }
    return undefined;
  }

  async close(): Promise<void> {
    const db = this.#db;
    if (this.#closed) return;
    this.#closed = true;
    if (db === undefined) return;
    await db.flushed;
    await db.close();
  }

  #checkSizes(key: Uint8Array, object: Uint8Array): void {
    if (key.byteLength > this.#keyBytesMax) {
      throw new Error(`key too large: ${key.byteLength} bytes (keyBytesMax ${this.#keyBytesMax})`);
    }
    if (object.byteLength > this.#objectBytesMax) {
      throw new Error(
        `object too large: ${object.byteLength} bytes (objectBytesMax ${this.#objectBytesMax})`,
      );
    }
  }

  #checkOpen(): RootDatabase<Buffer, Buffer> {
    if (this.#closed) throw new Error("lmdb storage is closed");
    if (this.#db === undefined) throw new Error("lmdb storage is not open");
    return this.#db;
  }
}

/** How long to wait for lmdb-js to say why a commit failed before reporting it without. */
const COMMIT_CAUSE_WAIT_MS = 1000;

/**
 * Awaits an lmdb-js write or flush. A failed commit rejects with "Commit failed (see commitError
 * for details)" and the cause (ENOSPC, EIO) on a second promise, `commitError`, which rejects
 * moments later; that one is awaited here, so the error names the cause (as the log engine's
 * do) and no rejection is left unhandled to end the process.
 */
async function committed(write: PromiseLike<unknown>, clock: Clock): Promise<void> {
  try {
    await write;
  } catch (error) {
    const cause = (error as { commitError?: unknown } | null)?.commitError;
    if (!(cause instanceof Promise)) throw new StorageWriteError(error);
    let cancel: (() => void) | undefined;
    const reason = await Promise.race([
      cause.then(
        () => error,
        (why: unknown) => why,
      ),
      new Promise(
        (resolve) => (cancel = clock.setTimer(COMMIT_CAUSE_WAIT_MS, () => resolve(error))),
      ),
    ]);
    cancel?.();
    throw new StorageWriteError(reason);
  }
}

function idBytesOf(bucket: string, key: Uint8Array): Buffer {
  const bucketBytes = Buffer.byteLength(bucket, "utf8");
  if (bucketBytes > 0xffff)
    throw new Error(`bucket name too long: ${bucketBytes} bytes (max 65535)`);
  const id = Buffer.allocUnsafe(2 + bucketBytes + key.byteLength);
  id.writeUInt16LE(bucketBytes, 0);
  id.write(bucket, 2, "utf8");
  id.set(key, 2 + bucketBytes);
  return id;
}

function lmdbKeyOf(id: Buffer): Buffer {
  if (id.length <= LMDB_KEY_BYTES_MAX) return id;
  const hashed = Buffer.allocUnsafe(34);
  hashed.writeUInt16LE(HASHED_KEY_PREFIX, 0);
  createHash("sha256").update(id).digest().copy(hashed, 2);
  return hashed;
}

function copyOf(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}
