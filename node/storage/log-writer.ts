// Appends batches to the active segment, updates the key directory only after the bytes are in
// the file, and undoes both (truncate + restore) when a write or fsync fails. Rolls segments
// over at segmentBytesMax. Does IO; driven one call at a time by the WriteQueue.

import * as fs from "node:fs";
import { promisify } from "node:util";
import { HintBuilder } from "./hint-file.js";
import { RecordKind, SEGMENT_HEADER_BYTES } from "./record-format.js";
import {
  TMP_SUFFIX,
  createSegment,
  hintFileName,
  pathIn,
  segmentFileName,
  type Segment,
} from "./segment.js";
import type { SegmentSet } from "./segment-set.js";
import type { CommitSink, QueuedWrite } from "./write-queue.js";

const ftruncateAsync = promisify(fs.ftruncate);

/** One undo entry: a key's location before an unsynced write changed it. */
interface UndoEntry {
  readonly id: string;
  readonly segmentId: number;
  readonly offset: number;
  readonly size: number;
  readonly versionHash: number;
}

/**
 * The {@link CommitSink} of the log engine. Invariant: the key directory never points at bytes
 * beyond `active.size`, and after a failed sync and its rollback nothing points beyond
 * `active.syncedSize`.
 */
export class LogWriter implements CommitSink {
  readonly #dir: string;
  readonly #set: SegmentSet;
  readonly #segmentBytesMax: number;
  readonly #onRotate: () => void;
  /** Told of the key ids a rollback pointed back at older records. */
  readonly #onRollback: (ids: readonly string[]) => void;
  #active: Segment;
  #undo: UndoEntry[] = [];
  /** Set after a failed write or sync: the active file may hold unknown bytes, so roll over. */
  #broken = false;
  #syncing: Promise<void> | undefined;
  #syncFailure: Error | undefined;
  /**
   * The hint of the active segment, an entry per record appended; dropped (the segment is then
   * scanned at the next open) once a write or sync failed in it, since a rollback cuts records.
   */
  #hint: HintBuilder | undefined;
  /** Hint files being written in the background, awaited by close(). */
  readonly #hintWrites = new Set<Promise<void>>();
  rotations = 0;
  /** Hint files written for filled segments (and the active one at close); failures besides. */
  hintsWritten = 0;
  hintFailures = 0;
  /** Rollbacks so far: a merge that saw one while it copied gives up (merge.ts). */
  rollbacks = 0;

  constructor(
    dir: string,
    set: SegmentSet,
    active: Segment,
    segmentBytesMax: number,
    onRotate: () => void,
    onRollback: (ids: readonly string[]) => void = () => undefined,
  ) {
    this.#dir = dir;
    this.#set = set;
    this.#active = active;
    this.#segmentBytesMax = segmentBytesMax;
    this.#onRotate = onRotate;
    this.#onRollback = onRollback;
    this.#hint = active.size === SEGMENT_HEADER_BYTES ? new HintBuilder() : undefined;
  }

  /** The segment appends go to. */
  get active(): Segment {
    return this.#active;
  }

  get unsynced(): boolean {
    return this.#active.size > this.#active.syncedSize;
  }

  async append(batch: readonly QueuedWrite[]): Promise<void> {
    if (this.#syncFailure !== undefined) throw this.#syncFailure;
    if (this.#broken || this.#active.size >= this.#segmentBytesMax) await this.rotate();
    const active = this.#active;
    const records = batch.map((write) => write.record);
    let length = 0;
    for (const record of records) length += record.length;
    const start = active.size;
    try {
      await active.writeAll(records, start);
    } catch (error) {
      this.#hint = undefined;
      await this.#truncate(active, start);
      throw error;
    }
    active.size = start + length;
    let offset = start;
    for (const write of batch) {
      this.#apply(write, active, offset);
      offset += write.record.length;
    }
  }

  /**
   * fdatasyncs the active segment. One sync runs at a time; an append may run alongside it (the
   * queue pipelines the next batch's write with this batch's fsync), so only the bytes and undo
   * entries present when the sync began count as synced. A failure is remembered: appends are
   * refused until the queue calls {@link rollback}.
   */
  async sync(): Promise<void> {
    await this.#syncing?.catch(() => undefined);
    if (this.#syncFailure !== undefined) throw this.#syncFailure;
    const active = this.#active;
    if (active.size === active.syncedSize) return;
    const size = active.size;
    const undoCount = this.#undo.length;
    const syncing = active.sync();
    this.#syncing = syncing;
    try {
      await syncing;
    } catch (error) {
      this.#syncFailure = error instanceof Error ? error : new Error(String(error));
      this.#broken = true;
      this.#hint = undefined;
      throw error;
    } finally {
      if (this.#syncing === syncing) this.#syncing = undefined;
    }
    active.syncedSize = size;
    this.#undo.splice(0, undoCount);
  }

  /**
   * After a failed sync, with no append in flight: points every key changed since the last good
   * sync back to its old record, cuts the file back to the synced length, and reports the keys.
   */
  async rollback(): Promise<void> {
    await this.#syncing?.catch(() => undefined);
    const active = this.#active;
    const ids = new Set<string>();
    for (let index = this.#undo.length - 1; index >= 0; index -= 1) {
      const entry = this.#undo[index] as UndoEntry;
      this.#set.restore(entry.id, entry.segmentId, entry.offset, entry.size, entry.versionHash);
      ids.add(entry.id);
    }
    this.#undo = [];
    this.#hint = undefined;
    this.rollbacks += 1;
    // Reported before the first await: reads see the restored records from here on, and the
    // replica must renew its actor before any write can pick a dot from a restored copy.
    if (ids.size > 0) this.#onRollback([...ids]);
    active.size = active.syncedSize;
    await this.#truncate(active, active.syncedSize);
    this.#broken = true;
    this.#syncFailure = undefined;
  }

  /**
   * Freezes the active segment (synced first, so every frozen segment is wholly durable) and
   * starts a new one. Called between batches, or from a control task for a merge.
   */
  async rotate(): Promise<void> {
    try {
      await this.sync();
    } catch (error) {
      // Nothing else will roll back a sync that failed here (the queue only settles its own).
      await this.rollback();
      throw error;
    }
    const frozen = this.#active;
    const hint = this.#hint;
    const id = this.#set.nextActiveId();
    const next = await createSegment(id, pathIn(this.#dir, segmentFileName(id)), 0, this.#dir);
    this.#set.add(next);
    this.#active = next;
    this.#hint = new HintBuilder();
    this.#broken = false;
    this.rotations += 1;
    if (hint !== undefined) this.#writeHint(frozen, hint);
    this.#onRotate();
  }

  /**
   * At close, with every write applied: writes the active segment's hint (it is frozen from the
   * next open on) when the close is clean and every byte of it is synced, then waits for the
   * hints of filled segments still being written.
   */
  async close(writeActiveHint: boolean): Promise<void> {
    const active = this.#active;
    const hint = this.#hint;
    this.#hint = undefined;
    if (writeActiveHint && hint !== undefined && active.size === active.syncedSize) {
      this.#writeHint(active, hint);
    }
    while (this.#hintWrites.size > 0) await Promise.all(this.#hintWrites);
  }

  /** Writes the hints recovery made of the segments it scanned (frozen from this open on). */
  keepHints(hints: readonly { readonly segment: Segment; readonly hint: HintBuilder }[]): void {
    for (const { segment, hint } of hints) this.#writeHint(segment, hint);
  }

  /**
   * Writes a frozen segment's hint in the background: tmp then rename, no fsync. A hint that a
   * crash leaves torn fails its CRC, and one that does not match the segment's length is not
   * used, so the worst case is a scan at the next open. A segment merged away meanwhile leaves
   * an orphan that the next open deletes.
   */
  #writeHint(segment: Segment, hint: HintBuilder): void {
    if (segment.size <= SEGMENT_HEADER_BYTES) return;
    const parts = hint.finishParts(segment.id, segment.size);
    const file = pathIn(this.#dir, hintFileName(segment.id));
    const tmp = `${file}${TMP_SUFFIX}`;
    const writing = writeParts(tmp, parts)
      .then(() => fs.promises.rename(tmp, file))
      .then(
        () => {
          this.hintsWritten += 1;
        },
        () => {
          this.hintFailures += 1;
        },
      )
      .finally(() => this.#hintWrites.delete(writing));
    this.#hintWrites.add(writing);
  }

  /** True when the active segment holds no record yet. */
  get activeIsEmpty(): boolean {
    return this.#active.size <= SEGMENT_HEADER_BYTES;
  }

  #apply(write: QueuedWrite, segment: Segment, offset: number): void {
    const keydir = this.#set.keydir;
    const slot = keydir.slotOf(write.id);
    this.#undo.push(
      slot < 0
        ? { id: write.id, segmentId: -1, offset: 0, size: 0, versionHash: 0 }
        : {
            id: write.id,
            segmentId: keydir.segmentIdAt(slot),
            offset: keydir.offsetAt(slot),
            size: keydir.sizeAt(slot),
            versionHash: keydir.versionHashAt(slot),
          },
    );
    const put = write.kind === RecordKind.put;
    this.#hint?.add(write.id, offset, write.record.length, write.versionHash, !put);
    if (put) {
      this.#set.applyPut(write.id, segment, offset, write.record.length, write.versionHash);
    } else {
      this.#set.applyRemove(write.id);
    }
  }

  /** Cuts the file back to `size`; if even that fails, the segment is abandoned at next append. */
  async #truncate(segment: Segment, size: number): Promise<void> {
    try {
      await ftruncateAsync(segment.fd, size);
    } catch {
      this.#broken = true;
    }
  }
}

/** Writes `parts` one after another as the file `file` (created or truncated). */
async function writeParts(file: string, parts: readonly Buffer[]): Promise<void> {
  const handle = await fs.promises.open(file, "w");
  try {
    // writev takes at most IOV_MAX (1024) buffers a call on Linux; a hint is a few dozen.
    for (let from = 0; from < parts.length; from += 512) {
      await handle.writev(parts.slice(from, from + 512));
    }
  } finally {
    await handle.close();
  }
}
