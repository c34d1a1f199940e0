// The engine's in-memory view of its files: every open segment by id, the active one, the key
// directory over them, and the live-byte bookkeeping that keeps the two consistent. No IO.

import { KeyDirectory } from "./key-directory.js";
import { SEGMENT_HEADER_BYTES } from "./record-format.js";
import type { Segment } from "./segment.js";

/**
 * Gap between the ids of successive active segments. Merge outputs take the ids just above the
 * newest merged input, so they sort before the active segment and recovery, which replays in id
 * order, sees merged records before anything written after the merge began.
 */
export const SEGMENT_ID_STRIDE = 2 ** 20;

/** Segments plus the key directory that points into them. */
export class SegmentSet {
  readonly keydir = new KeyDirectory();
  readonly #segments = new Map<number, Segment>();
  #highestId = -1;

  /** The segment with `id`, or undefined. */
  get(id: number): Segment | undefined {
    return this.#segments.get(id);
  }

  /** Registers a segment (recovered, created or produced by a merge). */
  add(segment: Segment): void {
    this.#segments.set(segment.id, segment);
    this.#highestId = Math.max(this.#highestId, segment.id);
  }

  /** Forgets a segment (after a merge replaced it). */
  delete(id: number): void {
    this.#segments.delete(id);
  }

  /** Every segment, in ascending id order. */
  ordered(): Segment[] {
    return [...this.#segments.values()].sort((a, b) => a.id - b.id);
  }

  /** The highest id ever registered; the next active segment goes a stride above it. */
  get highestId(): number {
    return this.#highestId;
  }

  /** Raises the highest id (ids seen on disk but not registered, such as deleted files). */
  noteId(id: number): void {
    this.#highestId = Math.max(this.#highestId, id);
  }

  /** The id for a new active segment. */
  nextActiveId(): number {
    return this.#highestId < 0 ? SEGMENT_ID_STRIDE : this.#highestId + SEGMENT_ID_STRIDE;
  }

  /**
   * Points `id` at a put record, moving its live bytes from the old record's segment. Returns
   * nothing; the caller records the previous location first when it may need to undo.
   */
  applyPut(id: string, segment: Segment, offset: number, size: number, versionHash: number): void {
    this.#releaseCurrent(id);
    this.keydir.set(id, segment.id, offset, size, versionHash);
    segment.liveBytes += size;
  }

  /** Applies a tombstone: the key is gone and its old record becomes dead. */
  applyRemove(id: string): void {
    this.#releaseCurrent(id);
    this.keydir.delete(id);
  }

  /** Sets a key back to an earlier location (undo); `segmentId < 0` means absent. */
  restore(id: string, segmentId: number, offset: number, size: number, versionHash: number): void {
    const segment = segmentId < 0 ? undefined : this.#segments.get(segmentId);
    if (segment === undefined) {
      this.applyRemove(id);
      return;
    }
    this.applyPut(id, segment, offset, size, versionHash);
  }

  /** Dead bytes and total record bytes over the segments below `activeId`. */
  frozenUsage(activeId: number): { deadBytes: number; recordBytes: number; segments: number } {
    let deadBytes = 0;
    let recordBytes = 0;
    let segments = 0;
    for (const segment of this.#segments.values()) {
      if (segment.id >= activeId) continue;
      deadBytes += segment.deadBytes;
      recordBytes += Math.max(0, segment.size - SEGMENT_HEADER_BYTES);
      segments += 1;
    }
    return { deadBytes, recordBytes, segments };
  }

  #releaseCurrent(id: string): void {
    const slot = this.keydir.slotOf(id);
    if (slot < 0) return;
    const previous = this.#segments.get(this.keydir.segmentIdAt(slot));
    if (previous !== undefined) previous.liveBytes -= this.keydir.sizeAt(slot);
  }
}
