import { describe, expect, it } from "vitest";
import { ObjectCache } from "../../../../node/storage/object-cache.js";

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
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, entries: 0, bytes: 0 });
  });

  it("hands out copies: a caller writing to what it read changes nothing cached", () => {
    const cache = new ObjectCache(1 << 20);
    cache.set("k", 1, 0, object("abc"));
    cache.get("k", 1, 0)!.fill(0);
    expect(text(cache.get("k", 1, 0))).toBe("abc");
  });

  it("stays within its bytes, pushing out the least recently used first", () => {
    // Entries of exactly 1,000 bytes (object, 3-char id, overhead): sixteen fill the cache.
    const cache = new ObjectCache(16_000);
    const value = new Uint8Array(1000 - 3 - 96);
    const id = (index: number): string => `k${String(index).padStart(2, "0")}`;
    for (let index = 0; index < 16; index++) cache.set(id(index), 1, index, value);
    expect(cache.stats()).toMatchObject({ entries: 16, bytes: 16_000 });
    expect(cache.get(id(0), 1, 0)).toBeDefined(); // k00 is now the most recent: k01 goes first
    cache.set(id(16), 1, 16, value);
    expect(cache.stats()).toMatchObject({ entries: 16, bytes: 16_000 });
    expect(cache.get(id(1), 1, 1)).toBeUndefined();
    expect(cache.get(id(0), 1, 0)).toBeDefined();
    expect(cache.get(id(16), 1, 16)).toBeDefined();
  });

  it("keeps no object larger than a sixteenth of it, and nothing at all at 0 bytes", () => {
    const cache = new ObjectCache(16 * 1024);
    cache.set("big", 1, 0, new Uint8Array(2000));
    expect(cache.get("big", 1, 0)).toBeUndefined();
    const none = new ObjectCache(0);
    none.set("k", 1, 0, object("v"));
    expect(none.get("k", 1, 0)).toBeUndefined();
    expect(() => new ObjectCache(-1)).toThrow(/bytesMax/);
  });

  it("replaces an entry set again and forgets a deleted one", () => {
    const cache = new ObjectCache(1 << 20);
    cache.set("k", 1, 0, object("old"));
    cache.set("k", 2, 0, object("new"));
    expect(cache.stats().entries).toBe(1);
    expect(text(cache.get("k", 2, 0))).toBe("new");
    cache.delete("k");
    expect(cache.get("k", 2, 0)).toBeUndefined();
    expect(cache.stats().bytes).toBe(0);
  });
});
