// Writes the new segments (and their hint files) of a merge as `.tmp` files, rolling over at
// segmentBytesMax; each finished pair is fsynced before the merge may commit it. Does IO.

import * as fs from "node:fs/promises";
import { HintBuilder } from "./hint-file.js";
import { SEGMENT_FLAG_MERGED, SEGMENT_HEADER_BYTES, encodeSegmentHeader } from "./record-format.js";
import { TMP_SUFFIX, hintFileName, pathIn, segmentFileName } from "./segment.js";

const BUFFER_BYTES = 4 << 20;

/** One finished, fsynced output segment waiting to be renamed into place. */
export interface FinishedOutput {
  readonly id: number;
  readonly size: number;
  readonly segmentTmpPath: string;
  readonly hintTmpPath: string;
  /** The hint file bytes, kept to move the key directory over without rereading. */
  readonly hint: Buffer;
}

interface OpenOutput {
  readonly id: number;
  readonly handle: fs.FileHandle;
  size: number;
  readonly hint: HintBuilder;
}

/** The merge's output writer; ids run from `firstId` and must stay below `idLimit`. */
export class MergeOutput {
  readonly #dir: string;
  readonly #segmentBytesMax: number;
  readonly #idLimit: number;
  readonly finished: FinishedOutput[] = [];
  #nextId: number;
  #current: OpenOutput | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  bytesWritten = 0;

  constructor(dir: string, firstId: number, idLimit: number, segmentBytesMax: number) {
    this.#dir = dir;
    this.#nextId = firstId;
    this.#idLimit = idLimit;
    this.#segmentBytesMax = segmentBytesMax;
  }

  /** Copies one live record (already checked, crc included) into the output. */
  async append(record: Buffer, id: string, versionHash: number): Promise<void> {
    if (this.#current !== undefined && this.#current.size >= this.#segmentBytesMax)
      await this.#finishCurrent();
    const current = this.#current ?? (await this.#start());
    current.hint.add(id, current.size, record.length, versionHash);
    current.size += record.length;
    this.#pending.push(record);
    this.#pendingBytes += record.length;
    if (this.#pendingBytes >= BUFFER_BYTES) await this.#flush();
  }

  /** Finishes the last output; afterwards `finished` lists every output. */
  async finish(): Promise<void> {
    if (this.#current !== undefined) await this.#finishCurrent();
  }

  /** Closes and deletes every temporary file (on abort). */
  async discard(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) {
      await current.handle.close().catch(() => undefined);
      await fs.rm(this.#tmpPath(segmentFileName(current.id)), { force: true });
    }
    for (const output of this.finished) {
      await fs.rm(output.segmentTmpPath, { force: true });
      await fs.rm(output.hintTmpPath, { force: true });
    }
  }

  async #start(): Promise<OpenOutput> {
    const id = this.#nextId;
    if (id >= this.#idLimit) throw new Error(`merge ran out of segment ids below ${this.#idLimit}`);
    this.#nextId += 1;
    const handle = await fs.open(this.#tmpPath(segmentFileName(id)), "w");
    this.#current = { id, handle, size: SEGMENT_HEADER_BYTES, hint: new HintBuilder() };
    this.#pending.push(encodeSegmentHeader(id, SEGMENT_FLAG_MERGED));
    this.#pendingBytes += SEGMENT_HEADER_BYTES;
    return this.#current;
  }

  async #flush(): Promise<void> {
    const current = this.#current;
    if (current === undefined || this.#pendingBytes === 0) return;
    const bytes = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    await current.handle.write(bytes, 0, bytes.length);
    this.bytesWritten += bytes.length;
  }

  async #finishCurrent(): Promise<void> {
    await this.#flush();
    const current = this.#current;
    if (current === undefined) return;
    this.#current = undefined;
    await current.handle.sync();
    await current.handle.close();
    const hint = current.hint.finish(current.id, current.size);
    const hintTmpPath = this.#tmpPath(hintFileName(current.id));
    await fs.writeFile(hintTmpPath, hint, { flush: true });
    this.finished.push({
      id: current.id,
      size: current.size,
      segmentTmpPath: this.#tmpPath(segmentFileName(current.id)),
      hintTmpPath,
      hint,
    });
  }

  #tmpPath(name: string): string {
    return pathIn(this.#dir, name + TMP_SUFFIX);
  }
}
