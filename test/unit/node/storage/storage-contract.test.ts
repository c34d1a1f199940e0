// The Storage contract (node/storage/storage.ts), checked against every engine: memory, log and
// lmdb. Persistent engines are also checked across close and reopen.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Storage } from "../../../../node/storage/storage.js";
import {
  ENGINE_FACTORIES,
  bytes,
  hex,
  makeTempDir,
  removeDir,
  snapshot,
  type EngineFactory,
} from "./storage-test-helpers.js";

describe.each(ENGINE_FACTORIES)("$name storage contract", (factory: EngineFactory) => {
  let dir: string;
  let storage: Storage;

  beforeEach(async () => {
    dir = await makeTempDir();
    storage = factory.create(dir);
    await storage.open();
  });

  afterEach(async () => {
    await storage.close();
    await removeDir(dir);
  });

  it("get returns undefined for a key never written", async () => {
    expect(await storage.get("b", bytes("missing"))).toBeUndefined();
  });

  it("get sees the object of a resolved put, durable or not", async () => {
    await storage.put("b", bytes("k1"), bytes("v1"), { durable: true });
    await storage.put("b", bytes("k2"), bytes("v2"), { durable: false });
    expect(hex(await storage.get("b", bytes("k1")))).toBe(hex(bytes("v1")));
    expect(hex(await storage.get("b", bytes("k2")))).toBe(hex(bytes("v2")));
  });

  it("a durable put reports durable: true", async () => {
    const result = await storage.put("b", bytes("k"), bytes("v"), { durable: true });
    expect(result.durable).toBe(true);
  });

  it("a later put replaces the object and remove makes the key absent", async () => {
    await storage.put("b", bytes("k"), bytes("old"), { durable: true });
    await storage.put("b", bytes("k"), bytes("new"), { durable: true });
    expect(hex(await storage.get("b", bytes("k")))).toBe(hex(bytes("new")));
    await storage.remove("b", bytes("k"), { durable: true });
    expect(await storage.get("b", bytes("k"))).toBeUndefined();
  });

  it("removing an absent key is not an error", async () => {
    await expect(storage.remove("b", bytes("nothing"), { durable: true })).resolves.toBeDefined();
  });

  it("writes to one key issued without waiting apply in call order", async () => {
    const writes = [];
    for (let i = 0; i < 50; i += 1)
      writes.push(storage.put("b", bytes("k"), bytes(`v${i}`), { durable: i % 2 === 0 }));
    writes.push(storage.remove("b", bytes("k"), { durable: false }));
    writes.push(storage.put("b", bytes("k"), bytes("last"), { durable: true }));
    await Promise.all(writes);
    expect(hex(await storage.get("b", bytes("k")))).toBe(hex(bytes("last")));
  });

  it("buckets separate equal keys, and binary keys and empty objects round-trip", async () => {
    const key = new Uint8Array([0, 255, 58, 0, 1]);
    await storage.put("a", key, bytes("in a"), { durable: true });
    await storage.put("a:", key, new Uint8Array(0), { durable: true });
    expect(hex(await storage.get("a", key))).toBe(hex(bytes("in a")));
    expect(hex(await storage.get("a:", key))).toBe("");
    expect(await storage.get("", key)).toBeUndefined();
  });

  it("a caller reusing its buffers does not change what is stored", async () => {
    const key = bytes("k");
    const object = bytes("original");
    await storage.put("b", key, object, { durable: true });
    object.fill(0);
    key.fill(0);
    expect(hex(await storage.get("b", bytes("k")))).toBe(hex(bytes("original")));
  });

  it("a key longer than 2 KiB and a 1 MiB object round-trip", async () => {
    const longKey = new Uint8Array(4000).map((_, i) => i % 251);
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 7) % 256);
    await storage.put("b", longKey, big, { durable: true });
    expect(hex(await storage.get("b", longKey))).toBe(hex(big));
    const entries = await snapshot(storage);
    expect(entries[`b/${hex(longKey)}`]).toBe(hex(big));
  });

  it.runIf(factory.enforcesLimits)(
    "rejects a key over 64 KiB and leaves the store unchanged",
    async () => {
      await expect(
        storage.put("b", new Uint8Array(64 * 1024 + 1), bytes("v"), { durable: true }),
      ).rejects.toThrow(/key too large/);
      expect(storage.stats().keys).toBe(0);
    },
  );

  it("storedBytes tells an object's size without reading it, at most a header over", async () => {
    expect(storage.storedBytes?.("b", bytes("missing"))).toBeUndefined();
    const object = new Uint8Array(100_000).fill(7);
    await storage.put("b", bytes("big"), object, { durable: true });
    await storage.put("b", bytes("small"), bytes("v"), { durable: true });
    const big = storage.storedBytes?.("b", bytes("big"));
    expect(big).toBeGreaterThanOrEqual(object.byteLength);
    expect(big).toBeLessThan(object.byteLength + 256);
    expect(storage.storedBytes?.("b", bytes("small"))).toBeLessThan(256);
    await storage.remove("b", bytes("big"), { durable: true });
    expect(storage.storedBytes?.("b", bytes("big"))).toBeUndefined();
  });

  it("entries yields every stored entry exactly once", async () => {
    for (let i = 0; i < 30; i += 1)
      await storage.put(`b${i % 3}`, bytes(`k${i}`), bytes(`v${i}`), { durable: false });
    await storage.remove("b0", bytes("k0"), { durable: true });
    const entries = await snapshot(storage);
    expect(Object.keys(entries)).toHaveLength(29);
    expect(entries[`b1/${hex(bytes("k1"))}`]).toBe(hex(bytes("v1")));
    expect(entries[`b0/${hex(bytes("k0"))}`]).toBeUndefined();
  });

  it("stats counts keys and names the engine", async () => {
    await storage.put("b", bytes("k1"), bytes("v"), { durable: true });
    await storage.put("b", bytes("k2"), bytes("v"), { durable: true });
    await storage.remove("b", bytes("k1"), { durable: true });
    const stats = storage.stats();
    expect(stats.engine).toBe(factory.name);
    expect(stats.keys).toBe(1);
    expect(stats.corruptRecords).toBe(0);
  });

  it("calls after close reject", async () => {
    await storage.close();
    await expect(storage.get("b", bytes("k"))).rejects.toThrow(/closed/);
  });

  it.runIf(factory.persistent)("durable writes survive close and reopen", async () => {
    await storage.put("b", bytes("k1"), bytes("v1"), { durable: true });
    await storage.put("b", bytes("k2"), bytes("v2"), { durable: false });
    await storage.put("b", bytes("k3"), bytes("v3"), { durable: true });
    await storage.remove("b", bytes("k3"), { durable: true });
    const before = await snapshot(storage);
    await storage.close();
    storage = factory.create(dir);
    await storage.open();
    expect(await snapshot(storage)).toEqual(before);
    expect(Object.keys(before)).toHaveLength(2);
  });
});
