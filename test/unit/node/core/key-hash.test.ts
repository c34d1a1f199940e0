// Unit tests of key hashing: fixed vectors (computed outside Node, with Python's hashlib) pin the
// encoding so that a change to it cannot slip through, since a changed hash moves every key;
// random keys, short and long, are checked against node:crypto's SHA-1 of the same encoding.

import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { keyHash, partitionOf, partitionOfKey } from "../../../../node/core/key-hash.js";

const utf8 = new TextEncoder();

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function hashWithTop(topBytes: readonly number[]): Uint8Array {
  const hash = new Uint8Array(20);
  hash.set(topBytes);
  return hash;
}

describe("keyHash", () => {
  // sha1(uint32be(len(utf8(bucket))) ‖ utf8(bucket) ‖ key), its partitions for Q = 64, 4096.
  const vectors: { bucket: string; key: Uint8Array; sha1: string; q64: number; q4096: number }[] = [
    {
      bucket: "users",
      key: utf8.encode("alice"),
      sha1: "ab75c522b3780add6bdf4b18321b899cd60f5823",
      q64: 42,
      q4096: 2743,
    },
    {
      bucket: "",
      key: new Uint8Array(),
      sha1: "9069ca78e7450a285173431b3e52c5c25299e473",
      q64: 36,
      q4096: 2310,
    },
    {
      bucket: "b",
      key: new Uint8Array([0x00, 0xff]),
      sha1: "8abe677386d4b861282e582299e1b58974156b06",
      q64: 34,
      q4096: 2219,
    },
    {
      bucket: "ümlaut",
      key: utf8.encode("k"),
      sha1: "df2fc64479db0a94f4b21383214d1b1db32634ee",
      q64: 55,
      q4096: 3570,
    },
  ];

  it.each(vectors)("hashes ($bucket, $key) to the pinned SHA-1 and partitions", (vector) => {
    const hash = keyHash(vector.bucket, vector.key);
    expect(hex(hash)).toBe(vector.sha1);
    expect(partitionOf(hash, 64)).toBe(vector.q64);
    expect(partitionOf(hash, 4096)).toBe(vector.q4096);
    expect(partitionOf(hash, 1)).toBe(0);
    expect(partitionOfKey(vector.bucket, vector.key, 64)).toBe(vector.q64);
  });

  it.each([
    ["ab", "c", "a", "bc"],
    ["", "abc", "abc", ""],
    ["a", "", "", "a"],
    ["x\u0000", "y", "x", "\u0000y"],
  ])("tells (%j, %j) from (%j, %j) though the bytes concatenate alike", (b1, k1, b2, k2) => {
    expect(hex(keyHash(b1, utf8.encode(k1)))).not.toBe(hex(keyHash(b2, utf8.encode(k2))));
  });

  it("reads only the key's bytes in view, not the rest of its buffer", () => {
    const buffer = utf8.encode("xxaliceyy");
    const view = buffer.subarray(2, 7);
    expect(hex(keyHash("users", view))).toBe("ab75c522b3780add6bdf4b18321b899cd60f5823");
  });

  it("returns 20 bytes", () => {
    expect(keyHash("bucket", utf8.encode("key")).length).toBe(20);
  });
});

describe("partitionOf", () => {
  it.each([
    { top: [0x00, 0x00, 0x00, 0x00], q: 64, partition: 0 },
    { top: [0x03, 0xff, 0xff, 0xff], q: 64, partition: 0 },
    { top: [0x04, 0x00, 0x00, 0x00], q: 64, partition: 1 },
    { top: [0x80, 0x00, 0x00, 0x00], q: 2, partition: 1 },
    { top: [0x7f, 0xff, 0xff, 0xff], q: 2, partition: 0 },
    { top: [0xff, 0xff, 0xff, 0xff], q: 64, partition: 63 },
    { top: [0xff, 0xff, 0xff, 0xff], q: 4096, partition: 4095 },
    { top: [0xab, 0xcd, 0x00, 0x00], q: 4096, partition: 0xabc },
    { top: [0xff, 0xff, 0xff, 0xff], q: 1, partition: 0 },
  ])("puts a hash starting $top in partition $partition of $q (the top bits)", (row) => {
    expect(partitionOf(hashWithTop(row.top), row.q)).toBe(row.partition);
  });

  it("ignores everything after the top log2(Q) bits", () => {
    const low = hashWithTop([0x40]);
    const high = hashWithTop([0x40, 0xff, 0xff, 0xff]).fill(0xff, 4);
    expect(partitionOf(low, 4)).toBe(1);
    expect(partitionOf(high, 4)).toBe(1);
  });

  it.each([0, 3, 48, 8192, 1.5, -4, Number.NaN])("throws for partition count %s", (q) => {
    expect(() => partitionOf(new Uint8Array(20), q)).toThrow(/partition count/);
  });

  it.each([0, 19, 21, 32])("throws for a %i-byte hash", (length) => {
    expect(() => partitionOf(new Uint8Array(length), 64)).toThrow(/20 bytes/);
  });
});

describe("keyHash against node:crypto", () => {
  function reference(bucket: string, key: Uint8Array): string {
    const bucketBytes = Buffer.from(bucket, "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bucketBytes.length, 0);
    return createHash("sha1").update(length).update(bucketBytes).update(key).digest("hex");
  }

  it("equals SHA-1 of the encoding for short keys (hashed in JavaScript) and long ones (native)", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40, unit: "grapheme" }),
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }),
          fc.uint8Array({ minLength: 500, maxLength: 3000 }),
        ),
        (bucket, key) => {
          expect(hex(keyHash(bucket, key))).toBe(reference(bucket, key));
        },
      ),
      { numRuns: 400 },
    );
  });

  it.each([
    ["an ASCII bucket, 511 bytes in all (JavaScript)", "bench", 511 - 4 - 5],
    ["an ASCII bucket, 512 bytes in all (JavaScript)", "bench", 512 - 4 - 5],
    ["an ASCII bucket, 513 bytes in all (native)", "bench", 513 - 4 - 5],
    ["a bucket of 2- and 4-byte characters at the 512-byte edge", "é😀", 512 - 4 - 6],
    ["a bucket with a lone surrogate (3 bytes in UTF-8)", "a\ud800b", 40],
  ])("equals SHA-1 of the encoding for %s", (_, bucket, keyBytes) => {
    const key = Uint8Array.from({ length: keyBytes }, (_, at) => (at * 7) & 0xff);
    expect(hex(keyHash(bucket, key))).toBe(reference(bucket, key));
  });

  it("partitionOfKey equals partitionOf(keyHash) for short keys (no digest array) and long ones", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40, unit: "grapheme" }),
        fc.oneof(
          fc.uint8Array({ maxLength: 520 }),
          fc.uint8Array({ minLength: 500, maxLength: 900 }),
        ),
        fc.constantFrom(1, 2, 64, 256, 4096),
        (bucket, key, partitions) => {
          expect(partitionOfKey(bucket, key, partitions)).toBe(
            partitionOf(keyHash(bucket, key), partitions),
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  it("partitionOfKey refuses a partition count that is not a power of two up to 4096", () => {
    expect(() => partitionOfKey("b", utf8.encode("k"), 3)).toThrow(/power of two/);
    expect(() => partitionOfKey("b", utf8.encode("k"), 8192)).toThrow(/power of two/);
  });

  it("keeps an earlier hash intact when later keys are hashed", () => {
    const first = keyHash("users", utf8.encode("alice"));
    keyHash("users", utf8.encode("bob"));
    keyHash("other", new Uint8Array(2000));
    expect(hex(first)).toBe("ab75c522b3780add6bdf4b18321b899cd60f5823");
  });
});
