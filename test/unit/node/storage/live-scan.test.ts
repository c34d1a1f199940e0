// The log engine's scan of live records (LogStorage.entries through live-scan.ts): every key
// once with its current object, read in windows of consecutive records, whatever writes, removes,
// merges and damage happen while it runs.

import * as fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { SCAN_WINDOW_BYTES } from "../../../../node/storage/live-scan.js";
import {
  bytes,
  hex,
  logStorageFixture,
  modelState,
  segmentFiles,
  snapshot,
  type ModelOp,
} from "./storage-test-helpers.js";

const log = logStorageFixture();
const start = log.start;

/** A value of `size` bytes that names its key and version, so a mixed-up copy shows. */
function valueOf(key: string, version: number, size: number): Uint8Array {
  const head = `${key}@${version}:`;
  return bytes(head + "x".repeat(Math.max(0, size - head.length)));
}

describe("the log engine's scan of live records", () => {
  it("yields every key once with its latest object, over many windows and segments", async () => {
    const storage = await start({ segmentBytesMax: 3 * SCAN_WINDOW_BYTES });
    const ops: ModelOp[] = [];
    const put = async (key: string, object: Uint8Array): Promise<void> => {
      ops.push({ kind: "put", bucket: "b", key: bytes(key), object });
      await storage.put("b", bytes(key), object, { durable: false });
    };
    for (let i = 0; i < 4000; i++) await put(`k${i}`, valueOf(`k${i}`, 1, 1500 + (i % 700)));
    // Two objects larger than a window, read on their own, between ordinary ones.
    await put("big-1", valueOf("big-1", 1, SCAN_WINDOW_BYTES + 4096));
    for (let i = 0; i < 4000; i += 3) await put(`k${i}`, valueOf(`k${i}`, 2, 900));
    await put("big-2", valueOf("big-2", 1, 2 * SCAN_WINDOW_BYTES));
    for (let i = 1; i < 4000; i += 7) {
      ops.push({ kind: "remove", bucket: "b", key: bytes(`k${i}`) });
      await storage.remove("b", bytes(`k${i}`), { durable: false });
    }
    expect((await segmentFiles(log.dir())).length).toBeGreaterThan(3);
    const before = storage.stats().details;
    const seen = new Set<string>();
    for await (const entry of storage.entries()) {
      const key = Buffer.from(entry.key).toString();
      expect(seen.has(key), `${key} twice`).toBe(false);
      seen.add(key);
    }
    // ~7.5 MB of live records in windows of up to 1 MiB; only the two large ones read alone.
    const after = storage.stats().details;
    expect((after.scanReadsThrough ?? 0) - (before.scanReadsThrough ?? 0)).toBe(2);
    const windows = (after.scanWindows ?? 0) - (before.scanWindows ?? 0);
    expect(windows).toBeGreaterThan(5);
    expect(windows).toBeLessThan(20);
    expect(await snapshot(storage)).toEqual(modelState(ops));
  });

  it("reads live records far apart, with dead ones between them, each where it is", async () => {
    const storage = await start({ segmentBytesMax: 8 * SCAN_WINDOW_BYTES });
    const ops: ModelOp[] = [];
    for (let version = 1; version <= 2; version++) {
      // The second round rewrites four keys in five: 20 KiB records, so the live ones of the
      // first round lie ~80 KiB apart, past the gap one read spans.
      for (let i = 0; i < 300; i++) {
        if (version === 2 && i % 5 === 0) continue;
        const object = valueOf(`k${i}`, version, 20 * 1024 + (i % 13));
        ops.push({ kind: "put", bucket: "b", key: bytes(`k${i}`), object });
        await storage.put("b", bytes(`k${i}`), object, { durable: false });
      }
    }
    const before = storage.stats().details.scanWindows ?? 0;
    expect(await snapshot(storage)).toEqual(modelState(ops));
    // The first round's survivors lie apart, one read each; the second round's run together.
    const windows = (storage.stats().details.scanWindows ?? 0) - before;
    expect(windows).toBeGreaterThan(60);
    expect(windows).toBeLessThan(80);
  });

  it("follows writes, removes and a merge that happen while it runs", async () => {
    const storage = await start({ segmentBytesMax: 64 * 1024 });
    const ops: ModelOp[] = [];
    for (let i = 0; i < 600; i++) {
      const object = valueOf(`k${i}`, 1, 300);
      ops.push({ kind: "put", bucket: "b", key: bytes(`k${i}`), object });
      await storage.put("b", bytes(`k${i}`), object, { durable: true });
    }
    const found = new Map<string, string>();
    const reachedBefore = new Set<string>();
    let changed = false;
    for await (const entry of storage.entries()) {
      const key = Buffer.from(entry.key).toString();
      expect(found.has(key), `${key} twice`).toBe(false);
      found.set(key, hex(entry.object));
      if (!changed) reachedBefore.add(key);
      if (!changed && found.size === 50) {
        changed = true;
        // Keys the scan has reached and keys it has not: rewritten, removed, then all moved.
        for (let i = 0; i < 600; i += 5) {
          const object = valueOf(`k${i}`, 2, 200);
          ops.push({ kind: "put", bucket: "b", key: bytes(`k${i}`), object });
          await storage.put("b", bytes(`k${i}`), object, { durable: true });
        }
        for (let i = 1; i < 600; i += 5) {
          ops.push({ kind: "remove", bucket: "b", key: bytes(`k${i}`) });
          await storage.remove("b", bytes(`k${i}`), { durable: true });
        }
        await storage.merge();
      }
    }
    const model = modelState(ops);
    for (let i = 0; i < 600; i++) {
      const key = `k${i}`;
      if (reachedBefore.has(key)) {
        expect(found.get(key), key).toBe(hex(valueOf(key, 1, 300)));
      } else {
        // Reached after the change: its object then, or absent once removed.
        expect(found.get(key), key).toBe(model[`b/${hex(bytes(key))}`]);
      }
    }
    // Untouched keys the merge moved before the scan reached them are still found.
    expect(reachedBefore.has("k503") || reachedBefore.has("k598")).toBe(false);
    expect(found.get("k503")).toBe(hex(valueOf("k503", 1, 300)));
    expect(found.get("k598")).toBe(hex(valueOf("k598", 1, 300)));
    expect(storage.stats().corruptRecords).toBe(0);
  });

  it("counts a damaged live record, forgets its key, and yields every other key", async () => {
    const storage = await start({ segmentBytesMax: 1 << 20, objectCacheBytesMax: 0 });
    for (let i = 0; i < 200; i++) {
      await storage.put("b", bytes(`k${i}`), valueOf(`k${i}`, 1, 500), { durable: true });
    }
    const [file] = await segmentFiles(log.dir());
    const content = await fs.readFile(file as string);
    const at = content.indexOf(Buffer.from("k77@1:")) + 10;
    const handle = await fs.open(file as string, "r+");
    await handle.write(Buffer.from([content[at]! ^ 0x5a]), 0, 1, at);
    await handle.close();
    const keys: string[] = [];
    for await (const entry of storage.entries()) keys.push(Buffer.from(entry.key).toString());
    expect(keys).toHaveLength(199);
    expect(keys).not.toContain("k77");
    expect(storage.stats().corruptRecords).toBe(1);
    expect(await storage.get("b", bytes("k77"))).toBeUndefined();
  });
});
