// Where a node keeps the cursors of the partitions it pulls (node/core/transfer-cursor.ts): a
// file in the data directory, written whole and durably. A file that does not decode is set
// aside and the streams start over: a cursor is only an optimisation, since every stream is
// confirmed by anti-entropy before its partition counts as transferred.

import { rename } from "node:fs/promises";
import path from "node:path";
import { decodePullFile, encodePullFile, type PullFile } from "../core/transfer-cursor.js";
import { readFileIfExists, writeFileDurably } from "../durable-file.js";
import type { Logger } from "../logger.js";
import type { PullFileStore } from "./partition-puller.js";

/** The file in the data directory that holds the transfer cursors. */
export const PULL_FILE = "transfer-cursors.json";

/** The pull file of a node whose data lives in `dataDir`. */
export class FilePullStore implements PullFileStore {
  readonly #file: string;
  readonly #partitionCount: number;
  readonly #leafCount: number;
  readonly #logger: Logger;

  constructor(options: {
    readonly dataDir: string;
    readonly partitionCount: number;
    readonly leafCount: number;
    readonly logger: Logger;
  }) {
    this.#file = path.join(options.dataDir, PULL_FILE);
    this.#partitionCount = options.partitionCount;
    this.#leafCount = options.leafCount;
    this.#logger = options.logger;
  }

  async load(): Promise<PullFile | undefined> {
    const bytes = await readFileIfExists(this.#file);
    if (bytes === undefined) return undefined;
    const decoded = decodePullFile(bytes.toString("utf8"), this.#partitionCount, this.#leafCount);
    if (decoded.ok) return decoded.file;
    const aside = `${this.#file}.unreadable`;
    await rename(this.#file, aside);
    this.#logger.warn(
      { file: this.#file, movedTo: aside, reason: decoded.reason },
      "transfer cursors unreadable; streams start over",
    );
    return undefined;
  }

  save(file: PullFile): Promise<void> {
    return writeFileDurably(this.#file, encodePullFile(file));
  }
}

/** A pull file kept in memory (tests, nodes without a data directory). */
export class MemoryPullStore implements PullFileStore {
  file: PullFile | undefined;

  load(): Promise<PullFile | undefined> {
    return Promise.resolve(this.file);
  }

  save(file: PullFile): Promise<void> {
    this.file = file;
    return Promise.resolve();
  }
}
