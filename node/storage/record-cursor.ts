// Walks the records of one segment's bytes in order, stepping over corrupt stretches by
// resynchronising on the next valid record, and says where the valid data ends. Pure.

import {
  RECORD_HEADER_BYTES,
  RecordKind,
  SEGMENT_HEADER_BYTES,
  checkRecordAt,
  findNextRecord,
} from "./record-format.js";

/** What one {@link RecordCursor.next} step found. */
export type CursorStep = "record" | "corrupt" | "end";

/**
 * A cursor over the records of a segment buffer. It allocates nothing per record: after a
 * "record" step its fields describe that record; after a "corrupt" step `corruptOffset` and
 * `corruptBytes` name the skipped stretch (a bad record followed by good ones); at "end",
 * `validEnd` is where the last valid record ends and `tailBytes` counts the bytes after it
 * that hold no valid record (a torn tail when this is the last segment).
 */
export class RecordCursor {
  offset = 0;
  size = 0;
  kind: RecordKind = RecordKind.put;
  idStart = 0;
  idEnd = 0;
  valueStart = 0;
  corruptOffset = 0;
  corruptBytes = 0;
  validEnd = 0;
  tailBytes = 0;
  readonly #buffer: Buffer;
  #position: number;

  /** Starts at `start`, normally just after the segment header. */
  constructor(buffer: Buffer, start: number = SEGMENT_HEADER_BYTES) {
    this.#buffer = buffer;
    this.#position = Math.min(start, buffer.length);
    this.validEnd = this.#position;
  }

  /** Advances by one record or one corrupt stretch. */
  next(): CursorStep {
    const buffer = this.#buffer;
    const position = this.#position;
    if (position >= buffer.length) return this.#end(position);
    const size = checkRecordAt(buffer, position);
    if (size > 0) {
      this.#describe(position, size);
      this.#position = position + size;
      this.validEnd = this.#position;
      return "record";
    }
    const resume = findNextRecord(buffer, position + 1);
    if (resume < 0) return this.#end(position);
    this.corruptOffset = position;
    this.corruptBytes = resume - position;
    this.#position = resume;
    return "corrupt";
  }

  #describe(offset: number, size: number): void {
    const buffer = this.#buffer;
    this.offset = offset;
    this.size = size;
    this.kind = buffer[offset + 10] as RecordKind;
    this.idStart = offset + 22;
    this.idEnd =
      offset +
      RECORD_HEADER_BYTES +
      buffer.readUInt16LE(offset + 22) +
      buffer.readUInt32LE(offset + 16);
    this.valueStart = this.idEnd;
  }

  #end(position: number): CursorStep {
    this.validEnd = position;
    this.tailBytes = this.#buffer.length - position;
    this.#position = this.#buffer.length;
    return "end";
  }
}
