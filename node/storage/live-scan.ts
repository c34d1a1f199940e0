// The log engine's scan of every live record (LogStorage.entries: the anti-entropy trees'
// rebuild at start, the hint store's load, a partition drop): one pass over the key directory
// takes each segment's live records in file order, and each segment is read in windows of
// nearby live records instead of one read per key. Does IO.
//
// Why: the start-up rebuild read each key with its own pread, ~10 µs of its ~30 µs per key on
// this machine (BENCHMARKS.md, 2026-12-06, ninth session), and a restarted node serves slowly
// until its trees are built.

import { RecordKind, checkRecordAt, viewRecordAt } from "./record-format.js";
import type { SegmentSet } from "./segment-set.js";

/** Bytes of consecutive live records read at once; a larger record is read on its own. */
export const SCAN_WINDOW_BYTES = 1 << 20;
/**
 * Dead bytes between two live records that one read spans at most; a larger gap starts a new
 * read. Copying that much from the page cache costs about what one more read call does, and
 * after a skewed write load most of an old segment is dead records.
 */
export const SCAN_GAP_BYTES_MAX = 32 * 1024;

/** A live record the scan found: its key-directory id and its object bytes (the caller's). */
export interface ScannedObject {
  readonly id: string;
  readonly object: Uint8Array;
}

/** Reads a scan made: windows of records, and records read through the key directory. */
export interface ScanCounts {
  windows: number;
  readsThrough: number;
}

/**
 * The live records of one segment at the scan's start: record `order[i]` is the i-th in file
 * order. Typed arrays and one id reference per key (~24 bytes), not an object per key: a node
 * of a million keys scans at start-up, when its heap is still growing.
 */
interface SegmentRecords {
  readonly segmentId: number;
  readonly offsets: Float64Array;
  readonly sizes: Uint32Array;
  readonly ids: string[];
  readonly order: Uint32Array;
}

/**
 * Every key the directory holds when the scan starts, each once, with the object of its record
 * at the moment the scan reaches it. A record the key no longer points at (overwritten, moved
 * by a merge), one whose segment is gone, one larger than a window and one that does not check
 * are read through `readCurrent` instead (which finds the key's current record, and counts and
 * forgets a corrupt one); a key removed meanwhile is skipped. Objects are views into buffers
 * read for this scan alone, so callers may keep them.
 */
export async function* scanLiveRecords(
  set: SegmentSet,
  readCurrent: (id: string) => Promise<Uint8Array | undefined>,
  counts: ScanCounts = { windows: 0, readsThrough: 0 },
): AsyncIterable<ScannedObject> {
  for (const records of liveRecordsOf(set)) {
    const { order, offsets, sizes, ids } = records;
    const offsetOf = (rank: number): number => offsets[order[rank]!]!;
    const endOf = (rank: number): number => offsetOf(rank) + sizes[order[rank]!]!;
    let first = 0;
    while (first < order.length) {
      const start = offsetOf(first);
      // Consecutive records up to a window, across small gaps of dead records; the first one
      // always, even when it alone is larger than a window.
      let end = first + 1;
      while (
        end < order.length &&
        endOf(end) - start <= SCAN_WINDOW_BYTES &&
        offsetOf(end) - endOf(end - 1) <= SCAN_GAP_BYTES_MAX
      ) {
        end += 1;
      }
      const length = endOf(end - 1) - start;
      // Fetched again before each read: a merge may have retired the segment meanwhile (a read
      // that has started keeps its file open until it ends).
      const segment = set.get(records.segmentId);
      const window =
        segment === undefined || segment.retired || length > SCAN_WINDOW_BYTES
          ? undefined
          : await segment.read(start, length).catch(() => undefined);
      if (window !== undefined) counts.windows += 1;
      for (let rank = first; rank < end; rank++) {
        const index = order[rank]!;
        const id = ids[index]!;
        const offset = offsets[index]!;
        const object =
          window === undefined
            ? undefined
            : objectAt(set, window, offset - start, sizes[index]!, id, records.segmentId, offset);
        if (object !== undefined) {
          yield { id, object };
        } else if (set.keydir.slotOf(id) >= 0) {
          counts.readsThrough += 1;
          const current = await readCurrent(id);
          if (current !== undefined) yield { id, object: current };
        }
      }
      first = end;
    }
  }
}

/**
 * The object of the record at `at` in `window` when the key still points at (segmentId,
 * offset) and the record checks (crc, kind, id); undefined otherwise.
 */
function objectAt(
  set: SegmentSet,
  window: Buffer,
  at: number,
  size: number,
  id: string,
  segmentId: number,
  offset: number,
): Uint8Array | undefined {
  const { keydir } = set;
  const slot = keydir.slotOf(id);
  if (slot < 0 || keydir.segmentIdAt(slot) !== segmentId || keydir.offsetAt(slot) !== offset) {
    return undefined;
  }
  if (at + size > window.length || checkRecordAt(window, at) !== size) return undefined;
  const view = viewRecordAt(window, at, size);
  if (view.kind !== RecordKind.put || window.toString("latin1", view.idStart, view.idEnd) !== id) {
    return undefined;
  }
  return window.subarray(view.valueStart, at + size);
}

/** Each segment's live records, segments oldest first (two passes over the key directory). */
function liveRecordsOf(set: SegmentSet): SegmentRecords[] {
  const { keydir } = set;
  const counts = new Map<number, number>();
  keydir.forEach((_, slot) => {
    const segmentId = keydir.segmentIdAt(slot);
    counts.set(segmentId, (counts.get(segmentId) ?? 0) + 1);
  });
  const bySegment = new Map<number, SegmentRecords & { filled: number }>();
  for (const [segmentId, count] of counts) {
    bySegment.set(segmentId, {
      segmentId,
      offsets: new Float64Array(count),
      sizes: new Uint32Array(count),
      ids: new Array<string>(count),
      order: new Uint32Array(count),
      filled: 0,
    });
  }
  keydir.forEach((id, slot) => {
    const records = bySegment.get(keydir.segmentIdAt(slot))!;
    const index = records.filled++;
    records.offsets[index] = keydir.offsetAt(slot);
    records.sizes[index] = keydir.sizeAt(slot);
    records.ids[index] = id;
    records.order[index] = index;
  });
  const segments = [...bySegment.values()].sort((a, b) => a.segmentId - b.segmentId);
  for (const { order, offsets } of segments) order.sort((a, b) => offsets[a]! - offsets[b]!);
  return segments;
}
