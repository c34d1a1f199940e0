// Where a node keeps its anti-entropy trees' snapshot (tree-snapshot.ts) between a clean stop
// and the next start: one file in its data directory, written whole (tmp, fsync, rename), and
// removed as it is read so that a snapshot is used at most once. Does IO.

import { unlink } from "node:fs/promises";
import path from "node:path";
import { readFileIfExists, writeFileDurably } from "../durable-file.js";

/** The snapshot's file name in a node's data directory. */
export const TREE_SNAPSHOT_FILE = "aae-trees.snapshot";

/** Keeps one snapshot between a stop and the next start. */
export interface TreeSnapshotPort {
  /** The snapshot's bytes, removed from the store; undefined when there is none. */
  take(): Promise<Buffer | undefined>;
  /** Keeps `bytes` as the snapshot, whole or not at all. */
  save(bytes: Buffer): Promise<void>;
}

/** The snapshot kept in `dataDir`'s TREE_SNAPSHOT_FILE. */
export function treeSnapshotFile(dataDir: string): TreeSnapshotPort {
  const file = path.join(dataDir, TREE_SNAPSHOT_FILE);
  return {
    async take(): Promise<Buffer | undefined> {
      const bytes = await readFileIfExists(file);
      if (bytes === undefined) return undefined;
      // Gone before any write: a crash from here on finds no snapshot, or one whose storage
      // state no longer matches, so it is never used twice.
      await unlink(file);
      return bytes;
    },
    save: (bytes: Buffer) => writeFileDurably(file, bytes),
  };
}
