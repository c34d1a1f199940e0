// Goal: the log engine's object cache never serves anything but the key's current record:
// after an overwrite, a tombstone, a merge and a reopen every read equals the model's, and
// repeated reads of a key come from memory (counted hits).

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LogStorage } from "../../../../node/storage/log-storage.js";
import { bytes, hex, makeTempDir, openLog, removeDir } from "./storage-test-helpers.js";

let dir: string;
const open: LogStorage[] = [];

beforeEach(async () => {
  dir = await makeTempDir();
});

afterEach(async () => {
  for (const storage of open.splice(0)) await storage.close().catch(() => undefined);
  await removeDir(dir);
});

async function start(): Promise<LogStorage> {
  const storage = await openLog(dir, { segmentBytesMax: 4096, autoMerge: false });
  open.push(storage);
  return storage;
}

function cacheStats(storage: LogStorage): { hits: number; misses: number } {
  const { objectCacheHits, objectCacheMisses } = storage.stats().details;
  return { hits: objectCacheHits ?? -1, misses: objectCacheMisses ?? -1 };
}

describe("the log engine's object cache", () => {
  it("serves a read key from memory, refreshed by every overwrite, gone with a tombstone", async () => {
    const storage = await start();
    await storage.put("b", bytes("k"), bytes("v1"), { durable: false });
    // A write adds no key to the cache; the first read does.
    expect(hex(await storage.get("b", bytes("k")))).toBe(hex(bytes("v1")));
    expect(hex(await storage.get("b", bytes("k")))).toBe(hex(bytes("v1")));
    expect(cacheStats(storage)).toEqual({ hits: 1, misses: 1 });
    await storage.put("b", bytes("k"), bytes("v2"), { durable: true });
    expect(hex(await storage.get("b", bytes("k")))).toBe(hex(bytes("v2")));
    expect(cacheStats(storage)).toEqual({ hits: 2, misses: 1 });
    await storage.remove("b", bytes("k"), { durable: false });
    expect(await storage.get("b", bytes("k"))).toBeUndefined();
  });

  it("reads what the file holds after a merge moved every key, and after a reopen", async () => {
    const storage = await start();
    const model = new Map<string, string>();
    // Enough overwrites of a few keys to fill several 4 KiB segments with dead records.
    for (let round = 0; round < 40; round++) {
      for (const key of ["a", "b", "c", "d"]) {
        const value = `${key}-${round}-${"x".repeat(100)}`;
        await storage.put("b", bytes(key), bytes(value), { durable: false });
        model.set(key, value);
      }
      if (round % 10 === 9) await storage.remove("b", bytes("d"), { durable: false });
      if (round % 10 === 9) model.delete("d");
    }
    const check = async (on: LogStorage): Promise<void> => {
      for (const key of ["a", "b", "c", "d"]) {
        const want = model.get(key);
        expect(hex(await on.get("b", bytes(key))), key).toBe(
          want === undefined ? hex(undefined) : hex(bytes(want)),
        );
      }
    };
    await check(storage);
    expect((await storage.merge()).inputSegments).toBeGreaterThan(0);
    // Every key moved to a merged segment: the entries kept from before miss and are refilled.
    const before = cacheStats(storage);
    await check(storage);
    const after = cacheStats(storage);
    expect(after.misses - before.misses).toBe(3);
    await check(storage);
    expect(cacheStats(storage).hits - after.hits).toBe(3);
    await storage.close();
    open.splice(0);
    await check(await start());
  });
});
