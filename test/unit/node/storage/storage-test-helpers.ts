// Helpers shared by the storage tests: temp directories, engine factories, byte helpers and a
// memory model to compare engines with.

import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { fc } from "@fast-check/vitest";
import { afterEach, beforeEach } from "vitest";
import { LmdbStorage } from "../../../../node/storage/lmdb-storage.js";
import { LogStorage } from "../../../../node/storage/log-storage.js";
import type { LogStorageOptions } from "../../../../node/storage/log-storage-options.js";
import { MemoryStorage } from "../../../../node/storage/memory-storage.js";
import type { Storage } from "../../../../node/storage/storage.js";

/** Makes a fresh directory under the OS temp dir. */
export async function makeTempDir(prefix = "dkv-storage-"): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Removes a directory made by {@link makeTempDir}. */
export async function removeDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

/** An engine under test: how to make one over a directory, and whether it survives reopen. */
export interface EngineFactory {
  readonly name: string;
  readonly persistent: boolean;
  /** Whether the engine enforces the DESIGN §7 key/object limits itself (memory does not). */
  readonly enforcesLimits: boolean;
  create(dir: string): Storage;
}

/** The three engines, for `describe.each`. */
export const ENGINE_FACTORIES: readonly EngineFactory[] = [
  { name: "memory", persistent: false, enforcesLimits: false, create: () => new MemoryStorage() },
  {
    name: "log",
    persistent: true,
    enforcesLimits: true,
    create: (dir) => new LogStorage({ dir, segmentBytesMax: 4096 }),
  },
  {
    name: "lmdb",
    persistent: true,
    enforcesLimits: true,
    create: (dir) => new LmdbStorage({ dir }),
  },
];

/** Opens a log engine over `dir` with small segments unless told otherwise. */
export async function openLog(
  dir: string,
  options: Partial<LogStorageOptions> = {},
): Promise<LogStorage> {
  const storage = new LogStorage({ dir, segmentBytesMax: 4096, ...options });
  await storage.open();
  return storage;
}

/**
 * A fresh directory for each test of the calling file, and the log engines the test opens over
 * it with `start`, closed (then the directory removed) after the test. Call at top level.
 */
export function logStorageFixture(): {
  readonly dir: () => string;
  readonly start: (options?: Partial<LogStorageOptions>) => Promise<LogStorage>;
  /** Closes every engine opened so far (as a restart does); the next `start` opens anew. */
  readonly closeAll: () => Promise<void>;
} {
  let dir = "";
  const open: LogStorage[] = [];
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  const closeAll = async (): Promise<void> => {
    for (const storage of open.splice(0)) await storage.close();
  };
  afterEach(async () => {
    await closeAll();
    await removeDir(dir);
  });
  return {
    dir: () => dir,
    closeAll,
    start: async (options = {}) => {
      const storage = await openLog(dir, options);
      open.push(storage);
      return storage;
    },
  };
}

/** UTF-8 bytes of a string. */
export function bytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "utf8"));
}

/** Hex of bytes, or "absent", for readable comparisons. */
export function hex(value: Uint8Array | undefined): string {
  return value === undefined ? "absent" : Buffer.from(value).toString("hex");
}

/** Every entry of an engine as a sorted `bucket/keyhex → objecthex` record. */
export async function snapshot(storage: Storage): Promise<Record<string, string>> {
  const entries: [string, string][] = [];
  for await (const entry of storage.entries()) {
    entries.push([`${entry.bucket}/${hex(entry.key)}`, hex(entry.object)]);
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries);
}

/** One write in a model history. */
export type ModelOp =
  | {
      readonly kind: "put";
      readonly bucket: string;
      readonly key: Uint8Array;
      readonly object: Uint8Array;
    }
  | { readonly kind: "remove"; readonly bucket: string; readonly key: Uint8Array };

/** The state after applying `ops` in order, in the shape of {@link snapshot}. */
export function modelState(ops: readonly ModelOp[]): Record<string, string> {
  const state = new Map<string, string>();
  for (const op of ops) {
    const id = `${op.bucket}/${hex(op.key)}`;
    if (op.kind === "put") state.set(id, hex(op.object));
    else state.delete(id);
  }
  return Object.fromEntries([...state.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The segment files of a log directory, oldest first. */
export async function segmentFiles(dir: string): Promise<string[]> {
  const names = (await fs.readdir(dir)).filter((name) => name.endsWith(".seg")).sort();
  return names.map((name) => path.join(dir, name));
}

/** Random puts (4 in 5) and removes over `keys` keys of buckets "a" and "b", for properties. */
export function modelOpArbitrary(options: {
  readonly keys: number;
  readonly objectBytesMax: number;
}): fc.Arbitrary<ModelOp> {
  const key = fc.integer({ min: 0, max: options.keys - 1 }).map((i) => bytes(`k${i}`));
  const bucket = fc.constantFrom("a", "b");
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("put" as const),
        bucket,
        key,
        object: fc.uint8Array({ maxLength: options.objectBytesMax }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("remove" as const), bucket, key }) },
  );
}

/** A small tmpfs for disk-full tests, mounted by {@link mountSmallTmpfs} (needs root). */
export interface SmallTmpfs {
  /** Where it is mounted; meaningful only when `mounted`. */
  readonly mountPoint: string;
  readonly mounted: boolean;
  /** Why mounting failed, for the test's skip message. */
  readonly mountError: string;
  /** Unmounts (lazily if busy) and removes the temp directory. */
  unmount(): Promise<void>;
}

/** Mounts a tmpfs of `size` (e.g. "2m") under a fresh temp directory; never throws for mount. */
export async function mountSmallTmpfs(prefix: string, size: string): Promise<SmallTmpfs> {
  const base = await makeTempDir(prefix);
  const mountPoint = path.join(base, "mnt");
  await fs.mkdir(mountPoint);
  let mounted = false;
  let mountError = "";
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mountPoint], {
      stdio: "pipe",
    });
    mounted = true;
  } catch (error) {
    mountError = String(error);
  }
  return {
    mountPoint,
    mounted,
    mountError,
    async unmount() {
      if (mounted) {
        try {
          execFileSync("umount", [mountPoint], { stdio: "pipe" });
        } catch {
          execFileSync("umount", ["-l", mountPoint], { stdio: "pipe" });
        }
      }
      await removeDir(base);
    },
  };
}
