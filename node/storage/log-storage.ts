// The Bitcask-style durable engine (DESIGN §6): append-only segments, an in-memory key
// directory, group-committed writes, background merge with hint files, recovery that truncates a
// torn tail and counts corruption. This file wires the parts together; it does IO through them.

import { SYSTEM_CLOCK, type Clock } from "../clock.js";
import * as fs from "node:fs/promises";
import { CorruptionLog, type CorruptRecord } from "./corruption-log.js";
import {
  resolveLogStorageOptions,
  type LogStorageOptions,
  type LogStorageStats,
  type ResolvedLogStorageOptions,
} from "./log-storage-options.js";
import { LogWriter } from "./log-writer.js";
import { mergeFrozenSegments, type MergeResult } from "./merge.js";
import { ObjectCache } from "./object-cache.js";
import { scanLiveRecords, type ScanCounts } from "./live-scan.js";
import {
  BUCKET_BYTES_MAX,
  RecordKind,
  SEGMENT_HEADER_BYTES,
  checkRecordAt,
  encodeRecord,
  keyIdOf,
  parseRecordKeyId,
  recordIdOf,
  versionHashOf,
  viewRecordAt,
} from "./record-format.js";
import { recoverLog, type RecoveryReport } from "./recovery.js";
import { createSegment, pathIn, segmentFileName } from "./segment.js";
import { SegmentSet } from "./segment-set.js";
import type {
  RollbackListener,
  Storage,
  StorageEntry,
  WriteOptions,
  WriteResult,
} from "./storage.js";
import { WriteQueue } from "./write-queue.js";

/** Records up to this size are read with a synchronous pread (page-cache hits take ~µs). */
const SYNC_READ_BYTES_MAX = 64 * 1024;

type State = "new" | "opening" | "open" | "closing" | "closed";

/**
 * The log engine. Writes of one key apply in call order (one queue); a `get` sees a write as soon
 * as its bytes are in the file, before its fsync; `durable: true` resolves after the fsync that
 * covers it. See log-writer.ts for failure handling and merge.ts for compaction.
 */
export class LogStorage implements Storage {
  readonly engine = "log";
  readonly #options: ResolvedLogStorageOptions;
  readonly #clock: Clock;
  readonly #set = new SegmentSet();
  readonly #corruptions: CorruptionLog;
  readonly #scratch = Buffer.allocUnsafe(SYNC_READ_BYTES_MAX);
  readonly #cache: ObjectCache;
  readonly #scanCounts: ScanCounts = { windows: 0, readsThrough: 0 };
  #state: State = "new";
  #openedToken: string | undefined;
  #closedToken: string | undefined;
  #writer: LogWriter | undefined;
  #queue: WriteQueue | undefined;
  #recovery: RecoveryReport | undefined;
  /** The latest scheduled merge; merges run one after another. */
  #mergeChain: Promise<unknown> = Promise.resolve();
  #mergesScheduled = 0;
  #merges = 0;
  #mergeFailures = 0;
  #backgroundErrors = 0;
  /** The last background failure (merge or lazy sync), for status output. */
  lastBackgroundError: Error | undefined;
  readonly #rollbackListeners: RollbackListener[] = [];

  constructor(options: LogStorageOptions) {
    this.#options = resolveLogStorageOptions(options);
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#corruptions = new CorruptionLog(this.#options.corruptRecordsListMax);
    this.#cache = new ObjectCache(this.#options.objectCacheBytesMax);
  }

  async open(): Promise<void> {
    if (this.#state !== "new") throw new Error(`log storage cannot open: it is ${this.#state}`);
    this.#state = "opening";
    const { dir } = this.#options;
    await fs.mkdir(dir, { recursive: true });
    this.#recovery = await recoverLog(dir, this.#set, this.#corruptions, this.#clock);
    this.#openedToken = this.#currentToken();
    const id = this.#set.nextActiveId();
    const active = await createSegment(id, pathIn(dir, segmentFileName(id)), 0, dir);
    this.#set.add(active);
    this.#writer = new LogWriter(
      dir,
      this.#set,
      active,
      this.#options.segmentBytesMax,
      () => this.#maybeMerge(),
      (ids) => this.#rolledBack(ids),
    );
    this.#writer.keepHints(this.#recovery.hintsToWrite.splice(0));
    this.#queue = new WriteQueue(
      this.#writer,
      this.#options,
      (error) => this.#noteBackgroundError(error),
      this.#clock,
    );
    this.#state = "open";
    this.#maybeMerge();
  }

  onRollback(listener: RollbackListener): void {
    this.#rollbackListeners.push(listener);
  }

  /** Tells the rollback listeners which keys a rollback restored; a listener's throw is noted. */
  #rolledBack(ids: readonly string[]): void {
    // The restored records are older ones the cache may hold no entry for, but a crash-free
    // rollback can reuse a truncated offset: no entry of these keys may survive it.
    for (const id of ids) this.#cache.delete(id);
    const keys = ids.map((id) => parseRecordKeyId(id));
    for (const listener of this.#rollbackListeners) {
      try {
        listener(keys);
      } catch (error) {
        this.#noteBackgroundError(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  // Not async: an async function returning #readById's promise would add a promise and two
  // turns of the microtask queue to every read (issue 16).
  get(bucket: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      this.#checkOpen();
      return this.#readById(keyIdOf(bucket, key));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async put(
    bucket: string,
    key: Uint8Array,
    object: Uint8Array,
    options: WriteOptions,
  ): Promise<WriteResult> {
    const queue = this.#checkOpen();
    this.#checkKey(bucket, key);
    if (object.byteLength > this.#options.objectBytesMax) {
      throw new Error(
        `object too large: ${object.byteLength} bytes (objectBytesMax ${this.#options.objectBytesMax})`,
      );
    }
    const record = encodeRecord(RecordKind.put, bucket, key, object);
    const id = recordIdOf(record);
    const versionHash = versionHashOf(record);
    const result = await queue.enqueue(record, id, RecordKind.put, versionHash, options.durable);
    this.#cacheWritten(id, record.length, versionHash, object);
    return result;
  }

  /**
   * Refreshes a cached key with its written object once its record is the key's current one:
   * the next write of the key reads it first (read-before-write), and a zipfian workload reads
   * its hot keys again soon. A key not cached is not added: a write of a new key, or a partition
   * streamed in, would only push the read keys out (and make a slab a megabyte of garbage per
   * thousand keys). A later write that already replaced it (another size or version hash)
   * leaves it out.
   */
  #cacheWritten(id: string, size: number, versionHash: number, object: Uint8Array): void {
    if (!this.#cache.has(id)) return;
    const keydir = this.#set.keydir;
    const slot = keydir.slotOf(id);
    if (slot < 0 || keydir.sizeAt(slot) !== size || keydir.versionHashAt(slot) !== versionHash) {
      return;
    }
    this.#cache.set(id, keydir.segmentIdAt(slot), keydir.offsetAt(slot), object);
  }

  async remove(bucket: string, key: Uint8Array, options: WriteOptions): Promise<WriteResult> {
    const queue = this.#checkOpen();
    this.#checkKey(bucket, key);
    const record = encodeRecord(RecordKind.tombstone, bucket, key, new Uint8Array(0));
    return queue.enqueue(record, recordIdOf(record), RecordKind.tombstone, 0, options.durable);
  }

  async *entries(): AsyncIterable<StorageEntry> {
    this.#checkOpen();
    // The keys at the start, read in file order (live-scan.ts), so writes during iteration
    // neither throw nor loop forever. A scan reads every key once: what it reads through the
    // key directory is not cached, since it would only push the hot keys out of the cache.
    const read = (id: string): Promise<Uint8Array | undefined> => this.#readById(id, false);
    for await (const { id, object } of scanLiveRecords(this.#set, read, this.#scanCounts)) {
      yield { ...parseRecordKeyId(id), object };
    }
  }

  /** The size of the key's record (its object plus a header), from the index: no read. */
  storedBytes(bucket: string, key: Uint8Array): number | undefined {
    this.#checkOpen();
    const slot = this.#set.keydir.slotOf(keyIdOf(bucket, key));
    return slot < 0 ? undefined : this.#set.keydir.sizeAt(slot);
  }

  /** The 32-bit version hash (its record's CRC-32) of a key, without reading the value. */
  versionHash(bucket: string, key: Uint8Array): number | undefined {
    this.#checkOpen();
    const slot = this.#set.keydir.slotOf(keyIdOf(bucket, key));
    return slot < 0 ? undefined : this.#set.keydir.versionHashAt(slot);
  }

  /** The corrupt records found so far (the first corruptRecordsListMax of them). */
  corruptions(): readonly CorruptRecord[] {
    return this.#corruptions.list();
  }

  /**
   * Merges every segment written so far into compact ones (see merge.ts). Runs after a merge
   * already in progress, so the result always covers writes made before the call.
   */
  merge(): Promise<MergeResult> {
    this.#checkOpen();
    return this.#scheduleMerge();
  }

  stats(): LogStorageStats {
    const writer = this.#writer;
    const active = writer?.active;
    const usage = this.#set.frozenUsage(active?.id ?? Number.MAX_SAFE_INTEGER);
    const recovery = this.#recovery;
    const cache = this.#cache.stats();
    return {
      engine: this.engine,
      keys: this.#set.keydir.size,
      corruptRecords: this.#corruptions.count,
      details: {
        segments: this.#set.ordered().length,
        activeSegmentId: active?.id ?? -1,
        activeBytes: active?.size ?? 0,
        activeSyncedBytes: active?.syncedSize ?? 0,
        frozenBytes: usage.recordBytes,
        frozenDeadBytes: usage.deadBytes,
        queuedBytes: this.#queue?.queuedBytes ?? 0,
        batches: this.#queue?.batches ?? 0,
        syncs: this.#queue?.syncs ?? 0,
        recordsWritten: this.#queue?.records ?? 0,
        rotations: writer?.rotations ?? 0,
        hintsWritten: writer?.hintsWritten ?? 0,
        hintFailures: writer?.hintFailures ?? 0,
        merges: this.#merges,
        mergeFailures: this.#mergeFailures,
        backgroundErrors: this.#backgroundErrors,
        recoverySegmentsScanned: recovery?.segmentsScanned ?? 0,
        recoveryHintsLoaded: recovery?.hintsLoaded ?? 0,
        recoveryTornBytesTruncated: recovery?.tornBytesTruncated ?? 0,
        recoveryMs: Math.round(recovery?.durationMs ?? 0),
        objectCacheHits: cache.hits,
        objectCacheMisses: cache.misses,
        objectCacheEntries: cache.entries,
        objectCacheBytes: cache.bytes,
        scanWindows: this.#scanCounts.windows,
        scanReadsThrough: this.#scanCounts.readsThrough,
      },
    };
  }

  async close(): Promise<void> {
    if (this.#state === "closed" || this.#state === "closing") return;
    const wasOpen = this.#state === "open";
    this.#state = "closing";
    if (wasOpen) {
      await this.#mergeChain.catch(() => undefined);
      await this.#queue?.drain().catch((error: unknown) => this.#noteBackgroundError(error));
    }
    this.#queue?.stop();
    await this.#writer?.close(wasOpen && this.#backgroundErrors === 0);
    for (const segment of this.#set.ordered()) await segment.close();
    // Only after a clean close: a failed write left its undo in the files' sizes, not here.
    this.#closedToken = this.#backgroundErrors === 0 ? this.#currentToken() : undefined;
    this.#state = "closed";
  }

  stateToken(when: "opened" | "closed"): string | undefined {
    return when === "opened" ? this.#openedToken : this.#closedToken;
  }

  /**
   * The segments holding records, by id and length: the log only appends, and a merge writes
   * new segments under new ids, so any write since changes some length or id. An empty one
   * (the active segment of a start with no write since) is left out: recovery removes it.
   */
  #currentToken(): string {
    const parts = this.#set
      .ordered()
      .filter((segment) => segment.size > SEGMENT_HEADER_BYTES)
      .map((segment) => `${segment.id}:${segment.size}`);
    return `log-v1 ${parts.join(",")}`;
  }

  async #readById(id: string, cache = true): Promise<Uint8Array | undefined> {
    const keydir = this.#set.keydir;
    const slot = keydir.slotOf(id);
    if (slot < 0) return undefined;
    const segmentId = keydir.segmentIdAt(slot);
    const offset = keydir.offsetAt(slot);
    const size = keydir.sizeAt(slot);
    const cached = this.#cache.get(id, segmentId, offset);
    if (cached !== undefined) return cached;
    const segment = this.#set.get(segmentId);
    if (segment === undefined)
      throw new Error(`key directory points at missing segment ${segmentId}`);
    let bytes: Buffer;
    if (size <= SYNC_READ_BYTES_MAX) {
      bytes = this.#scratch.subarray(0, segment.readSync(this.#scratch, offset, size));
    } else {
      bytes = await segment.read(offset, size);
    }
    const valid = bytes.length === size && checkRecordAt(bytes, 0) === size;
    const view = valid ? viewRecordAt(bytes, 0, size) : undefined;
    if (
      view === undefined ||
      view.kind !== RecordKind.put ||
      bytes.toString("latin1", view.idStart, view.idEnd) !== id
    ) {
      this.#dropCorruptOnRead(id, segmentId, offset, size);
      return undefined;
    }
    // Kept with the record it was read from: after an await (a large read) the key may have
    // moved on, and then the entry never matches and is dropped at its next lookup. The copy in
    // the cache is the one handed out: no typed array of its own per read.
    const value = bytes.subarray(view.valueStart, size);
    const kept = cache ? this.#cache.set(id, segmentId, offset, value) : undefined;
    if (kept !== undefined) return kept;
    const object = new Uint8Array(size - view.valueStart);
    object.set(value);
    return object;
  }

  /**
   * A record that fails its crc on read is counted, listed and forgotten, so the key reads as
   * absent and read repair restores it from the other replicas (DESIGN §6).
   */
  #dropCorruptOnRead(id: string, segmentId: number, offset: number, size: number): void {
    const { bucket, key } = parseRecordKeyId(id);
    this.#corruptions.add({
      segmentId,
      offset,
      bytes: size,
      detectedBy: "read",
      reason: "record failed its check on read",
      claimedBucket: bucket,
      claimedKeyBase64: Buffer.from(key).toString("base64"),
    });
    const slot = this.#set.keydir.slotOf(id);
    const unchanged =
      slot >= 0 &&
      this.#set.keydir.segmentIdAt(slot) === segmentId &&
      this.#set.keydir.offsetAt(slot) === offset;
    if (unchanged) this.#set.applyRemove(id);
  }

  #scheduleMerge(): Promise<MergeResult> {
    this.#mergesScheduled += 1;
    const next = this.#mergeChain
      .catch(() => undefined)
      .then(() => this.#runMerge())
      .finally(() => {
        this.#mergesScheduled -= 1;
      });
    this.#mergeChain = next;
    return next;
  }

  async #runMerge(): Promise<MergeResult> {
    const writer = this.#writer;
    const queue = this.#queue;
    if (writer === undefined || queue === undefined || this.#state !== "open") {
      throw new Error(`log storage is ${this.#state}: no merge`);
    }
    try {
      const result = await mergeFrozenSegments({
        dir: this.#options.dir,
        set: this.#set,
        queue,
        writer,
        corruptions: this.#corruptions,
        segmentBytesMax: this.#options.segmentBytesMax,
        stopping: () => this.#state !== "open",
        clock: this.#clock,
      });
      this.#merges += 1;
      return result;
    } catch (error) {
      this.#mergeFailures += 1;
      throw error;
    }
  }

  /** Starts a background merge when dead bytes exceed mergeDeadRatio of the frozen bytes. */
  #maybeMerge(): void {
    if (!this.#options.autoMerge || this.#state !== "open" || this.#mergesScheduled > 0) return;
    const active = this.#writer?.active;
    if (active === undefined) return;
    const usage = this.#set.frozenUsage(active.id);
    if (
      usage.recordBytes === 0 ||
      usage.deadBytes / usage.recordBytes <= this.#options.mergeDeadRatio
    )
      return;
    this.#scheduleMerge().catch((error: unknown) => this.#noteBackgroundError(error));
  }

  #noteBackgroundError(error: unknown): void {
    this.#backgroundErrors += 1;
    this.lastBackgroundError = error instanceof Error ? error : new Error(String(error));
  }

  #checkKey(bucket: string, key: Uint8Array): void {
    const bucketBytes = Buffer.byteLength(bucket, "utf8");
    if (bucketBytes > BUCKET_BYTES_MAX) {
      throw new Error(`bucket name too long: ${bucketBytes} bytes (max ${BUCKET_BYTES_MAX})`);
    }
    if (key.byteLength > this.#options.keyBytesMax) {
      throw new Error(
        `key too large: ${key.byteLength} bytes (keyBytesMax ${this.#options.keyBytesMax})`,
      );
    }
  }

  #checkOpen(): WriteQueue {
    if (this.#state !== "open" || this.#queue === undefined)
      throw new Error(`log storage is ${this.#state}, not open`);
    return this.#queue;
  }
}
