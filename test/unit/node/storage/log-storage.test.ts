// Behaviour of the log engine beyond the shared contract: group commit, recovery of torn tails,
// corruption counting, merge and hint files, power-cut durability.

import * as fs from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import type { LogStorage } from "../../../../node/storage/log-storage.js";
import { StorageWriteError } from "../../../../node/storage/write-queue.js";
import {
  bytes,
  hex,
  logStorageFixture,
  makeTempDir,
  modelState,
  openLog,
  removeDir,
  segmentFiles,
  snapshot,
  type ModelOp,
} from "./storage-test-helpers.js";

const log = logStorageFixture();
const start = log.start;

async function flipByte(file: string, offset: number): Promise<void> {
  const handle = await fs.open(file, "r+");
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, offset);
  byte[0] = (byte[0] ?? 0) ^ 0x5a;
  await handle.write(byte, 0, 1, offset);
  await handle.close();
}

describe("log storage group commit", () => {
  it("covers many concurrent durable puts with far fewer fsyncs", async () => {
    const storage = await start({ segmentBytesMax: 1 << 20 });
    const puts = [];
    for (let i = 0; i < 300; i += 1)
      puts.push(storage.put("b", bytes(`k${i}`), bytes(`v${i}`), { durable: true }));
    const results = await Promise.all(puts);
    expect(results.every((result) => result.durable)).toBe(true);
    const { syncs } = storage.stats().details;
    expect(syncs).toBeGreaterThan(0);
    expect(syncs).toBeLessThanOrEqual(30);
  });

  it("puts issued in one event-loop turn share one append and one fsync", async () => {
    const storage = await start({ segmentBytesMax: 1 << 20 });
    const before = storage.stats().details;
    const puts = [];
    for (let i = 0; i < 50; i += 1)
      puts.push(storage.put("b", bytes(`k${i}`), bytes(`v${i}`), { durable: i % 2 === 0 }));
    await Promise.all(puts);
    const after = storage.stats().details;
    expect(Number(after.batches) - Number(before.batches)).toBe(1);
    expect(Number(after.syncs) - Number(before.syncs)).toBe(1);
    for (let i = 0; i < 50; i += 1)
      expect(hex(await storage.get("b", bytes(`k${i}`)))).toBe(hex(bytes(`v${i}`)));
  });

  it("a non-durable put is readable at once, reports durable: false and is synced soon after", async () => {
    const storage = await start({ syncIntervalMs: 5 });
    const before = storage.stats().details;
    const result = await storage.put("b", bytes("k"), bytes("v"), { durable: false });
    expect(result.durable).toBe(false);
    // The put resolved before its fsync: the sync timer is a later event-loop task than this.
    const answered = storage.stats().details;
    expect(answered.activeSyncedBytes).toBeLessThan(answered.activeBytes ?? 0);
    expect(answered.syncs).toBe(before.syncs);
    expect(hex(await storage.get("b", bytes("k")))).toBe(hex(bytes("v")));
    // Then the sync timer covers it; 5 s is a give-up, not the claim (the interval is 5 ms).
    await vi.waitFor(
      () => {
        const { activeBytes, activeSyncedBytes } = storage.stats().details;
        expect(activeSyncedBytes).toBe(activeBytes);
      },
      { timeout: 5000, interval: 5 },
    );
    expect(storage.stats().details.syncs).toBe((before.syncs ?? 0) + 1);
  });

  it("refuses writes beyond queuedBytesMax instead of buffering without bound", async () => {
    const storage = await start({ queuedBytesMax: 10_000 });
    const writes = [];
    for (let i = 0; i < 20; i += 1)
      writes.push(storage.put("b", bytes(`k${i}`), new Uint8Array(2000), { durable: true }));
    const settled = await Promise.allSettled(writes);
    // The queue takes writes until the next would pass the bound, then refuses every later one
    // of the same turn (none has been appended yet to make room).
    const accepted = settled.findIndex((outcome) => outcome.status === "rejected");
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(10_000 / 2000);
    for (const [i, outcome] of settled.entries()) {
      if (i < accepted) {
        expect(outcome).toEqual({ status: "fulfilled", value: { durable: true } });
        expect(await storage.get("b", bytes(`k${i}`))).toHaveLength(2000);
        continue;
      }
      expect(outcome.status).toBe("rejected");
      const reason = (outcome as PromiseRejectedResult).reason as unknown;
      expect(reason).toBeInstanceOf(StorageWriteError);
      expect((reason as Error).message).toMatch(
        /^storage write queue full: \d+ bytes queued, queuedBytesMax 10000$/,
      );
      expect(await storage.get("b", bytes(`k${i}`))).toBeUndefined();
    }
  });
});

describe("log storage recovery", () => {
  /** Forty keys in one segment, closed cleanly, then a byte of key-20's value flipped. */
  async function writeFortyKeysAndDamageKey20(): Promise<void> {
    const storage = await start({ segmentBytesMax: 1 << 20 });
    for (let i = 0; i < 40; i += 1)
      await storage.put("b", bytes(`key-${i}`), bytes(`value-${i}-`.repeat(5)), { durable: true });
    await storage.close();
    const [file] = await segmentFiles(log.dir());
    const content = await fs.readFile(file as string);
    await flipByte(file as string, content.indexOf(Buffer.from("value-20-value")) + 3);
  }

  it("truncates a torn last record, keeps every record before it and counts no corruption", async () => {
    let storage = await start({ segmentBytesMax: 1 << 20 });
    for (let i = 0; i < 20; i += 1)
      await storage.put("b", bytes(`k${i}`), bytes(`value-${i}`), { durable: true });
    await storage.close();
    const [file] = await segmentFiles(log.dir());
    const { size } = await fs.stat(file as string);
    await fs.truncate(file as string, size - 3);
    storage = await start();
    expect(storage.stats().keys).toBe(19);
    expect(hex(await storage.get("b", bytes("k18")))).toBe(hex(bytes("value-18")));
    expect(await storage.get("b", bytes("k19"))).toBeUndefined();
    expect(storage.stats().corruptRecords).toBe(0);
    expect(storage.stats().details.recoveryTornBytesTruncated).toBeGreaterThan(0);
    expect((await fs.stat(file as string)).size).toBeLessThan(size - 3);
  });

  it("counts a flipped byte in the middle of a segment, names the key and serves every other key", async () => {
    await writeFortyKeysAndDamageKey20();
    // As after a crash: the clean close wrote the segment's hint, which the open would trust.
    await removeHintFiles(log.dir());
    const storage = await start();
    const stats = storage.stats();
    expect(stats.corruptRecords).toBe(1);
    expect(stats.keys).toBe(39);
    const [report] = storage.corruptions();
    expect(report?.detectedBy).toBe("recovery");
    expect(Buffer.from(report?.claimedKeyBase64 ?? "", "base64").toString()).toBe("key-20");
    for (let i = 0; i < 40; i += 1) {
      const expected = i === 20 ? "absent" : hex(bytes(`value-${i}-`.repeat(5)));
      expect(hex(await storage.get("b", bytes(`key-${i}`)))).toBe(expected);
    }
  });

  it("recovers the records of a segment whose header is damaged and counts the damage", async () => {
    let storage = await start({ segmentBytesMax: 300 });
    for (let i = 0; i < 30; i += 1)
      await storage.put("b", bytes(`k${i}`), bytes(`v${i}`), { durable: true });
    await storage.close();
    const files = await segmentFiles(log.dir());
    expect(files.length).toBeGreaterThan(2);
    await flipByte(files[1] as string, 2);
    await removeHintFiles(log.dir());
    storage = await start();
    expect(storage.stats().corruptRecords).toBe(1);
    expect(await snapshot(storage)).toEqual(
      modelState(
        Array.from({ length: 30 }, (_, i) => ({
          kind: "put",
          bucket: "b",
          key: bytes(`k${i}`),
          object: bytes(`v${i}`),
        })),
      ),
    );
  });

  it("finds damage in a segment opened from its hint at the key's first read", async () => {
    await writeFortyKeysAndDamageKey20();
    const storage = await start();
    expect(storage.stats().details.recoveryHintsLoaded).toBe(1);
    expect(storage.stats().corruptRecords).toBe(0);
    expect(await storage.get("b", bytes("key-20"))).toBeUndefined();
    expect(storage.corruptions()[0]?.detectedBy).toBe("read");
    expect(storage.stats().keys).toBe(39);
    expect(hex(await storage.get("b", bytes("key-21")))).toBe(hex(bytes("value-21-".repeat(5))));
  });

  it("detects a record damaged while open on read, counts it and forgets only that key", async () => {
    // Without the object cache: a cached object is served from memory, as it was written, and
    // the damage is found when the key is next read from the file (or by a merge, or at start).
    const storage = await start({ segmentBytesMax: 1 << 20, objectCacheBytesMax: 0 });
    await storage.put("b", bytes("good"), bytes("fine"), { durable: true });
    await storage.put("b", bytes("bad"), bytes("soon-damaged"), { durable: true });
    const [file] = await segmentFiles(log.dir());
    const content = await fs.readFile(file as string);
    await flipByte(file as string, content.indexOf(Buffer.from("soon-damaged")));
    expect(await storage.get("b", bytes("bad"))).toBeUndefined();
    expect(storage.stats().corruptRecords).toBe(1);
    expect(storage.corruptions()[0]?.detectedBy).toBe("read");
    expect(hex(await storage.get("b", bytes("good")))).toBe(hex(bytes("fine")));
  });

  it("keeps every durable write through a power cut that drops all unsynced bytes", async () => {
    const storage = await start({ segmentBytesMax: 1 << 20, syncIntervalMs: 60_000 });
    const durable: ModelOp[] = [];
    for (let i = 0; i < 30; i += 1) {
      const op: ModelOp = { kind: "put", bucket: "b", key: bytes(`k${i}`), object: bytes(`v${i}`) };
      const result = await storage.put(op.bucket, op.key, op.object, { durable: i % 3 === 0 });
      if (result.durable) durable.push(op);
    }
    await storage.put("b", bytes("unsynced"), bytes("lost in the cut"), { durable: false });
    const { activeSegmentId, activeSyncedBytes, activeBytes } = storage.stats().details;
    expect(activeSyncedBytes).toBeLessThan(activeBytes as number);
    const crashed = await makeTempDir();
    try {
      for (const file of await fs.readdir(log.dir()))
        await fs.copyFile(path.join(log.dir(), file), path.join(crashed, file));
      const active = (await segmentFiles(crashed)).find(
        (file) => Number(path.basename(file, ".seg")) === activeSegmentId,
      );
      await fs.truncate(active as string, activeSyncedBytes);
      const after = await openLog(crashed);
      for (const op of durable)
        expect(hex(await after.get(op.bucket, op.key))).toBe(
          hex(op.kind === "put" ? op.object : undefined),
        );
      expect(await after.get("b", bytes("unsynced"))).toBeUndefined();
      expect(after.stats().corruptRecords).toBe(0);
      await after.close();
    } finally {
      await removeDir(crashed);
    }
  });
});

describe("log storage merge", () => {
  it("drops overwritten and removed records, keeps the state and writes hint files", async () => {
    let storage = await start({ segmentBytesMax: 512, autoMerge: false });
    const ops: ModelOp[] = [];
    for (let round = 0; round < 5; round += 1) {
      for (let i = 0; i < 20; i += 1)
        ops.push({
          kind: "put",
          bucket: "b",
          key: bytes(`k${i}`),
          object: bytes(`r${round}-${i}`),
        });
      ops.push({ kind: "remove", bucket: "b", key: bytes(`k${round}`) });
    }
    for (const op of ops) {
      if (op.kind === "put") await storage.put(op.bucket, op.key, op.object, { durable: false });
      else await storage.remove(op.bucket, op.key, { durable: false });
    }
    const bytesBefore = await directoryBytes(log.dir());
    const result = await storage.merge();
    expect(result.inputSegments).toBeGreaterThan(1);
    expect(await snapshot(storage)).toEqual(modelState(ops));
    expect(await directoryBytes(log.dir())).toBeLessThan(bytesBefore / 2);
    expect((await fs.readdir(log.dir())).some((name) => name.endsWith(".hint"))).toBe(true);
    await storage.close();
    storage = await start();
    expect(await snapshot(storage)).toEqual(modelState(ops));
    // The merge's segments from their hints; only the empty active segment the merge rolled
    // over to is scanned.
    expect(storage.stats().details.recoveryHintsLoaded).toBe(result.outputSegments);
    expect(storage.stats().details.recoverySegmentsScanned).toBe(1);
  });

  it("lets writes and reads go on during a merge without losing either", async () => {
    const storage = await start({ segmentBytesMax: 1024, autoMerge: false });
    const ops: ModelOp[] = [];
    for (let i = 0; i < 400; i += 1)
      ops.push({ kind: "put", bucket: "b", key: bytes(`k${i % 97}`), object: bytes(`v${i}`) });
    await Promise.all(
      ops.map((op) =>
        op.kind === "put" ? storage.put(op.bucket, op.key, op.object, { durable: false }) : null,
      ),
    );
    const merging = storage.merge();
    const during: ModelOp[] = [];
    for (let i = 0; i < 100; i += 1) {
      const op: ModelOp =
        i % 4 === 0
          ? { kind: "remove", bucket: "b", key: bytes(`k${i}`) }
          : { kind: "put", bucket: "b", key: bytes(`k${i}`), object: bytes(`during-${i}`) };
      during.push(op);
      if (op.kind === "put")
        await storage.put(op.bucket, op.key, op.object, { durable: i % 2 === 0 });
      else await storage.remove(op.bucket, op.key, { durable: true });
      expect(hex(await storage.get("b", bytes(`k${i}`)))).toBe(
        hex(op.kind === "put" ? op.object : undefined),
      );
    }
    await merging;
    const expected = modelState([...ops, ...during]);
    expect(await snapshot(storage)).toEqual(expected);
    await log.closeAll();
    const reopened = await start();
    expect(await snapshot(reopened)).toEqual(expected);
  });

  it("starts by itself once dead bytes pass mergeDeadRatio and bounds the files", async () => {
    const storage = await start({ segmentBytesMax: 2048, mergeDeadRatio: 0.5 });
    for (let i = 0; i < 3000; i += 1)
      await storage.put("b", bytes(`k${i % 10}`), bytes(`value-${i}`), { durable: false });
    await storage.merge();
    expect(storage.stats().details.merges).toBeGreaterThan(1);
    expect(await directoryBytes(log.dir())).toBeLessThan(20_000);
    for (let i = 0; i < 10; i += 1)
      expect(hex(await storage.get("b", bytes(`k${i}`)))).toBe(hex(bytes(`value-${2990 + i}`)));
  });

  it("copies live records over many read windows and one larger than a window, all intact", async () => {
    // Merge reads the live records in windows of 1 MiB: 3,000 live records of 1 KiB between
    // dead ones span several windows, and a 1.5 MiB object is read on its own.
    const storage = await start({ segmentBytesMax: 64 << 20, autoMerge: false });
    const ops: ModelOp[] = [];
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 3000; i += 1) {
        const object = Buffer.alloc(1024, (round * 7 + i) % 251);
        object.write(`r${round}-${i}`);
        ops.push({ kind: "put", bucket: "b", key: bytes(`k${i}`), object });
      }
      const large = Buffer.alloc(1536 * 1024, 3 + round);
      ops.push({ kind: "put", bucket: "b", key: bytes("large"), object: large });
    }
    ops.push({ kind: "put", bucket: "b", key: bytes("k7"), object: bytes("last") });
    for (const op of ops) {
      if (op.kind === "put") await storage.put(op.bucket, op.key, op.object, { durable: false });
    }
    const result = await storage.merge();
    expect(result.outputBytes).toBeLessThan(result.inputBytes * 0.6);
    expect(await snapshot(storage)).toEqual(modelState(ops));
    await log.closeAll();
    expect(await snapshot(await start({ objectCacheBytesMax: 0 }))).toEqual(modelState(ops));
  });

  it("forgets a live record damaged since it was written, counted as found by the merge", async () => {
    const storage = await start({ segmentBytesMax: 1 << 20, objectCacheBytesMax: 0 });
    await storage.put("b", bytes("good"), bytes("fine"), { durable: true });
    await storage.put("b", bytes("bad"), bytes("soon-damaged"), { durable: true });
    await storage.put("b", bytes("after"), bytes("also fine"), { durable: true });
    const [file] = await segmentFiles(log.dir());
    const content = await fs.readFile(file as string);
    await flipByte(file as string, content.indexOf(Buffer.from("soon-damaged")));
    await storage.merge();
    expect(storage.corruptions().map((record) => record.detectedBy)).toEqual(["merge"]);
    expect(await storage.get("b", bytes("bad"))).toBeUndefined();
    expect(hex(await storage.get("b", bytes("good")))).toBe(hex(bytes("fine")));
    expect(hex(await storage.get("b", bytes("after")))).toBe(hex(bytes("also fine")));
  });
});

/** Bytes of the segment files in `directory` (hints are written beside them in the background). */
async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const file of await segmentFiles(directory)) total += (await fs.stat(file)).size;
  return total;
}

/** Deletes every hint file in `dir`, as a crash before they were written would leave it. */
async function removeHintFiles(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (name.endsWith(".hint")) await fs.rm(path.join(dir, name));
  }
}
