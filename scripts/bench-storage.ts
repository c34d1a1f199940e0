// Storage engine benchmark (DESIGN §9): group-committed durable puts/s, random gets/s, restart
// time and heap bytes per key for the log engine and lmdb side by side, at 100k and 1M keys.
// Run: node --expose-gc --import tsx scripts/bench-storage.ts [--keys 100000,1000000]
//      [--value-bytes 100] [--concurrency 1000] [--gets 200000] [--dir /tmp]

import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { LmdbStorage } from "../node/storage/lmdb-storage.js";
import { LogStorage } from "../node/storage/log-storage.js";
import type { Storage } from "../node/storage/storage.js";

interface BenchOptions {
  readonly keyCounts: number[];
  readonly valueBytes: number;
  readonly concurrency: number;
  readonly gets: number;
  readonly baseDir: string;
}

interface EngineResult {
  engine: string;
  keys: number;
  putsPerSecond: number;
  getsPerSecond: number;
  restartMs: number;
  restartWithHintsMs: number | undefined;
  heapBytesPerKey: number | undefined;
  externalBytesPerKey: number | undefined;
}

const BUCKET = "bench";

function parseArguments(argv: string[]): BenchOptions {
  const value = (name: string, fallback: string): string => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? (argv[index + 1] ?? fallback) : fallback;
  };
  return {
    keyCounts: value("keys", "100000,1000000").split(",").map(Number),
    valueBytes: Number(value("value-bytes", "100")),
    concurrency: Number(value("concurrency", "1000")),
    gets: Number(value("gets", "200000")),
    baseDir: value("dir", os.tmpdir()),
  };
}

function keyOf(index: number): Uint8Array {
  return Buffer.from(`key-${String(index).padStart(10, "0")}`);
}

function makeEngine(engine: string, dir: string): Storage {
  return engine === "log" ? new LogStorage({ dir }) : new LmdbStorage({ dir });
}

/** Durable puts of `keys` keys from `concurrency` concurrent writers; returns puts/s. */
async function benchPuts(storage: Storage, keys: number, options: BenchOptions): Promise<number> {
  const value = Buffer.alloc(options.valueBytes, 7);
  let next = 0;
  const started = performance.now();
  const writer = async (): Promise<void> => {
    for (let index = next++; index < keys; index = next++) {
      const result = await storage.put(BUCKET, keyOf(index), value, { durable: true });
      if (!result.durable) throw new Error("durable put came back not durable");
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, writer));
  return keys / ((performance.now() - started) / 1000);
}

/** Sequential awaited gets of random keys; returns gets/s. */
async function benchGets(storage: Storage, keys: number, gets: number): Promise<number> {
  let seed = 12345;
  const started = performance.now();
  for (let i = 0; i < gets; i += 1) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const object = await storage.get(BUCKET, keyOf(seed % keys));
    if (object === undefined) throw new Error("a written key is missing");
  }
  return gets / ((performance.now() - started) / 1000);
}

function memory(): { heap: number; external: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, external: usage.arrayBuffers };
}

/** Opens a fresh engine over `dir`; returns it, the open time and its memory cost. */
async function reopen(
  engine: string,
  dir: string,
): Promise<{ storage: Storage; ms: number; heap: number; external: number }> {
  const before = memory();
  const storage = makeEngine(engine, dir);
  const started = performance.now();
  await storage.open();
  const ms = performance.now() - started;
  const after = memory();
  return {
    storage,
    ms,
    heap: after.heap - before.heap,
    external: after.external - before.external,
  };
}

async function benchEngine(
  engine: string,
  keys: number,
  options: BenchOptions,
): Promise<EngineResult> {
  const dir = await fs.mkdtemp(path.join(options.baseDir, `dkv-bench-${engine}-`));
  try {
    let storage = makeEngine(engine, dir);
    await storage.open();
    const putsPerSecond = await benchPuts(storage, keys, options);
    await storage.close();
    const opened = await reopen(engine, dir);
    storage = opened.storage;
    const getsPerSecond = await benchGets(storage, keys, Math.min(options.gets, keys * 2));
    const keyBytes = keys * (BUCKET.length + 2 + keyOf(0).length);
    const hasGc = typeof (globalThis as { gc?: unknown }).gc === "function";
    let restartWithHintsMs: number | undefined;
    if (storage instanceof LogStorage) {
      await storage.merge();
      await storage.close();
      const hinted = await reopen(engine, dir);
      restartWithHintsMs = hinted.ms;
      storage = hinted.storage;
    }
    await storage.close();
    return {
      engine,
      keys,
      putsPerSecond,
      getsPerSecond,
      restartMs: opened.ms,
      restartWithHintsMs,
      heapBytesPerKey: hasGc ? (opened.heap - (engine === "log" ? keyBytes : 0)) / keys : undefined,
      externalBytesPerKey: hasGc ? opened.external / keys : undefined,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function formatRow(result: EngineResult): string {
  const number = (value: number | undefined, digits = 0): string =>
    value === undefined ? "n/a" : value.toLocaleString("en-US", { maximumFractionDigits: digits });
  return `| ${result.engine} | ${number(result.keys)} | ${number(result.putsPerSecond)} | ${number(result.getsPerSecond)} | ${number(result.restartMs)} | ${number(result.restartWithHintsMs)} | ${number(result.heapBytesPerKey, 1)} | ${number(result.externalBytesPerKey, 1)} |`;
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  console.log(
    `node ${process.version}, ${os.cpus().length} cores, ${os.type()} ${os.release()}, ${new Date().toISOString()}`,
  );
  console.log(
    `values ${options.valueBytes} B, ${options.concurrency} concurrent durable writers, gc ${typeof (globalThis as { gc?: unknown }).gc === "function" ? "exposed" : "NOT exposed (run node --expose-gc)"}`,
  );
  console.log("");
  console.log(
    "| engine | keys | durable puts/s | random gets/s | restart ms | restart after merge (hints) ms | heap B/key beyond key bytes | ArrayBuffer B/key |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const keys of options.keyCounts) {
    for (const engine of ["log", "lmdb"])
      console.log(formatRow(await benchEngine(engine, keys, options)));
  }
}

await main();
