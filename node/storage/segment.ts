// One segment file of the log engine: its id, file descriptor, sizes and live-byte count, how it
// is named, created (header + fsync + directory fsync) and read back. Does IO.

import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { SEGMENT_HEADER_BYTES, encodeSegmentHeader } from "./record-format.js";

const closeAsync = promisify(fs.close);
const openAsync = promisify(fs.open);
const fdatasyncAsync = promisify(fs.fdatasync);
/** Appends up to this size are written synchronously (see Segment.write). */
const SYNC_WRITE_BYTES_MAX = 256 * 1024;
const fsyncAsync = promisify(fs.fsync);

/** File name suffixes; `.tmp` files are merge outputs not yet committed. */
export const SEGMENT_SUFFIX = ".seg";
export const HINT_SUFFIX = ".hint";
export const TMP_SUFFIX = ".tmp";
const ID_DIGITS = 15;

/** The file name of segment `id`, zero-padded so names sort like ids. */
export function segmentFileName(id: number): string {
  return `${String(id).padStart(ID_DIGITS, "0")}${SEGMENT_SUFFIX}`;
}

/** The file name of the hint file of segment `id`. */
export function hintFileName(id: number): string {
  return `${String(id).padStart(ID_DIGITS, "0")}${HINT_SUFFIX}`;
}

/** Parses a name made by {@link segmentFileName} or {@link hintFileName}; undefined otherwise. */
export function parseDataFileName(
  name: string,
): { id: number; kind: "segment" | "hint" } | undefined {
  const match = /^(\d{15})\.(seg|hint)$/.exec(name);
  if (match === null) return undefined;
  return { id: Number(match[1]), kind: match[2] === "seg" ? "segment" : "hint" };
}

/**
 * A segment file. Frozen segments are immutable; the active one grows at `size` (bytes written
 * and visible), of which `syncedSize` are known durable. `liveBytes` counts the bytes of the
 * records the key directory points at, so `deadBytes` is what a merge would reclaim.
 */
export class Segment {
  readonly id: number;
  readonly path: string;
  readonly fd: number;
  size: number;
  syncedSize: number;
  liveBytes = 0;
  /** Set once a merge has replaced this segment; it closes when the last reader leaves. */
  retired = false;
  #readers = 0;
  #closed = false;

  constructor(id: number, filePath: string, fd: number, size: number) {
    this.id = id;
    this.path = filePath;
    this.fd = fd;
    this.size = size;
    this.syncedSize = size;
  }

  /** Bytes of records no longer pointed at by the key directory. */
  get deadBytes(): number {
    return Math.max(0, this.size - SEGMENT_HEADER_BYTES - this.liveBytes);
  }

  /** Reads `length` bytes at `offset` into `target` synchronously (page-cache fast path). */
  readSync(target: Buffer, offset: number, length: number): number {
    return fs.readSync(this.fd, target, 0, length, offset);
  }

  /** Reads `length` bytes at `offset` into a new buffer without blocking the event loop. */
  async read(offset: number, length: number): Promise<Buffer> {
    const target = Buffer.allocUnsafe(length);
    this.#readers += 1;
    try {
      const bytesRead = await readAsync(this.fd, target, length, offset);
      return bytesRead === length ? target : target.subarray(0, bytesRead);
    } finally {
      this.#readers -= 1;
      if (this.retired && this.#readers === 0) await this.close();
    }
  }

  /**
   * Appends `data` at `position` (positional write, looping over short writes). Up to
   * SYNC_WRITE_BYTES_MAX the write is synchronous: an append only copies into the page cache
   * (the fdatasync that makes it durable stays on the thread pool), and a thread-pool round
   * trip per batch cost more than the copy; alternated YCSB-A runs had p99.9 55-71 ms with it
   * against 83-85 ms without (docs/BENCHMARKS.md). Larger batches go to the thread pool, so a
   * kernel that stalls a big writer (dirty-page throttling) does not stall the event loop long.
   */
  async write(data: Buffer, position: number): Promise<void> {
    let written = 0;
    while (written < data.length) {
      const length = data.length - written;
      const bytesWritten =
        length <= SYNC_WRITE_BYTES_MAX
          ? fs.writeSync(this.fd, data, written, length, position + written)
          : await writeAsync(this.fd, data, written, length, position + written);
      if (bytesWritten <= 0)
        throw Object.assign(new Error("short write: 0 bytes written"), { code: "EIO" });
      written += bytesWritten;
    }
  }

  /**
   * Appends `chunks` back to back at `position`, as `write` of their concatenation would. A
   * batch up to SYNC_WRITE_BYTES_MAX goes in one synchronous writev, without first copying its
   * records into one new buffer (at 100 records of 1 KiB, a 120 KiB allocation per batch);
   * after a short write, or for a larger batch, the rest goes through `write`.
   */
  async writeAll(chunks: readonly Buffer[], position: number): Promise<void> {
    if (chunks.length === 1) return this.write(chunks[0]!, position);
    let total = 0;
    for (const chunk of chunks) total += chunk.length;
    const written = total <= SYNC_WRITE_BYTES_MAX ? fs.writevSync(this.fd, chunks, position) : 0;
    if (written === total) return;
    const rest = Buffer.concat(chunks, total).subarray(written);
    await this.write(rest, position + written);
  }

  /** fdatasync: data plus the metadata needed to read it back (the file size). */
  async sync(): Promise<void> {
    await fdatasyncAsync(this.fd);
  }

  /** Marks the segment replaced; closes now unless an asynchronous read is in flight. */
  async retire(): Promise<void> {
    this.retired = true;
    if (this.#readers === 0) await this.close();
  }

  /** Closes the file descriptor once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeAsync(this.fd);
  }
}

/** Opens an existing segment file for reading and appending. */
export async function openSegment(id: number, filePath: string, size: number): Promise<Segment> {
  const fd = await openAsync(filePath, "r+");
  return new Segment(id, filePath, fd, size);
}

/**
 * Creates segment `id` at `filePath`: writes its header, fsyncs the file and, when `dir` is
 * given, the directory, so that a crash never leaves a named segment without its header.
 */
export async function createSegment(
  id: number,
  filePath: string,
  flags: number,
  dir?: string,
): Promise<Segment> {
  const fd = await openAsync(filePath, "wx+");
  try {
    const header = encodeSegmentHeader(id, flags);
    const written = await writeAsync(fd, header, 0, header.length, 0);
    if (written !== header.length)
      throw new Error(`short write of segment header: ${written} bytes`);
    await fsyncAsync(fd);
    if (dir !== undefined) await syncDirectory(dir);
  } catch (error) {
    await closeAsync(fd).catch(() => undefined);
    await fs.promises.rm(filePath, { force: true }).catch(() => undefined);
    throw error;
  }
  return new Segment(id, filePath, fd, SEGMENT_HEADER_BYTES);
}

/** pread into `target`; resolves with the byte count. */
function readAsync(fd: number, target: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.read(fd, target, 0, length, position, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    ),
  );
}

/** pwrite of `data[offset, offset + length)`; resolves with the byte count (maybe short). */
function writeAsync(
  fd: number,
  data: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.write(fd, data, offset, length, position, (error, bytesWritten) =>
      error ? reject(error) : resolve(bytesWritten),
    ),
  );
}

/** fsyncs a directory so that file creations, renames and deletions in it are durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const fd = await openAsync(dir, "r");
  try {
    await fsyncAsync(fd);
  } finally {
    await closeAsync(fd);
  }
}

/** The path of `name` inside `dir`. */
export function pathIn(dir: string, name: string): string {
  return path.join(dir, name);
}
