// Failed writes and fsyncs of the log engine, injected by wrapping node:fs: the failing batch
// rejects with the cause in the message, the key directory never points at bytes that were
// undone, reads go on, later writes work, and a reopen finds no corruption. A rollback that undoes
// resolved non-durable writes is reported, and the replica above brings its listeners (the
// anti-entropy trees) back to what storage holds and renews its actor.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { LogStorage } from "../../../../node/storage/log-storage.js";
import { Replica } from "../../../../node/replica.js";
import { EMPTY_CONTEXT } from "../../../../node/core/causal-context.js";
import type { DvvSet } from "../../../../node/core/dvv.js";
import { textVersion as version } from "../core/dvv-test-helpers.js";
import { bytes, hex, makeTempDir, openLog, removeDir, snapshot } from "./storage-test-helpers.js";

const faults = vi.hoisted(() => ({
  failSyncs: 0,
  syncFailDelayMs: 0,
  shortWrites: 0,
  truncateDelayMs: 0,
  readDelayMs: 0,
}));

vi.mock("node:fs", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs")>();
  const errnoError = (code: string, text: string, call: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`${code}: ${text}, ${call}`), { code, syscall: call });
  const fdatasync = ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
    if (faults.failSyncs > 0) {
      faults.failSyncs -= 1;
      const fail = (): void => callback(errnoError("EIO", "i/o error", "fdatasync"));
      if (faults.syncFailDelayMs > 0) setTimeout(fail, faults.syncFailDelayMs);
      else process.nextTick(fail);
      return;
    }
    actual.fdatasync(fd, callback);
  }) as typeof actual.fdatasync;
  // A short write (half the bytes land), then ENOSPC on the rest: the worst case of a full disk.
  let failNext = false;
  const write = ((
    fd: number,
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: Function,
  ) => {
    if (failNext) {
      failNext = false;
      process.nextTick(() => callback(errnoError("ENOSPC", "no space left on device", "write")));
      return;
    }
    if (faults.shortWrites > 0 && length > 1) {
      faults.shortWrites -= 1;
      failNext = true;
      actual.write(fd, buffer, offset, Math.floor(length / 2), position, callback as never);
      return;
    }
    actual.write(fd, buffer, offset, length, position, callback as never);
  }) as unknown as typeof actual.write;
  // Appends use writeSync (a page-cache copy, no thread-pool hop): the same faults, thrown.
  const writeSync = ((
    fd: number,
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
  ): number => {
    if (failNext) {
      failNext = false;
      throw errnoError("ENOSPC", "no space left on device", "write");
    }
    if (faults.shortWrites > 0 && length > 1) {
      faults.shortWrites -= 1;
      failNext = true;
      return actual.writeSync(fd, buffer, offset, Math.floor(length / 2), position);
    }
    return actual.writeSync(fd, buffer, offset, length, position);
  }) as unknown as typeof actual.writeSync;
  // A batch of records goes in one writev: the same faults, a short write cutting the batch.
  const writevSync = ((fd: number, buffers: readonly Buffer[], position: number): number => {
    const all = Buffer.concat(buffers);
    return writeSync(fd, all, 0, all.length, position);
  }) as unknown as typeof actual.writevSync;
  // A slow ftruncate keeps a rollback in progress (records restored, file not yet cut).
  const ftruncate = ((fd: number, length: number, callback: (error: Error | null) => void) => {
    if (faults.truncateDelayMs > 0) {
      setTimeout(() => actual.ftruncate(fd, length, callback), faults.truncateDelayMs);
      return;
    }
    actual.ftruncate(fd, length, callback);
  }) as typeof actual.ftruncate;
  // A slow positional read (a merge's windows) lets other writes settle meanwhile.
  const read = ((...args: Parameters<typeof actual.read>) => {
    if (faults.readDelayMs > 0) setTimeout(() => actual.read(...args), faults.readDelayMs);
    else actual.read(...args);
  }) as typeof actual.read;
  return {
    ...actual,
    default: { ...actual, fdatasync, ftruncate, read, write, writeSync, writevSync },
    fdatasync,
    ftruncate,
    read,
    write,
    writeSync,
    writevSync,
  };
});

let dir: string;
let storage: LogStorage;

beforeEach(async () => {
  dir = await makeTempDir();
  storage = await openLog(dir, { segmentBytesMax: 1 << 20 });
  faults.failSyncs = 0;
  faults.syncFailDelayMs = 0;
  faults.shortWrites = 0;
  faults.truncateDelayMs = 0;
  faults.readDelayMs = 0;
});

afterEach(async () => {
  await storage.close();
  await removeDir(dir);
});

describe("log storage when the disk fails", () => {
  it("a failed fsync rejects every durable write of the batch and rolls their keys back", async () => {
    await storage.put("b", bytes("k"), bytes("v1"), { durable: true });
    faults.failSyncs = 1;
    const outcomes = await Promise.allSettled([
      storage.put("b", bytes("k"), bytes("v2"), { durable: true }),
      storage.put("b", bytes("j"), bytes("x"), { durable: true }),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      expect(String((outcome as PromiseRejectedResult).reason)).toMatch(
        /storage write failed: EIO: i\/o error/,
      );
    }
    expect(hex(await storage.get("b", bytes("k")))).toBe(hex(bytes("v1")));
    expect(await storage.get("b", bytes("j"))).toBeUndefined();
    await storage.put("b", bytes("k"), bytes("v3"), { durable: true });
    await storage.close();
    storage = await openLog(dir);
    expect(await snapshot(storage)).toEqual({ [`b/${hex(bytes("k"))}`]: hex(bytes("v3")) });
    expect(storage.stats().corruptRecords).toBe(0);
  });

  it("with batches pipelined behind a failing fsync, exactly the acknowledged writes stay readable", async () => {
    await storage.close();
    storage = await openLog(dir, { batchBytesMax: 1000 });
    faults.failSyncs = 1;
    const keys = Array.from({ length: 300 }, (_, i) => bytes(`key-${i}`));
    const outcomes = await Promise.allSettled(
      keys.map((key) => storage.put("b", key, key, { durable: true })),
    );
    const rejected = outcomes.filter((outcome) => outcome.status === "rejected").length;
    expect(rejected).toBeGreaterThan(0);
    expect(rejected).toBeLessThan(300);
    const expected: Record<string, string> = {};
    outcomes.forEach((outcome, i) => {
      if (outcome.status === "fulfilled") expected[`b/${hex(keys[i])}`] = hex(keys[i]);
    });
    expect(await snapshot(storage)).toEqual(expected);
    await storage.close();
    storage = await openLog(dir);
    expect(await snapshot(storage)).toEqual(expected);
    expect(storage.stats().corruptRecords).toBe(0);
  });

  it("a failed fsync at segment rollover rolls back the unsynced writes and the engine goes on", async () => {
    await storage.close();
    storage = await openLog(dir, { segmentBytesMax: 200, syncIntervalMs: 60_000 });
    await storage.put("b", bytes("kept"), bytes("synced"), { durable: true });
    await storage.put("b", bytes("unsynced"), new Uint8Array(300), { durable: false });
    faults.failSyncs = 1;
    await expect(storage.put("b", bytes("next"), bytes("x"), { durable: true })).rejects.toThrow(
      /storage write failed: EIO/,
    );
    expect(await storage.get("b", bytes("unsynced"))).toBeUndefined();
    await storage.put("b", bytes("after"), bytes("y"), { durable: true });
    const expected = {
      [`b/${hex(bytes("after"))}`]: hex(bytes("y")),
      [`b/${hex(bytes("kept"))}`]: hex(bytes("synced")),
    };
    expect(await snapshot(storage)).toEqual(expected);
    await storage.close();
    storage = await openLog(dir);
    expect(await snapshot(storage)).toEqual(expected);
    expect(storage.stats().corruptRecords).toBe(0);
  });

  it("a short write followed by ENOSPC rejects the batch, cuts the partial bytes and keeps reads working", async () => {
    await storage.put("b", bytes("k"), bytes("before"), { durable: true });
    faults.shortWrites = 1;
    await expect(
      storage.put("b", bytes("k"), bytes("after-".repeat(100)), { durable: true }),
    ).rejects.toThrow("storage write failed: ENOSPC: no space left on device");
    expect(hex(await storage.get("b", bytes("k")))).toBe(hex(bytes("before")));
    await storage.put("b", bytes("other"), bytes("fine"), { durable: true });
    await storage.close();
    storage = await openLog(dir);
    expect(hex(await storage.get("b", bytes("k")))).toBe(hex(bytes("before")));
    expect(hex(await storage.get("b", bytes("other")))).toBe(hex(bytes("fine")));
    expect(storage.stats().corruptRecords).toBe(0);
  });
});

describe("a failed fsync during a merge", () => {
  it("leaves no key behind in the merged segments: the merge gives up and runs again later", async () => {
    // k's record is first in the input; filler makes a second read window. The merge skips k
    // (a newer write moved it on), then that write's fsync fails and the rollback points k back
    // at the record the merge has passed; committing would count k corrupt and forget it.
    await storage.close();
    storage = await openLog(dir, {
      autoMerge: false,
      objectCacheBytesMax: 0,
      segmentBytesMax: 1 << 20,
    });
    await storage.put("b", bytes("k"), bytes("v1"), { durable: true });
    const filler = Buffer.alloc(1024, 7);
    for (let i = 0; i < 1500; i += 1) {
      // The last one durable: all synced, so the merge's freeze makes no fsync of its own.
      await storage.put("b", bytes(`f${i}`), filler, { durable: i === 1499 });
    }
    // Read windows arrive after 200 ms each and the fsync fails after 300 ms: the first window
    // (k skipped), then the rollback, then the second window and the commit.
    faults.readDelayMs = 200;
    faults.syncFailDelayMs = 300;
    const merging = storage.merge();
    // Queued behind the merge's freeze: the write lands in the new active segment.
    await new Promise((resolve) => setImmediate(resolve));
    faults.failSyncs = 1;
    const put = storage.put("b", bytes("k"), bytes("v2"), { durable: true });
    const [merged, written] = await Promise.allSettled([merging, put]);
    expect(written.status).toBe("rejected");
    expect(merged.status).toBe("rejected");
    expect(String((merged as PromiseRejectedResult).reason)).toMatch(/rolled keys back/);
    faults.readDelayMs = 0;
    expect(hex(await storage.get("b", bytes("k")))).toBe(hex(bytes("v1")));
    expect(storage.corruptions()).toEqual([]);
    await storage.merge();
    expect(hex(await storage.get("b", bytes("k")))).toBe(hex(bytes("v1")));
    expect(hex(await storage.get("b", bytes("f1499")))).toBe(hex(filler));
    expect(storage.corruptions()).toEqual([]);
  });
});

describe("a rollback of resolved non-durable writes", () => {
  const accept = { check: () => undefined } as const;

  it("is reported; the replica's listeners see storage again and its actor is renewed", async () => {
    await storage.close();
    storage = await openLog(dir, { syncIntervalMs: 60_000 });
    const reported: string[][] = [];
    storage.onRollback((keys) => reported.push(keys.map((k) => `${k.bucket}/${hex(k.key)}`)));
    const replica = new Replica(storage, "n1.test");
    const seen = new Map<string, DvvSet | undefined>();
    replica.onWrite((_bucket, _key, _before, after, id) => seen.set(id, after));
    replica.onRemove((_bucket, _key, _before, id) => seen.set(id, undefined));

    const kept = await replica.coordinate("b", bytes("kept"), EMPTY_CONTEXT, version("v1"), {
      ...accept,
      durable: true,
    });
    // Resolved at once, not yet synced: the fsync that fails below undoes both.
    await replica.coordinate("b", bytes("kept"), EMPTY_CONTEXT, version("v2"), {
      ...accept,
      durable: false,
    });
    await replica.coordinate("b", bytes("new"), EMPTY_CONTEXT, version("n"), {
      ...accept,
      durable: false,
    });
    const actorBefore = replica.actor;
    seen.clear();
    faults.failSyncs = 1;
    await expect(
      replica.coordinate("b", bytes("other"), EMPTY_CONTEXT, version("x"), {
        ...accept,
        durable: true,
      }),
    ).rejects.toThrow(/storage write failed: EIO/);
    // The listeners are told under each key's lock, after writes still in flight on it.
    for (let turn = 0; turn < 100 && seen.size < 3; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }

    expect(reported.flat().sort()).toEqual(
      ["kept", "new", "other"].map((key) => `b/${hex(bytes(key))}`).sort(),
    );
    expect(await replica.get("b", bytes("kept"))).toEqual(kept.object);
    expect(await replica.get("b", bytes("new"))).toBeUndefined();
    const idOf = (key: string): string => [...seen.keys()].find((id) => id.endsWith(key))!;
    expect(seen.get(idOf("kept"))).toEqual(kept.object);
    expect(seen.get(idOf("new"))).toBeUndefined();
    expect(seen.has(idOf("new"))).toBe(true);

    // The undone v2 carried this actor's next dot, which other replicas may hold: a new write
    // must not reuse it.
    expect(replica.actor).not.toBe(actorBefore);
    const next = await replica.coordinate("b", bytes("kept"), EMPTY_CONTEXT, version("v3"), {
      ...accept,
      durable: true,
    });
    expect(next.dot.actor).not.toBe(actorBefore);
  });

  it("renews the actor before a write can see a restored copy, while the rollback still runs", async () => {
    await storage.close();
    storage = await openLog(dir, { syncIntervalMs: 60_000 });
    const replica = new Replica(storage, "n1.test");
    const key = bytes("k");
    const durably = { ...accept, durable: true };
    await replica.coordinate("b", key, EMPTY_CONTEXT, version("v1"), durably);
    const undone = await replica.coordinate("b", key, EMPTY_CONTEXT, version("v2"), {
      ...accept,
      durable: false,
    });
    faults.truncateDelayMs = 100;
    faults.failSyncs = 1;
    const failing = replica
      .coordinate("b", bytes("other"), EMPTY_CONTEXT, version("x"), durably)
      .then(
        () => "resolved",
        (error: unknown) => String(error),
      );
    // As soon as reads show the restored v1 (the file is still being cut), write blind.
    let raced: Promise<{ dot: { actor: string; counter: number } }> | undefined;
    while (raced === undefined) {
      await new Promise((resolve) => setImmediate(resolve));
      const siblings = (await replica.get("b", key))?.siblings.length;
      if (siblings === 1) {
        raced = replica.coordinate("b", key, EMPTY_CONTEXT, version("blind"), durably);
      }
    }
    expect(await failing).toMatch(/storage write failed: EIO/);
    const blind = await raced;
    expect(blind.dot).not.toEqual(undone.dot);
  });
});
