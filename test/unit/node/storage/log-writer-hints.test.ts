// Goal: every segment the log writer fills, and the active one at a clean close, gets a hint
// file listing its puts and removals, so that a restart reads hints instead of scanning values
// and finds exactly what a scan finds; a segment an open had to scan gets its hint then, unless
// it holds damage; a hint that does not match its segment is not used; restarts leave no empty
// segments behind.
// Method: fast-check histories of puts and removes over a few keys on small segments; the store
// is reopened from its hints, and again with the hints deleted (every segment scanned), and both
// are compared with the model.

import { fc, test } from "@fast-check/vitest";
import { promises as fs } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  bytes,
  hex,
  logStorageFixture,
  modelOpArbitrary,
  modelState,
  segmentFiles,
  snapshot,
  type ModelOp,
} from "./storage-test-helpers.js";

const OPTIONS = { segmentBytesMax: 600, autoMerge: false } as const;

async function hintFiles(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((name) => name.endsWith(".hint"));
}

describe("log writer hint files", () => {
  const log = logStorageFixture();

  test.prop([fc.array(modelOpArbitrary({ keys: 6, objectBytesMax: 120 }), { maxLength: 60 })], {
    numRuns: 25,
  })("a restart from the hints finds what a scan of every segment finds", async (ops) => {
    const storage = await log.start(OPTIONS);
    for (const op of ops) {
      if (op.kind === "put") await storage.put(op.bucket, op.key, op.object, { durable: false });
      else await storage.remove(op.bucket, op.key, { durable: false });
    }
    await log.closeAll();
    const segments = (await segmentFiles(log.dir())).length;
    const fromHints = await log.start(OPTIONS);
    const { recoveryHintsLoaded, recoverySegmentsScanned } = fromHints.stats().details;
    const expected = modelState(ops);
    // Keys first: reading a key whose entry is wrong would count it corrupt and forget it.
    expect(fromHints.stats().keys).toBe(Object.keys(expected).length);
    expect(await snapshot(fromHints)).toEqual(expected);
    expect(fromHints.stats().corruptRecords).toBe(0);
    // Every segment holds a record and has its hint, unless nothing was written at all.
    expect(recoveryHintsLoaded).toBe(ops.length === 0 ? 0 : segments);
    expect(recoverySegmentsScanned).toBe(segments - (recoveryHintsLoaded as number));
    await log.closeAll();

    for (const name of await hintFiles(log.dir())) await fs.rm(path.join(log.dir(), name));
    const scanned = await log.start(OPTIONS);
    expect(scanned.stats().details.recoveryHintsLoaded).toBe(0);
    expect(await snapshot(scanned)).toEqual(expected);
  });

  it("writes a filled segment's hint as it rolls over, and the active one's only at close", async () => {
    const storage = await log.start(OPTIONS);
    const ops: ModelOp[] = [];
    for (let i = 0; i < 30; i++) {
      ops.push({
        kind: "put",
        bucket: "b",
        key: bytes(`k${i % 5}`),
        object: bytes(`v${i}-`.repeat(8)),
      });
      if (i % 7 === 6) ops.push({ kind: "remove", bucket: "b", key: bytes(`k${i % 5}`) });
    }
    for (const op of ops) {
      if (op.kind === "put") await storage.put(op.bucket, op.key, op.object, { durable: true });
      else await storage.remove(op.bucket, op.key, { durable: true });
    }
    const rotations = storage.stats().details.rotations as number;
    expect(rotations).toBeGreaterThan(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(storage.stats().details.hintsWritten).toBe(rotations);
    expect(await hintFiles(log.dir())).toHaveLength(rotations);
    await log.closeAll();
    expect(await hintFiles(log.dir())).toHaveLength(rotations + 1);
    const reopened = await log.start(OPTIONS);
    expect(reopened.stats().details.recoverySegmentsScanned).toBe(0);
    expect(await snapshot(reopened)).toEqual(modelState(ops));
  });

  it("writes the hint of a segment an open had to scan, unless it found damage there", async () => {
    const storage = await log.start(OPTIONS);
    for (let i = 0; i < 40; i++) {
      await storage.put("b", bytes(`k${i}`), bytes(`value-${i}-`.repeat(4)), { durable: true });
    }
    await log.closeAll();
    for (const name of await hintFiles(log.dir())) await fs.rm(path.join(log.dir(), name));
    const files = await segmentFiles(log.dir());
    expect(files.length).toBeGreaterThan(2);
    const damaged = await fs.readFile(files[1]!);
    damaged[damaged.length - 5] = damaged[damaged.length - 5]! ^ 0xff;
    await fs.writeFile(files[1]!, damaged);

    const scanning = await log.start(OPTIONS);
    expect(scanning.stats().details.recoverySegmentsScanned).toBe(files.length);
    expect(scanning.stats().corruptRecords).toBe(1);
    await log.closeAll();
    expect(await hintFiles(log.dir())).toHaveLength(files.length - 1);

    const again = await log.start(OPTIONS);
    // The damaged segment, and the empty active segment of the open before.
    expect(again.stats().details.recoverySegmentsScanned).toBe(2);
    expect(again.stats().corruptRecords).toBe(1);
    expect(again.stats().keys).toBe(39);
  });

  it("leaves no empty segment behind restarts with no write", async () => {
    const storage = await log.start(OPTIONS);
    await storage.put("b", bytes("k"), bytes("v"), { durable: true });
    await log.closeAll();
    for (let restart = 0; restart < 4; restart++) {
      await log.start(OPTIONS);
      await log.closeAll();
    }
    // The segment with the record, and the active one of the last open.
    expect(await segmentFiles(log.dir())).toHaveLength(2);
    const last = await log.start(OPTIONS);
    expect(hex(await last.get("b", bytes("k")))).toBe(hex(bytes("v")));
  });

  it("scans a segment whose hint does not match it (grown, or damaged)", async () => {
    const storage = await log.start({ segmentBytesMax: 1 << 20 });
    for (let i = 0; i < 20; i++)
      await storage.put("b", bytes(`k${i}`), bytes(`v${i}`), { durable: true });
    await log.closeAll();
    const [hint] = await hintFiles(log.dir());
    const hintPath = path.join(log.dir(), hint!);
    const damaged = await fs.readFile(hintPath);
    damaged[damaged.length - 10] = damaged[damaged.length - 10]! ^ 0xff;
    await fs.writeFile(hintPath, damaged);
    const reopened = await log.start({ segmentBytesMax: 1 << 20 });
    expect(reopened.stats().details.recoveryHintsLoaded).toBe(0);
    expect(reopened.stats().keys).toBe(20);
  });
});
