// The on-disk byte layout of the log engine: segment headers and records, how they are encoded,
// checked and found again after a corrupt stretch. Pure: buffers in, numbers out, no IO.

import { crc32 } from "node:zlib";

/** Magic at the start of every segment file: "DKVS". */
export const SEGMENT_MAGIC = 0x444b5653;
/** Version of the segment and record layout; bumped on any incompatible change. */
export const SEGMENT_FORMAT_VERSION = 1;
/** Bytes of the segment header: magic u32, version u16, flags u16, id u48, reserved, crc u32. */
export const SEGMENT_HEADER_BYTES = 24;
/** Segment header flag: the segment was written by a merge. */
export const SEGMENT_FLAG_MERGED = 1;

/**
 * Bytes of a record header. Little-endian layout:
 * `0 crc32 u32 | 4 length u32 | 8 magic u16 | 10 kind u8 | 11 flags u8 | 12 valueLength u32 |
 *  16 keyLength u32 | 20 reserved u16 | 22 bucketLength u16 | 24 bucket | key | value`.
 * The crc covers every byte after it; `length` counts every byte after itself. Putting the
 * bucket length last makes bytes [22, 24 + bucket + key) the record's key-directory id.
 */
export const RECORD_HEADER_BYTES = 24;
/** Per-record magic so that a scan can find the next record after a corrupt stretch. */
export const RECORD_MAGIC = 0xd7c5;
const RECORD_MAGIC_BYTES = Buffer.from([RECORD_MAGIC & 0xff, RECORD_MAGIC >>> 8]);
const RECORD_MAGIC_OFFSET = 8;
const ID_OFFSET = 22;

/** What a record says about its key. */
export const RecordKind = { put: 1, tombstone: 2 } as const;
/** A record kind: put (the value follows) or tombstone (the key was removed). */
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** Largest value of the u16 bucket-length field. */
export const BUCKET_BYTES_MAX = 0xffff;

/** Builds the key-directory id of (bucket, key): latin1 of `bucketLength u16 LE | bucket | key`. */
export function keyIdOf(bucket: string, key: Uint8Array): string {
  const bucketBytes = Buffer.byteLength(bucket, "utf8");
  const id = Buffer.allocUnsafe(2 + bucketBytes + key.byteLength);
  id.writeUInt16LE(bucketBytes, 0);
  id.write(bucket, 2, "utf8");
  id.set(key, 2 + bucketBytes);
  return id.toString("latin1");
}

/** Splits a key-directory id back into bucket and key; inverse of {@link keyIdOf}. */
export function parseRecordKeyId(id: string): { bucket: string; key: Uint8Array } {
  const bytes = Buffer.from(id, "latin1");
  const bucketBytes = bytes.readUInt16LE(0);
  const bucket = bytes.toString("utf8", 2, 2 + bucketBytes);
  const key = new Uint8Array(bytes.subarray(2 + bucketBytes));
  return { bucket, key };
}

/**
 * The version hash the key directory keeps for a record: the record's own CRC-32, which covers
 * its kind, bucket, key and object, so equal records have equal hashes. The log engine compares
 * it only against a record it just wrote (the object cache's check); reading it back from the
 * header, checked already, costs no second pass over the object.
 */
export function versionHashOf(record: Uint8Array, offset = 0): number {
  return (
    (record[offset]! | (record[offset + 1]! << 8) | (record[offset + 2]! << 16)) +
    record[offset + 3]! * 0x1000000
  );
}

/**
 * Encodes one record of (bucket, key); a tombstone has an empty value. Callers enforce the key
 * and object limits; the field widths are asserted here. {@link recordIdOf} gives its id.
 */
export function encodeRecord(
  kind: RecordKind,
  bucket: string,
  key: Uint8Array,
  value: Uint8Array,
): Buffer {
  const bucketBytes = Buffer.byteLength(bucket, "utf8");
  if (bucketBytes > BUCKET_BYTES_MAX) throw new Error(`bucket name too long: ${bucketBytes} bytes`);
  if (kind === RecordKind.tombstone && value.byteLength !== 0) {
    throw new Error("a tombstone record carries no value");
  }
  const size = RECORD_HEADER_BYTES + bucketBytes + key.byteLength + value.byteLength;
  const record = Buffer.allocUnsafe(size);
  record.writeUInt32LE(size - 8, 4);
  record.writeUInt16LE(RECORD_MAGIC, 8);
  record[10] = kind;
  record[11] = 0;
  record.writeUInt32LE(value.byteLength, 12);
  record.writeUInt32LE(key.byteLength, 16);
  record.writeUInt16LE(0, 20);
  record.writeUInt16LE(bucketBytes, 22);
  record.write(bucket, RECORD_HEADER_BYTES, "utf8");
  record.set(key, RECORD_HEADER_BYTES + bucketBytes);
  record.set(value, size - value.byteLength);
  record.writeUInt32LE(crc32(record.subarray(4)), 0);
  return record;
}

/** The key-directory id of an encoded record (bytes [22, 24 + bucket + key)). */
export function recordIdOf(record: Buffer): string {
  const idEnd = RECORD_HEADER_BYTES + record.readUInt16LE(22) + record.readUInt32LE(16);
  return record.toString("latin1", ID_OFFSET, idEnd);
}

/** Where the parts of a checked record lie inside the buffer it was checked in. */
export interface RecordView {
  readonly offset: number;
  readonly size: number;
  readonly kind: RecordKind;
  /** The key-directory id spans [idStart, idEnd). */
  readonly idStart: number;
  readonly idEnd: number;
  /** The value spans [valueStart, offset + size). */
  readonly valueStart: number;
}

/**
 * Checks the record starting at `offset` and returns its size in bytes, or 0 when the bytes
 * there are not a whole valid record (short, wrong magic, inconsistent lengths, bad crc).
 */
export function checkRecordAt(buffer: Buffer, offset: number): number {
  if (offset + RECORD_HEADER_BYTES > buffer.length) return 0;
  if (buffer.readUInt16LE(offset + RECORD_MAGIC_OFFSET) !== RECORD_MAGIC) return 0;
  const kind = buffer[offset + 10];
  if (kind !== RecordKind.put && kind !== RecordKind.tombstone) return 0;
  if (buffer[offset + 11] !== 0 || buffer.readUInt16LE(offset + 20) !== 0) return 0;
  const valueBytes = buffer.readUInt32LE(offset + 12);
  if (kind === RecordKind.tombstone && valueBytes !== 0) return 0;
  const size =
    RECORD_HEADER_BYTES +
    buffer.readUInt16LE(offset + 22) +
    buffer.readUInt32LE(offset + 16) +
    valueBytes;
  if (buffer.readUInt32LE(offset + 4) !== size - 8) return 0;
  if (offset + size > buffer.length) return 0;
  const expected = buffer.readUInt32LE(offset);
  if (crc32(buffer.subarray(offset + 4, offset + size)) !== expected) return 0;
  return size;
}

/** Describes the record at `offset`, which {@link checkRecordAt} has already accepted. */
export function viewRecordAt(buffer: Buffer, offset: number, size: number): RecordView {
  const bucketBytes = buffer.readUInt16LE(offset + 22);
  const keyBytes = buffer.readUInt32LE(offset + 16);
  const idEnd = offset + RECORD_HEADER_BYTES + bucketBytes + keyBytes;
  return {
    offset,
    size,
    kind: buffer[offset + 10] as RecordKind,
    idStart: offset + ID_OFFSET,
    idEnd,
    valueStart: idEnd,
  };
}

/**
 * Finds the first offset ≥ `from` where a valid record starts, or -1. Used to resynchronise
 * after a corrupt stretch: candidates are positions of the per-record magic, confirmed by the
 * length fields and the crc, so a false match needs a whole valid record inside a value.
 */
export function findNextRecord(buffer: Buffer, from: number): number {
  let search = from + RECORD_MAGIC_OFFSET;
  for (;;) {
    const found = buffer.indexOf(RECORD_MAGIC_BYTES, search);
    if (found < 0) return -1;
    const candidate = found - RECORD_MAGIC_OFFSET;
    if (checkRecordAt(buffer, candidate) > 0) return candidate;
    search = found + 1;
  }
}

/** Encodes a segment header for segment `id` (an integer below 2^48). */
export function encodeSegmentHeader(id: number, flags: number): Buffer {
  if (!Number.isSafeInteger(id) || id < 0 || id >= 2 ** 48)
    throw new Error(`segment id out of range: ${id}`);
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.writeUInt32BE(SEGMENT_MAGIC, 0);
  header.writeUInt16LE(SEGMENT_FORMAT_VERSION, 4);
  header.writeUInt16LE(flags, 6);
  header.writeUIntLE(id, 8, 6);
  header.writeUInt32LE(crc32(header.subarray(0, 20)), 20);
  return header;
}

/** The outcome of checking a segment header. */
export type SegmentHeaderCheck =
  | { readonly ok: true; readonly id: number; readonly flags: number }
  | { readonly ok: false; readonly reason: string; readonly fatal: boolean };

/**
 * Checks the header at the start of a segment file's bytes. `fatal` marks a sound header of a
 * format this build cannot read (refuse to open) as opposed to damaged bytes (corruption).
 */
export function checkSegmentHeader(buffer: Buffer): SegmentHeaderCheck {
  if (buffer.length < SEGMENT_HEADER_BYTES)
    return { ok: false, reason: "short header", fatal: false };
  if (buffer.readUInt32BE(0) !== SEGMENT_MAGIC)
    return { ok: false, reason: "bad magic", fatal: false };
  if (crc32(buffer.subarray(0, 20)) !== buffer.readUInt32LE(20))
    return { ok: false, reason: "bad header crc", fatal: false };
  const version = buffer.readUInt16LE(4);
  if (version !== SEGMENT_FORMAT_VERSION) {
    return {
      ok: false,
      reason: `unsupported format version ${version} (this build reads ${SEGMENT_FORMAT_VERSION})`,
      fatal: true,
    };
  }
  return { ok: true, id: buffer.readUIntLE(8, 6), flags: buffer.readUInt16LE(6) };
}
