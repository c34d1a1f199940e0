// Rebuilds the key directory when the log engine opens: replays segments in id order (from
// their hint file when a valid one exists), truncates a torn tail of the newest segment, and
// counts every corrupt stretch before it. Does IO.

import type { Clock } from "../clock.js";
import * as fs from "node:fs/promises";
import { CorruptionLog, claimedKeyAt } from "./corruption-log.js";
import { HintBuilder, readHint } from "./hint-file.js";
import { RecordCursor } from "./record-cursor.js";
import {
  RecordKind,
  SEGMENT_HEADER_BYTES,
  checkSegmentHeader,
  versionHashOf,
} from "./record-format.js";
import {
  TMP_SUFFIX,
  hintFileName,
  openSegment,
  parseDataFileName,
  pathIn,
  segmentFileName,
  syncDirectory,
} from "./segment.js";
import type { SegmentSet } from "./segment-set.js";
import type { Segment } from "./segment.js";

/** What recovery did, for stats. */
export interface RecoveryReport {
  segmentsScanned: number;
  hintsLoaded: number;
  tornBytesTruncated: number;
  emptySegmentsRemoved: number;
  durationMs: number;
  /**
   * Hints of segments scanned whole and clean (older builds wrote hints only in merges): the
   * engine writes them, so that the next open reads these segments' hints too.
   */
  hintsToWrite: { readonly segment: Segment; readonly hint: HintBuilder }[];
}

/**
 * Loads every segment of `dir` into `set`. Never fails because of damaged bytes: a torn tail of
 * the newest segment is cut off (and the cut fsynced); anything else unreadable is counted in
 * `corruptions` and stepped over. Refuses only segments of an unknown format version.
 */
export async function recoverLog(
  dir: string,
  set: SegmentSet,
  corruptions: CorruptionLog,
  clock: Clock,
): Promise<RecoveryReport> {
  const started = clock.monotonicMs();
  const report: RecoveryReport = {
    segmentsScanned: 0,
    hintsLoaded: 0,
    tornBytesTruncated: 0,
    emptySegmentsRemoved: 0,
    durationMs: 0,
    hintsToWrite: [],
  };
  const { segmentIds, hintIds } = await listDataFiles(dir);
  const newestId = segmentIds[segmentIds.length - 1];
  for (const id of segmentIds) {
    set.noteId(id);
    const loaded = hintIds.has(id) && (await loadFromHint(dir, id, set));
    if (loaded) {
      report.hintsLoaded += 1;
      continue;
    }
    report.segmentsScanned += 1;
    await scanSegment(dir, id, id === newestId, set, corruptions, report);
  }
  report.durationMs = clock.monotonicMs() - started;
  return report;
}

/** Lists segment and hint ids, deleting leftovers of interrupted merges and orphaned hints. */
async function listDataFiles(dir: string): Promise<{ segmentIds: number[]; hintIds: Set<number> }> {
  const names = await fs.readdir(dir);
  const segmentIds: number[] = [];
  const hintIds = new Set<number>();
  let removed = false;
  for (const name of names) {
    if (name.endsWith(TMP_SUFFIX)) {
      await fs.rm(pathIn(dir, name), { force: true });
      removed = true;
      continue;
    }
    const parsed = parseDataFileName(name);
    if (parsed?.kind === "segment") segmentIds.push(parsed.id);
    if (parsed?.kind === "hint") hintIds.add(parsed.id);
  }
  segmentIds.sort((a, b) => a - b);
  const segments = new Set(segmentIds);
  for (const id of hintIds) {
    if (segments.has(id)) continue;
    await fs.rm(pathIn(dir, hintFileName(id)), { force: true });
    hintIds.delete(id);
    removed = true;
  }
  if (removed) await syncDirectory(dir);
  return { segmentIds, hintIds };
}

async function loadFromHint(dir: string, id: number, set: SegmentSet): Promise<boolean> {
  const segmentPath = pathIn(dir, segmentFileName(id));
  const { size } = await fs.stat(segmentPath);
  const bytes = await fs.readFile(pathIn(dir, hintFileName(id)));
  const segment = await openSegment(id, segmentPath, size);
  const ok = readHint(bytes, id, size, (key, offset, recordBytes, versionHash, tombstone) => {
    if (tombstone) set.applyRemove(key);
    else set.applyPut(key, segment, offset, recordBytes, versionHash);
  });
  if (ok) set.add(segment);
  else await segment.close();
  return ok;
}

/** Replays one segment's records; `newest` marks the segment that may end in a torn tail. */
async function scanSegment(
  dir: string,
  id: number,
  newest: boolean,
  set: SegmentSet,
  corruptions: CorruptionLog,
  report: RecoveryReport,
): Promise<void> {
  const segmentPath = pathIn(dir, segmentFileName(id));
  const bytes = await fs.readFile(segmentPath);
  const header = checkSegmentHeader(bytes);
  if (!header.ok && header.fatal)
    throw new Error(`cannot open segment ${segmentPath}: ${header.reason}`);
  const cursor = new RecordCursor(bytes, header.ok ? SEGMENT_HEADER_BYTES : 0);
  const segment = await openSegment(id, segmentPath, bytes.length);
  set.add(segment);
  let records = 0;
  let hint: HintBuilder | undefined = header.ok ? new HintBuilder() : undefined;
  let step = cursor.next();
  for (; step !== "end"; step = cursor.next()) {
    if (step === "corrupt") {
      // A hint would hide the damage from the next open's count: this segment stays scanned.
      hint = undefined;
      const reason =
        cursor.corruptOffset === 0
          ? `bad segment header (${header.ok ? "" : header.reason})`
          : "bad record";
      reportCorrupt(corruptions, bytes, id, cursor.corruptOffset, cursor.corruptBytes, reason);
      continue;
    }
    records += 1;
    const key = bytes.toString("latin1", cursor.idStart, cursor.idEnd);
    const hash = versionHashOf(bytes, cursor.offset);
    hint?.add(key, cursor.offset, cursor.size, hash, cursor.kind !== RecordKind.put);
    if (cursor.kind === RecordKind.put)
      set.applyPut(key, segment, cursor.offset, cursor.size, hash);
    else set.applyRemove(key);
  }
  if (hint !== undefined && records > 0 && cursor.tailBytes === 0) {
    report.hintsToWrite.push({ segment, hint });
  }
  // The newest segment whose header never made it to disk holds nothing; nor does one with a
  // good header and not a byte after it (the active segment of an open with no write since,
  // which would otherwise pile up one file per restart).
  const empty =
    records === 0 && (header.ok ? cursor.validEnd === bytes.length && hint !== undefined : newest);
  if (empty) {
    await removeEmptySegment(dir, segmentPath, id, set, report);
    return;
  }
  if (cursor.tailBytes === 0) return;
  if (newest) {
    await truncateTail(segmentPath, cursor.validEnd);
    segment.size = cursor.validEnd;
    segment.syncedSize = cursor.validEnd;
    report.tornBytesTruncated += cursor.tailBytes;
    return;
  }
  const reason =
    header.ok || records > 0
      ? "bad record at segment end"
      : `bad segment header (${header.reason})`;
  reportCorrupt(corruptions, bytes, id, cursor.validEnd, cursor.tailBytes, reason);
}

function reportCorrupt(
  corruptions: CorruptionLog,
  bytes: Buffer,
  segmentId: number,
  offset: number,
  length: number,
  reason: string,
): void {
  corruptions.add({
    segmentId,
    offset,
    bytes: length,
    detectedBy: "recovery",
    reason,
    ...claimedKeyAt(bytes, offset, length),
  });
}

/** A segment that holds nothing (see scanSegment): drop the file. */
async function removeEmptySegment(
  dir: string,
  segmentPath: string,
  id: number,
  set: SegmentSet,
  report: RecoveryReport,
): Promise<void> {
  const segment = set.get(id);
  set.delete(id);
  await segment?.close();
  await fs.rm(segmentPath, { force: true });
  await syncDirectory(dir);
  report.emptySegmentsRemoved += 1;
}

async function truncateTail(segmentPath: string, validEnd: number): Promise<void> {
  const handle = await fs.open(segmentPath, "r+");
  try {
    await handle.truncate(validEnd);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
