// Merge (compaction) of the frozen segments: copy the records the key directory still points
// at into new segments (tmp → fsync → rename → fsync dir, with hint files), move the directory
// over, then delete the old segments oldest first. Reads and writes go on meanwhile. Does IO.

import type { Clock } from "../clock.js";
import * as fs from "node:fs/promises";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { CorruptionLog } from "./corruption-log.js";
import { readHint } from "./hint-file.js";
import type { LogWriter } from "./log-writer.js";
import { MergeOutput, type FinishedOutput } from "./merge-output.js";
import { RECORD_HEADER_BYTES, RecordKind, checkRecordAt, viewRecordAt } from "./record-format.js";
import {
  hintFileName,
  openSegment,
  pathIn,
  segmentFileName,
  syncDirectory,
  type Segment,
} from "./segment.js";
import type { SegmentSet } from "./segment-set.js";
import type { WriteQueue } from "./write-queue.js";

/** Records checked between two yields to the event loop, so a merge never stalls requests. */
const RECORDS_PER_YIELD = 5000;
/** Bytes of consecutive live records read at once. */
const WINDOW_BYTES = 1 << 20;

/** What a merge needs from the engine. */
export interface MergeContext {
  readonly dir: string;
  readonly set: SegmentSet;
  readonly queue: WriteQueue;
  readonly writer: LogWriter;
  readonly corruptions: CorruptionLog;
  readonly segmentBytesMax: number;
  /** True once the engine is closing; the merge then stops and cleans up. */
  readonly stopping: () => boolean;
  /** Times the merge (durationMs). */
  readonly clock: Clock;
}

/** What one merge did. */
export interface MergeResult {
  readonly inputSegments: number;
  readonly outputSegments: number;
  readonly inputBytes: number;
  readonly outputBytes: number;
  readonly durationMs: number;
}

/**
 * Merges every segment older than the active one. The active segment is frozen first when it
 * holds records, so an explicit merge compacts everything written so far. Outputs take ids
 * just above the newest input and below the active segment, so that recovery after a crash at
 * any step replays inputs, then outputs, then newer writes, and gets the same state: outputs
 * only repeat what the inputs already say, and inputs are deleted oldest first, so a surviving
 * suffix of them can never resurrect a key that an output dropped.
 */
export async function mergeFrozenSegments(context: MergeContext): Promise<MergeResult> {
  const started = context.clock.monotonicMs();
  const { inputs, rollbacks } = await context.queue.runExclusive(async () => ({
    inputs: await freezeInputs(context),
    rollbacks: context.writer.rollbacks,
  }));
  const last = inputs[inputs.length - 1];
  if (last === undefined)
    return { inputSegments: 0, outputSegments: 0, inputBytes: 0, outputBytes: 0, durationMs: 0 };
  const output = new MergeOutput(
    context.dir,
    last.id + 1,
    context.writer.active.id,
    context.segmentBytesMax,
  );
  try {
    const live = liveOffsetsOf(context, inputs);
    for (const input of inputs) {
      await copyLiveRecords(context, input, live.get(input.id) ?? new Float64Array(0), output);
    }
    await output.finish();
    if (context.stopping()) throw new Error("merge stopped: storage is closing");
    await context.queue.runExclusive(() => {
      // A failed fsync meanwhile may have pointed keys back at input records the copy had
      // already passed as dead: committing would count those keys corrupt and forget them.
      if (context.writer.rollbacks !== rollbacks) {
        throw new Error("merge abandoned: a failed fsync rolled keys back while it copied");
      }
      return commitOutputs(context, inputs, output.finished);
    });
  } catch (error) {
    await output.discard();
    throw error;
  }
  await deleteInputs(context.dir, inputs);
  return {
    inputSegments: inputs.length,
    outputSegments: output.finished.length,
    inputBytes: inputs.reduce((sum, segment) => sum + segment.size, 0),
    outputBytes: output.bytesWritten,
    durationMs: context.clock.monotonicMs() - started,
  };
}

/** Runs inside the write queue: freezes the active segment if needed, returns the inputs. */
async function freezeInputs(context: MergeContext): Promise<Segment[]> {
  const { writer, set } = context;
  const frozen = (): Segment[] => set.ordered().filter((segment) => segment.id < writer.active.id);
  const newest = frozen().at(-1);
  const idsFree = writer.active.id - (newest?.id ?? 0) - 1;
  if (!writer.activeIsEmpty || idsFree < frozen().length + 2) await writer.rotate();
  return frozen();
}

/**
 * The offsets of the records the key directory points at in each input, in file order: one
 * pass over the directory, so a merge reads the live records and never the dead ones (after a
 * zipfian write load, nine in ten records of a frozen segment are dead).
 */
function liveOffsetsOf(
  context: MergeContext,
  inputs: readonly Segment[],
): Map<number, Float64Array> {
  const { keydir } = context.set;
  const lists = new Map<number, number[]>(inputs.map((segment) => [segment.id, []]));
  keydir.forEach((_, slot) => lists.get(keydir.segmentIdAt(slot))?.push(keydir.offsetAt(slot)));
  const sorted = new Map<number, Float64Array>();
  for (const [id, offsets] of lists) sorted.set(id, Float64Array.from(offsets).sort());
  return sorted;
}

/**
 * Copies the input's live records, read in windows of consecutive live records. Each window is
 * a buffer of its own, since the output keeps views of what it appends until it writes them.
 * A record is copied only if it checks (crc, kind, its key's id) and the key still points at
 * it; one that does not check stays behind, and dropUncopiedKeys counts it as corrupt.
 */
async function copyLiveRecords(
  context: MergeContext,
  input: Segment,
  offsets: Float64Array,
  output: MergeOutput,
): Promise<void> {
  let sinceYield = 0;
  let index = 0;
  while (index < offsets.length) {
    if (context.stopping()) throw new Error("merge stopped: storage is closing");
    const start = offsets[index] as number;
    const window = await input.read(start, Math.max(0, Math.min(WINDOW_BYTES, input.size - start)));
    let next = index;
    while (next < offsets.length) {
      const at = (offsets[next] as number) - start;
      const size =
        at + RECORD_HEADER_BYTES <= window.length ? 8 + window.readUInt32LE(at + 4) : Infinity;
      if (at + size > window.length && at > 0) break; // the next window starts with it
      const record =
        at + size <= window.length
          ? window.subarray(at, at + size)
          : await readWhole(input, start, size); // one record larger than a window
      await copyIfLive(context, input, start + at, record, output);
      next += 1;
      sinceYield += 1;
      if (sinceYield >= RECORDS_PER_YIELD) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
    index = next;
  }
}

/** The record at `offset` read alone, up to the end of the segment. */
async function readWhole(input: Segment, offset: number, size: number): Promise<Buffer> {
  const length = Math.max(0, Math.min(input.size - offset, Number.isFinite(size) ? size : 0));
  return input.read(offset, length);
}

async function copyIfLive(
  context: MergeContext,
  input: Segment,
  offset: number,
  record: Buffer,
  output: MergeOutput,
): Promise<void> {
  const size = checkRecordAt(record, 0);
  if (size !== record.length) return;
  const view = viewRecordAt(record, 0, size);
  if (view.kind !== RecordKind.put) return;
  const id = record.toString("latin1", view.idStart, view.idEnd);
  const keydir = context.set.keydir;
  const slot = keydir.slotOf(id);
  const live =
    slot >= 0 && keydir.segmentIdAt(slot) === input.id && keydir.offsetAt(slot) === offset;
  if (live) await output.append(record, id, keydir.versionHashAt(slot));
}

/**
 * Runs inside the write queue (after a sync, so no undo state refers to the inputs): renames the
 * outputs into place, fsyncs the directory, then points every key that still lives in an input
 * at its copy. A key overwritten or removed during the merge keeps its newer location.
 */
async function commitOutputs(
  context: MergeContext,
  inputs: Segment[],
  finished: FinishedOutput[],
): Promise<void> {
  const { dir, set } = context;
  const inputIds = new Set(inputs.map((segment) => segment.id));
  const opened: Segment[] = [];
  try {
    for (const output of finished) {
      const segmentPath = pathIn(dir, segmentFileName(output.id));
      await fs.rename(output.segmentTmpPath, segmentPath);
      await fs.rename(output.hintTmpPath, pathIn(dir, hintFileName(output.id)));
      opened.push(await openSegment(output.id, segmentPath, output.size));
    }
    await syncDirectory(dir);
  } catch (error) {
    await removeCommitted(dir, finished, opened);
    throw error;
  }
  finished.forEach((output, index) => {
    const segment = opened[index] as Segment;
    set.add(segment);
    readHint(output.hint, output.id, output.size, (id, offset, size, versionHash) => {
      const slot = set.keydir.slotOf(id);
      if (slot >= 0 && inputIds.has(set.keydir.segmentIdAt(slot)))
        set.applyPut(id, segment, offset, size, versionHash);
    });
  });
  dropUncopiedKeys(context, inputs, inputIds);
  for (const input of inputs) {
    set.delete(input.id);
    await input.retire();
  }
}

/**
 * Keys still pointing into an input were not copied because their record had become unreadable
 * since the engine opened (bit rot). Count them as corrupt and forget them, so that reads see
 * them absent and replicas repair them. Walks the directory only in that rare case.
 */
function dropUncopiedKeys(context: MergeContext, inputs: Segment[], inputIds: Set<number>): void {
  if (inputs.every((segment) => segment.liveBytes === 0)) return;
  const { keydir } = context.set;
  const lost: string[] = [];
  keydir.forEach((id, slot) => {
    if (inputIds.has(keydir.segmentIdAt(slot))) lost.push(id);
  });
  for (const id of lost) {
    const location = keydir.get(id);
    context.set.applyRemove(id);
    context.corruptions.add({
      segmentId: location?.segmentId ?? -1,
      offset: location?.offset ?? 0,
      bytes: location?.size ?? 0,
      detectedBy: "merge",
      reason: "live record unreadable during merge",
    });
  }
}

async function removeCommitted(
  dir: string,
  finished: FinishedOutput[],
  opened: Segment[],
): Promise<void> {
  for (const segment of opened) await segment.close().catch(() => undefined);
  for (const output of finished) {
    await fs.rm(pathIn(dir, segmentFileName(output.id)), { force: true });
    await fs.rm(pathIn(dir, hintFileName(output.id)), { force: true });
  }
}

/** Deletes the replaced segments oldest first (see {@link mergeFrozenSegments}), then fsyncs. */
async function deleteInputs(dir: string, inputs: Segment[]): Promise<void> {
  for (const input of inputs) {
    await fs.rm(input.path, { force: true });
    await fs.rm(pathIn(dir, hintFileName(input.id)), { force: true });
  }
  await syncDirectory(dir);
}
