// Hint files: a compact list of the records of one frozen segment (id, offset, size, version
// hash, put or tombstone; no values), so that a restart reads hints instead of scanning values.
// A merge writes one for each segment it makes; the log writer, for each segment it fills (and
// the active one at a clean close). Encoding and decoding are pure; the caller does the file IO.

import { crc32 } from "node:zlib";

/** Magic of a hint file: "DKVH". */
export const HINT_MAGIC = 0x444b5648;
export const HINT_FORMAT_VERSION = 2;
/**
 * Header: magic u32 BE | version u16 | reserved u16 | segment id u48 | reserved u16 |
 * segment bytes u48 | reserved u16 | entry count u32 | reserved u32. Each entry: offset u32 |
 * size u32 | version hash u32 | id length u32 (version 2: bit 31 set for a tombstone) | id
 * bytes. Trailer: crc32 of all before it. Version 1 (merges before 2026-12-07) had no
 * tombstones and is still read; a build that reads only version 1 scans the segment instead.
 */
const TOMBSTONE_BIT = 0x80000000;
const ID_LENGTH_MASK = 0x7fffffff;
export const HINT_HEADER_BYTES = 32;
const ENTRY_FIXED_BYTES = 16;
const CHUNK_BYTES = 1 << 20;

/**
 * Accumulates hint entries in 1 MiB chunks while a merge writes a segment, then produces the
 * file bytes. Entries are in segment order.
 */
export class HintBuilder {
  readonly #chunks: Buffer[] = [];
  #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #used = 0;
  entries = 0;

  /** Adds the entry of the record at `offset`; `id` is the record's key-directory id. */
  add(id: string, offset: number, size: number, versionHash: number, tombstone = false): void {
    const idBytes = id.length;
    const needed = ENTRY_FIXED_BYTES + idBytes;
    if (this.#used + needed > this.#chunk.length) {
      this.#chunks.push(this.#chunk.subarray(0, this.#used));
      this.#chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, needed));
      this.#used = 0;
    }
    const chunk = this.#chunk;
    let at = this.#used;
    chunk.writeUInt32LE(offset, at);
    chunk.writeUInt32LE(size, at + 4);
    chunk.writeUInt32LE(versionHash >>> 0, at + 8);
    chunk.writeUInt32LE(tombstone ? (idBytes | TOMBSTONE_BIT) >>> 0 : idBytes, at + 12);
    at += ENTRY_FIXED_BYTES;
    chunk.write(id, at, "latin1");
    this.#used = at + idBytes;
    this.entries += 1;
  }

  /** The hint file for segment `segmentId` whose file is `segmentBytes` long, in parts. */
  finishParts(segmentId: number, segmentBytes: number): Buffer[] {
    const header = Buffer.alloc(HINT_HEADER_BYTES);
    header.writeUInt32BE(HINT_MAGIC, 0);
    header.writeUInt16LE(HINT_FORMAT_VERSION, 4);
    header.writeUIntLE(segmentId, 8, 6);
    header.writeUIntLE(segmentBytes, 16, 6);
    header.writeUInt32LE(this.entries, 24);
    const parts = [header, ...this.#chunks, this.#chunk.subarray(0, this.#used)];
    // The CRC runs over the parts in turn: no copy of the whole file (a hint of a full segment
    // of small records is megabytes, made while the writer rolls over).
    let crc = 0;
    for (const part of parts) crc = crc32(part, crc);
    const trailer = Buffer.allocUnsafe(4);
    trailer.writeUInt32LE(crc, 0);
    parts.push(trailer);
    return parts;
  }

  /** The whole hint file as one buffer. */
  finish(segmentId: number, segmentBytes: number): Buffer {
    return Buffer.concat(this.finishParts(segmentId, segmentBytes));
  }
}

/** Receives the entries of a hint file, in segment order. */
export type HintVisitor = (
  id: string,
  offset: number,
  size: number,
  versionHash: number,
  tombstone: boolean,
) => void;

/**
 * Checks a hint file against the segment it describes and feeds its entries to `visit`.
 * Returns false, having visited nothing, when the file is damaged, of another format, or does
 * not match the segment's id and length; the caller then scans the segment instead.
 */
export function readHint(
  bytes: Buffer,
  segmentId: number,
  segmentBytes: number,
  visit: HintVisitor,
): boolean {
  if (bytes.length < HINT_HEADER_BYTES + 4) return false;
  const version = bytes.readUInt16LE(4);
  if (bytes.readUInt32BE(0) !== HINT_MAGIC || (version !== 1 && version !== HINT_FORMAT_VERSION))
    return false;
  const lengthMask = version === 1 ? 0xffffffff : ID_LENGTH_MASK;
  if (bytes.readUIntLE(8, 6) !== segmentId || bytes.readUIntLE(16, 6) !== segmentBytes)
    return false;
  const end = bytes.length - 4;
  if (crc32(bytes.subarray(0, end)) !== bytes.readUInt32LE(end)) return false;
  const count = bytes.readUInt32LE(24);
  if (!entriesFit(bytes, count, end, lengthMask)) return false;
  let at = HINT_HEADER_BYTES;
  for (let index = 0; index < count; index += 1) {
    const lengthWord = bytes.readUInt32LE(at + 12);
    const idBytes = (lengthWord & lengthMask) >>> 0;
    const tombstone = lengthMask === ID_LENGTH_MASK && lengthWord >= TOMBSTONE_BIT;
    const id = bytes.toString("latin1", at + ENTRY_FIXED_BYTES, at + ENTRY_FIXED_BYTES + idBytes);
    const [offset, size] = [bytes.readUInt32LE(at), bytes.readUInt32LE(at + 4)];
    visit(id, offset, size, bytes.readUInt32LE(at + 8), tombstone);
    at += ENTRY_FIXED_BYTES + idBytes;
  }
  return true;
}

/** Walks the entry lengths once so that a bad file is refused before anything is applied. */
function entriesFit(bytes: Buffer, count: number, end: number, lengthMask: number): boolean {
  let at = HINT_HEADER_BYTES;
  for (let index = 0; index < count; index += 1) {
    if (at + ENTRY_FIXED_BYTES > end) return false;
    at += ENTRY_FIXED_BYTES + ((bytes.readUInt32LE(at + 12) & lengthMask) >>> 0);
  }
  return at === end;
}
