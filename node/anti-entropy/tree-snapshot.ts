// The anti-entropy trees' snapshot: what a node's trees and tombstone index held at a clean stop,
// with the state of the storage they describe, so that the next start loads them instead of
// reading every object again (Riak keeps its AAE trees on disk for the same reason). Encoding and
// decoding only; the caller does the file IO.
//
// Header: magic u32 BE ("DKVT") | version u16 | reserved u16 | partition count u32 | branch count
// u16 | leaves per branch u16 | key count u32 | tombstone count u32 | state bytes u32 | built at
// ms f64 | reserved u32 | state (UTF-8). Each key: version hash high i32 | low i32 | partition u16 |
// leaf u16 | id bytes u32 | id (UTF-8). Each tombstone: since ms f64 | partition u16 | reserved
// u16 | id bytes u32 | id. Trailer: crc32 of all before it.

import { crc32 } from "node:zlib";
import type { TreeShape } from "../core/merkle-tree.js";
import { KEY_DIRECTORY_KEYS_MAX } from "../storage/key-directory.js";

/** Magic of a tree snapshot: "DKVT". */
const SNAPSHOT_MAGIC = 0x444b5654;
const SNAPSHOT_FORMAT_VERSION = 1;
const HEADER_BYTES = 40;
const KEY_FIXED_BYTES = 16;
const TOMBSTONE_FIXED_BYTES = 16;
const CHUNK_BYTES = 1 << 20;

/** What a snapshot describes: the trees' geometry and the storage state they were taken of. */
export interface SnapshotHeader {
  readonly partitionCount: number;
  readonly shape: TreeShape;
  /** The storage's state token at the stop (Storage.stateToken): equal tokens, equal contents. */
  readonly state: string;
}

/** What a snapshot holds besides its entries. */
export interface SnapshotFacts extends SnapshotHeader {
  /** Wall time the trees were last built by reading every object (restores keep it). */
  readonly builtAtMs: number;
}

/** Receives a snapshot's keys and tombstones, in the order they were written. */
export interface SnapshotVisitor {
  key(id: string, high: number, low: number, partition: number, leaf: number): void;
  tombstone(id: string, partition: number, sinceMs: number): void;
}

/** Accumulates a snapshot in 1 MiB chunks: keys first, then tombstones. */
export class SnapshotBuilder {
  readonly #header: SnapshotFacts;
  readonly #chunks: Buffer[] = [];
  #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #used = 0;
  #keys = 0;
  #tombstones = 0;

  constructor(header: SnapshotFacts) {
    this.#header = header;
  }

  key(id: string, high: number, low: number, partition: number, leaf: number): void {
    if (this.#tombstones > 0) throw new Error("a snapshot's keys come before its tombstones");
    const at = this.#reserve(KEY_FIXED_BYTES, id);
    this.#chunk.writeInt32LE(high, at);
    this.#chunk.writeInt32LE(low, at + 4);
    this.#chunk.writeUInt16LE(partition, at + 8);
    this.#chunk.writeUInt16LE(leaf, at + 10);
    this.#keys += 1;
  }

  tombstone(id: string, partition: number, sinceMs: number): void {
    const at = this.#reserve(TOMBSTONE_FIXED_BYTES, id);
    this.#chunk.writeDoubleLE(sinceMs, at);
    this.#chunk.writeUInt16LE(partition, at + 8);
    this.#chunk.writeUInt16LE(0, at + 10);
    this.#tombstones += 1;
  }

  /** Writes the id after `fixed` bytes and the id's length in the fixed part's last 4 bytes. */
  #reserve(fixed: number, id: string): number {
    const idBytes = Buffer.byteLength(id, "utf8");
    const needed = fixed + idBytes;
    if (this.#used + needed > this.#chunk.length) {
      this.#chunks.push(this.#chunk.subarray(0, this.#used));
      this.#chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, needed));
      this.#used = 0;
    }
    const at = this.#used;
    this.#chunk.writeUInt32LE(idBytes, at + fixed - 4);
    this.#chunk.write(id, at + fixed, "utf8");
    this.#used = at + needed;
    return at;
  }

  /** The whole file. */
  finish(): Buffer {
    const { partitionCount, shape, state } = this.#header;
    const stateBytes = Buffer.from(state, "utf8");
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32BE(SNAPSHOT_MAGIC, 0);
    header.writeUInt16LE(SNAPSHOT_FORMAT_VERSION, 4);
    header.writeUInt32LE(partitionCount, 8);
    header.writeUInt16LE(shape.branchCount, 12);
    header.writeUInt16LE(shape.leavesPerBranch, 14);
    header.writeUInt32LE(this.#keys, 16);
    header.writeUInt32LE(this.#tombstones, 20);
    header.writeUInt32LE(stateBytes.length, 24);
    header.writeDoubleLE(this.#header.builtAtMs, 28);
    const parts = [header, stateBytes, ...this.#chunks, this.#chunk.subarray(0, this.#used)];
    const body = Buffer.concat(parts);
    const trailer = Buffer.allocUnsafe(4);
    trailer.writeUInt32LE(crc32(body), 0);
    return Buffer.concat([body, trailer]);
  }
}

/** A snapshot that checked, read a chunk at a time. */
export interface SnapshotReader {
  readonly keys: number;
  readonly tombstones: number;
  readonly builtAtMs: number;
  /** Visits up to `count` more entries; returns false once every entry has been visited. */
  next(count: number, visit: SnapshotVisitor): boolean;
}

/**
 * Checks a snapshot against what this node expects (its trees' geometry and its storage's
 * state now): the checksum, the header and every entry's bounds, before anything is visited,
 * so a reader never stops half way and leaves the trees half restored. A snapshot that does
 * not check comes back with the reason: the caller rebuilds from storage.
 */
export function openSnapshot(
  bytes: Buffer,
  expected: SnapshotHeader,
):
  | { readonly ok: true; readonly reader: SnapshotReader }
  | { readonly ok: false; readonly reason: string } {
  const found = checkedHeader(bytes, expected);
  if (!found.ok) return found;
  const total = found.keys + found.tombstones;
  const leaves = expected.shape.branchCount * expected.shape.leavesPerBranch;
  const bad = walk(bytes, found, 0, total, leaves, undefined);
  if (typeof bad === "string") return { ok: false, reason: bad };
  if (bad !== found.end) return { ok: false, reason: "bytes left after the last entry" };
  let index = 0;
  let at = found.entriesAt;
  const reader: SnapshotReader = {
    keys: found.keys,
    tombstones: found.tombstones,
    builtAtMs: found.builtAtMs,
    next(count: number, visit: SnapshotVisitor): boolean {
      const upTo = Math.min(total, index + count);
      at = walk(bytes, { ...found, entriesAt: at }, index, upTo, leaves, visit) as number;
      index = upTo;
      return index < total;
    },
  };
  return { ok: true, reader };
}

interface Layout {
  readonly ok: true;
  readonly keys: number;
  readonly tombstones: number;
  readonly entriesAt: number;
  readonly end: number;
  readonly partitionCount: number;
  readonly builtAtMs: number;
}

function checkedHeader(
  bytes: Buffer,
  expected: SnapshotHeader,
): Layout | { readonly ok: false; readonly reason: string } {
  if (bytes.length < HEADER_BYTES + 4) return { ok: false, reason: "too short" };
  if (bytes.readUInt32BE(0) !== SNAPSHOT_MAGIC) return { ok: false, reason: "not a snapshot" };
  const version = bytes.readUInt16LE(4);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    return {
      ok: false,
      reason: `format version ${version}, this build reads ${SNAPSHOT_FORMAT_VERSION}`,
    };
  }
  const end = bytes.length - 4;
  if (crc32(bytes.subarray(0, end)) !== bytes.readUInt32LE(end)) {
    return { ok: false, reason: "checksum mismatch" };
  }
  const { partitionCount, shape } = expected;
  if (
    bytes.readUInt32LE(8) !== partitionCount ||
    bytes.readUInt16LE(12) !== shape.branchCount ||
    bytes.readUInt16LE(14) !== shape.leavesPerBranch
  ) {
    return { ok: false, reason: "taken of trees of another shape or partition count" };
  }
  const keys = bytes.readUInt32LE(16);
  const tombstones = bytes.readUInt32LE(20);
  const stateBytes = bytes.readUInt32LE(24);
  if (keys > KEY_DIRECTORY_KEYS_MAX || HEADER_BYTES + stateBytes > end) {
    return { ok: false, reason: "header out of range" };
  }
  const builtAtMs = bytes.readDoubleLE(28);
  if (!Number.isFinite(builtAtMs)) return { ok: false, reason: "header out of range" };
  const state = bytes.toString("utf8", HEADER_BYTES, HEADER_BYTES + stateBytes);
  if (state !== expected.state) {
    return { ok: false, reason: "the storage changed since it was taken" };
  }
  return {
    ok: true,
    keys,
    tombstones,
    entriesAt: HEADER_BYTES + stateBytes,
    end,
    partitionCount,
    builtAtMs,
  };
}

/**
 * Walks entries `from` to `to` (keys first, then tombstones) starting at `layout.entriesAt`;
 * returns the offset after them, or what is wrong. Visits only when `visit` is given.
 */
function walk(
  bytes: Buffer,
  layout: Layout,
  from: number,
  to: number,
  leaves: number,
  visit: SnapshotVisitor | undefined,
): number | string {
  let at = layout.entriesAt;
  for (let index = from; index < to; index++) {
    const isKey = index < layout.keys;
    const fixed = isKey ? KEY_FIXED_BYTES : TOMBSTONE_FIXED_BYTES;
    if (at + fixed > layout.end) return "entries run past the end";
    const idBytes = bytes.readUInt32LE(at + fixed - 4);
    const idEnd = at + fixed + idBytes;
    if (idEnd > layout.end) return "an id runs past the end";
    const partition = bytes.readUInt16LE(at + 8);
    if (partition >= layout.partitionCount) return `partition ${partition} out of range`;
    if (isKey) {
      const leaf = bytes.readUInt16LE(at + 10);
      if (leaf >= leaves) return `leaf ${leaf} out of range`;
      if (visit !== undefined) {
        const id = bytes.toString("utf8", at + fixed, idEnd);
        visit.key(id, bytes.readInt32LE(at), bytes.readInt32LE(at + 4), partition, leaf);
      }
    } else {
      const sinceMs = bytes.readDoubleLE(at);
      if (!Number.isFinite(sinceMs)) return "a tombstone's time is not a number";
      visit?.tombstone(bytes.toString("utf8", at + fixed, idEnd), partition, sinceMs);
    }
    at = idEnd;
  }
  return at;
}
