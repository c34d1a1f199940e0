// The log engine's scan of every live record (LogStorage.entries: the anti-entropy trees'
// rebuild at start, the hint store's load, a partition drop): one pass over the key directory
// takes each segment's live records in file order, and each segment is read in windows of
// consecutive live records instead of one read per key. Does IO.
//
// Why: the start-up rebuild read each key with its own pread, ~10 µs of its ~30 µs per key on
// this machine (BENCHMARKS.md, 2026-12-06, ninth session), and a restarted node serves slowly
// until its trees are built.

import { RecordKind, checkRecordAt, viewRecordAt } from "./record-format.js";
import type { SegmentSet } from "./segment-set.js";

/** Bytes of consecutive live records read at once; a larger record is read on its own. */
export const SCAN_WINDOW_BYTES = 1 << 20;

/** A live record the scan found: its key-directory id and its object bytes (the caller's). */
export interface ScannedObject {
  readonly id: string;
  readonly object: Uint8Array;
}

/** The live records of one segment at the scan's start, in file order. */
interface SegmentRecords {
  readonly segmentId: number;
  readonly offsets: number[];
  readonly sizes: number[];
  readonly ids: string[];
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
): AsyncIterable<ScannedObject> {
  for (const records of liveRecordsOf(set)) {
    let index = 0;
    while (index < records.ids.length) {
      const start = records.offsets[index]!;
      // Consecutive records up to a window; the first one always, even when it alone is larger.
      let end = index;
      while (
        end < records.ids.length &&
        (end === index || records.offsets[end]! + records.sizes[end]! - start <= SCAN_WINDOW_BYTES)
      ) {
        end += 1;
      }
      const length = records.offsets[end - 1]! + records.sizes[end - 1]! - start;
      // Fetched again before each read: a merge may have retired the segment meanwhile (a read
      // that has started keeps its file open until it ends).
      const segment = set.get(records.segmentId);
      const window =
        segment === undefined || segment.retired || length > SCAN_WINDOW_BYTES
          ? undefined
          : await segment.read(start, length).catch(() => undefined);
      for (let at = index; at < end; at++) {
        const id = records.ids[at]!;
        const offset = records.offsets[at]!;
        const object =
          window === undefined
            ? undefined
            : objectAt(
                set,
                window,
                offset - start,
                records.sizes[at]!,
                id,
                records.segmentId,
                offset,
              );
        if (object !== undefined) {
          yield { id, object };
        } else if (set.keydir.slotOf(id) >= 0) {
          const current = await readCurrent(id);
          if (current !== undefined) yield { id, object: current };
        }
      }
      index = end;
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

/** Each segment's live records, segments oldest first, records in file order. */
function liveRecordsOf(set: SegmentSet): SegmentRecords[] {
  const { keydir } = set;
  const bySegment = new Map<number, { offset: number; size: number; id: string }[]>();
  keydir.forEach((id, slot) => {
    const segmentId = keydir.segmentIdAt(slot);
    let list = bySegment.get(segmentId);
    if (list === undefined) bySegment.set(segmentId, (list = []));
    list.push({ offset: keydir.offsetAt(slot), size: keydir.sizeAt(slot), id });
  });
  return [...bySegment]
    .sort(([a], [b]) => a - b)
    .map(([segmentId, list]) => {
      list.sort((a, b) => a.offset - b.offset);
      return {
        segmentId,
        offsets: list.map((record) => record.offset),
        sizes: list.map((record) => record.size),
        ids: list.map((record) => record.id),
      };
    });
}
