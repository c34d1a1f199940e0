import { describe, expect, it } from "vitest";
import { ObjectCache } from "../../../../node/storage/object-cache.js";

const KiB = 1024;
const object = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);

describe("ObjectCache", () => {
  it("serves an object only for the record it was kept from, and drops it otherwise", () => {
    const cache = new ObjectCache(1 << 20);
    cache.set("k", 1, 100, object("v1"));
    expect(text(cache.get("k", 1, 100))).toBe("v1");
    // The key now points at another record (a later write, a merge's move): a miss, dropped.
    expect(cache.get("k", 1, 200)).toBeUndefined();
    expect(cache.get("k", 1, 100)).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, entries: 0 });
  });

  it("keeps a copy: the caller's buffer may be reused, and bytes handed out never change", () => {
    const cache = new ObjectCache(1 << 20);
    const buffer = object("abc");
    const kept = cache.set("k", 1, 0, buffer);
    buffer.fill(0);
    const read = cache.get("k", 1, 0);
    expect(text(read)).toBe("abc");
    expect(text(kept)).toBe("abc");
    // Filling the cache far past its bound: old slabs go, but never under a reader's feet.
    for (let index = 0; index < 5000; index++)
      cache.set(`x${index}`, 2, index, new Uint8Array(900));
    expect(text(read)).toBe("abc");
    expect(cache.get("k", 1, 0)).toBeUndefined();
  });

  it("stays within its bytes, the oldest slab out first", () => {
    // 2 MiB: 32 slabs of 64 KiB; objects of 1 KiB, about 55 a slab with their overhead.
    const cache = new ObjectCache(2 * 1024 * KiB);
    const value = new Uint8Array(KiB);
    for (let index = 0; index < 4000; index++) {
      cache.set(`k${index}`, 1, index, value);
      expect(cache.stats().bytes).toBeLessThanOrEqual(2 * 2 * 1024 * KiB);
    }
    const { entries } = cache.stats();
    expect(entries).toBeGreaterThan(1000);
    expect(entries).toBeLessThan(2048);
    expect(cache.get("k0", 1, 0)).toBeUndefined();
    expect(cache.get("k3999", 1, 3999)).toBeDefined();
  });

  it("gives an entry read in the older half of the cache a second chance", () => {
    const cache = new ObjectCache(2 * 1024 * KiB);
    const value = new Uint8Array(KiB);
    cache.set("hot", 1, 0, value);
    // Past half the cache (16 of 32 slabs) of other writes, the hot key is read, then as much
    // again: without the second chance it would have gone with its slab.
    for (let index = 0; index < 1200; index++) cache.set(`a${index}`, 1, index, value);
    expect(cache.get("hot", 1, 0)).toBeDefined();
    for (let index = 0; index < 1200; index++) cache.set(`b${index}`, 1, index, value);
    expect(cache.get("hot", 1, 0)).toBeDefined();
    expect(cache.get("a0", 1, 0)).toBeUndefined();
  });

  it("keeps no object larger than a slab, and nothing at all below one slab", () => {
    const cache = new ObjectCache(2 * 1024 * KiB);
    expect(cache.set("big", 1, 0, new Uint8Array(65 * KiB))).toBeUndefined();
    expect(cache.get("big", 1, 0)).toBeUndefined();
    const none = new ObjectCache(1);
    expect(none.set("k", 1, 0, object("v"))).toBeUndefined();
    expect(none.get("k", 1, 0)).toBeUndefined();
    expect(() => new ObjectCache(-1)).toThrow(/bytesMax/);
  });

  it("works at the largest bound the log engine takes (1 TiB): slabs stay small", () => {
    const cache = new ObjectCache(2 ** 40);
    cache.set("k", 1, 0, object("v"));
    expect(text(cache.get("k", 1, 0))).toBe("v");
    expect(cache.stats().bytes).toBeLessThanOrEqual(16 * 1024 * KiB + 1024);
  });

  it("replaces an entry set again and forgets a deleted one", () => {
    const cache = new ObjectCache(1 << 20);
    cache.set("k", 1, 0, object("old"));
    cache.set("k", 2, 0, object("new"));
    expect(cache.stats().entries).toBe(1);
    expect(text(cache.get("k", 2, 0))).toBe("new");
    cache.delete("k");
    expect(cache.get("k", 2, 0)).toBeUndefined();
    expect(cache.stats().entries).toBe(0);
  });
});
