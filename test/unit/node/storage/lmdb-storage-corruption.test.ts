// Goal: the lmdb engine finds a damaged value itself (lmdb checks nothing of a value): a value
// whose CRC-32 does not match is counted, served as missing and left out of entries(), every
// other key is served, and a later write of the key repairs it. An environment written before
// checksums keeps working unchecked; the format marker is no key; an unknown format is refused.
// Method: real lmdb files in a temp dir; a byte flipped inside a value in data.mdb while closed.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { open } from "lmdb";
import { LmdbStorage } from "../../../../node/storage/lmdb-storage.js";
import { bytes, hex, makeTempDir, removeDir } from "./storage-test-helpers.js";

let dir: string;
let storage: LmdbStorage | undefined;

beforeEach(async () => {
  dir = await makeTempDir("dkv-lmdb-corrupt-");
});

afterEach(async () => {
  await storage?.close();
  storage = undefined;
  await removeDir(dir);
});

async function openLmdb(): Promise<LmdbStorage> {
  storage = new LmdbStorage({ dir: path.join(dir, "db") });
  await storage.open();
  return storage;
}

async function entryKeys(engine: LmdbStorage): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of engine.entries()) keys.push(`${entry.bucket}/${hex(entry.key)}`);
  return keys.sort();
}

const durable = { durable: true } as const;

describe("lmdb storage checksums", () => {
  it("serves a value with a flipped byte as missing, counts it, and takes a repair", async () => {
    const marker = "damage-me-".repeat(20);
    let engine = await openLmdb();
    await engine.put("b", bytes("damaged"), bytes(marker), durable);
    await engine.put("b", bytes("intact"), bytes("fine"), durable);
    // A key longer than lmdb's key limit: hashed, its value carries the id (and the CRC).
    const longKey = bytes("L".repeat(3000));
    await engine.put("b", longKey, bytes("long"), durable);
    expect(engine.stats()).toMatchObject({ keys: 3, corruptRecords: 0 });
    await engine.close();

    const file = path.join(dir, "db", "data.mdb");
    const data = readFileSync(file);
    // Copy-on-write may leave stale copies of the page in free space: damage every copy.
    let copies = 0;
    for (let at = data.indexOf(marker); at >= 0; at = data.indexOf(marker, at + 1)) {
      data[at + 50] = data[at + 50]! ^ 0x01;
      copies += 1;
    }
    expect(copies).toBeGreaterThan(0);
    writeFileSync(file, data);

    engine = await openLmdb();
    expect(await engine.get("b", bytes("damaged"))).toBeUndefined();
    expect(await engine.get("b", bytes("damaged"))).toBeUndefined();
    expect(hex(await engine.get("b", bytes("intact")))).toBe(hex(bytes("fine")));
    expect(hex(await engine.get("b", longKey))).toBe(hex(bytes("long")));
    expect(engine.stats().corruptRecords).toBe(1);
    expect(await entryKeys(engine)).toEqual(
      [`b/${hex(bytes("intact"))}`, `b/${hex(longKey)}`].sort(),
    );

    // Read repair or anti-entropy writes the key again.
    await engine.put("b", bytes("damaged"), bytes("repaired"), durable);
    expect(hex(await engine.get("b", bytes("damaged")))).toBe(hex(bytes("repaired")));
    expect(await entryKeys(engine)).toHaveLength(3);
  });

  it("keeps reading and writing an environment written before checksums, unchecked", async () => {
    const legacy = open<Buffer, Buffer>({
      path: path.join(dir, "db"),
      encoding: "binary",
      keyEncoding: "binary",
      compression: false,
    });
    // What the engine stored before checksums: the id as key, the object bytes as value.
    const id = Buffer.concat([Buffer.from([1, 0]), Buffer.from("b"), Buffer.from("old")]);
    await legacy.put(id, Buffer.from("old value"));
    await legacy.close();

    const engine = await openLmdb();
    expect(hex(await engine.get("b", bytes("old")))).toBe(hex(bytes("old value")));
    await engine.put("b", bytes("new"), bytes("new value"), durable);
    expect(hex(await engine.get("b", bytes("new")))).toBe(hex(bytes("new value")));
    expect(engine.stats()).toMatchObject({ keys: 2, corruptRecords: 0 });
    expect(await entryKeys(engine)).toHaveLength(2);
  });

  it("keeps its format marker out of keys and entries, and refuses an unknown format", async () => {
    let engine = await openLmdb();
    expect(engine.stats().keys).toBe(0);
    await engine.put("b", bytes("k"), bytes("v"), durable);
    expect(engine.stats().keys).toBe(1);
    expect(await entryKeys(engine)).toEqual([`b/${hex(bytes("k"))}`]);
    await engine.close();
    storage = undefined;

    const raw = open<Buffer, Buffer>({
      path: path.join(dir, "db"),
      encoding: "binary",
      keyEncoding: "binary",
      compression: false,
    });
    await raw.put(Buffer.from([0xfe, 0xff, ...Buffer.from("format")]), Buffer.from([9]));
    await raw.close();
    engine = new LmdbStorage({ dir: path.join(dir, "db") });
    await expect(engine.open()).rejects.toThrow(/has unknown format 09/);
  });
});
