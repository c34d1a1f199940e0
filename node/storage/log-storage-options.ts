// Options, defaults and the stats shape of the Bitcask-style log engine, with the checks that
// refuse impossible settings at construction. Pure.

import type { StorageStats } from "./storage.js";
import type { Clock } from "../clock.js";

/** Options of {@link LogStorage}; every bound has a default and every default is enforced. */
export interface LogStorageOptions {
  /** Directory holding the segment and hint files (created if missing). */
  readonly dir: string;
  /** A new segment starts once the active one has grown past this (default 64 MiB). */
  readonly segmentBytesMax?: number;
  /** A background merge starts when dead bytes exceed this share of frozen bytes (default 0.5). */
  readonly mergeDeadRatio?: number;
  /** Whether background merges run at all (default true); `merge()` always works. */
  readonly autoMerge?: boolean;
  /** Bytes appended per write call at most (default 4 MiB). */
  readonly batchBytesMax?: number;
  /** Bytes waiting in the write queue at most; beyond it writes are refused (default 64 MiB). */
  readonly queuedBytesMax?: number;
  /** Longest wait of a non-durable write for its fsync (default 20 ms). */
  readonly syncIntervalMs?: number;
  /** Largest key in bytes (default 64 KiB, DESIGN §7). */
  readonly keyBytesMax?: number;
  /** Largest object in bytes (default 16 MiB, DESIGN §7). */
  readonly objectBytesMax?: number;
  /** Corrupt records listed individually at most; the count is unbounded (default 1000). */
  readonly corruptRecordsListMax?: number;
  /** Bytes of recently read objects kept in memory (default 32 MiB; 0: none). */
  readonly objectCacheBytesMax?: number;
  /** The lazy sync's timer and the durations reported (default: the system clock). */
  readonly clock?: Clock;
}

/** Options with every default filled in (the clock is the engine's to default). */
export type ResolvedLogStorageOptions = Required<Omit<LogStorageOptions, "clock">>;

/** Largest segmentBytesMax: offsets are u32 and a segment is read whole by recovery and merge. */
export const SEGMENT_BYTES_MAX_LIMIT = 1 << 30;

/** Fills defaults and checks ranges; throws with the field name and the numbers. */
export function resolveLogStorageOptions(options: LogStorageOptions): ResolvedLogStorageOptions {
  const resolved: ResolvedLogStorageOptions = {
    dir: options.dir,
    segmentBytesMax: options.segmentBytesMax ?? 64 * 1024 * 1024,
    mergeDeadRatio: options.mergeDeadRatio ?? 0.5,
    autoMerge: options.autoMerge ?? true,
    batchBytesMax: options.batchBytesMax ?? 4 * 1024 * 1024,
    queuedBytesMax: options.queuedBytesMax ?? 64 * 1024 * 1024,
    syncIntervalMs: options.syncIntervalMs ?? 20,
    keyBytesMax: options.keyBytesMax ?? 64 * 1024,
    objectBytesMax: options.objectBytesMax ?? 16 * 1024 * 1024,
    corruptRecordsListMax: options.corruptRecordsListMax ?? 1000,
    objectCacheBytesMax: options.objectCacheBytesMax ?? 32 * 1024 * 1024,
  };
  if (resolved.dir.length === 0) throw new Error("log storage needs a dir");
  checkRange("segmentBytesMax", resolved.segmentBytesMax, 64, SEGMENT_BYTES_MAX_LIMIT);
  checkRange("mergeDeadRatio", resolved.mergeDeadRatio, 0, 1);
  checkRange("batchBytesMax", resolved.batchBytesMax, 1, 256 * 1024 * 1024);
  checkRange("queuedBytesMax", resolved.queuedBytesMax, 1, 2 ** 40);
  checkRange("syncIntervalMs", resolved.syncIntervalMs, 0, 60_000);
  checkRange("keyBytesMax", resolved.keyBytesMax, 1, 2 ** 31);
  checkRange("objectBytesMax", resolved.objectBytesMax, 0, 2 ** 31);
  checkRange("corruptRecordsListMax", resolved.corruptRecordsListMax, 0, 1_000_000);
  checkRange("objectCacheBytesMax", resolved.objectCacheBytesMax, 0, 2 ** 40);
  return resolved;
}

function checkRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`log storage option ${name} must be within [${min}, ${max}], got ${value}`);
  }
}

/** Stats of the log engine: the shared counters plus engine-specific figures. */
export interface LogStorageStats extends StorageStats {
  readonly details: Record<string, number>;
}
