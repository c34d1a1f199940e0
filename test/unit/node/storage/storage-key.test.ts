// Goal: storageKeyString names each (bucket, key) pair by a distinct string that parses back.
// Method: fast-check over arbitrary buckets and key bytes, plus the concatenation case.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { parseStorageKeyString, storageKeyString } from "../../../../node/storage/storage-key.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("storageKeyString", () => {
  test.prop([fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 40 })], { numRuns: 300 })(
    "parseStorageKeyString inverts it",
    (bucket, key) => {
      const parsed = parseStorageKeyString(storageKeyString(bucket, key));
      expect(parsed.bucket).toBe(bucket);
      expect([...parsed.key]).toEqual([...key]);
    },
  );

  const pair = fc.tuple(fc.string({ maxLength: 6 }), fc.uint8Array({ maxLength: 6 }));
  test.prop([pair, pair], { numRuns: 500 })("is injective", ([bucketA, keyA], [bucketB, keyB]) => {
    const same = bucketA === bucketB && Buffer.compare(keyA, keyB) === 0;
    expect(storageKeyString(bucketA, keyA) === storageKeyString(bucketB, keyB)).toBe(same);
  });

  it("tells apart pairs that concatenate alike", () => {
    expect(storageKeyString("ab", bytes("c"))).not.toBe(storageKeyString("a", bytes("bc")));
    expect(storageKeyString("1", bytes("2:x"))).not.toBe(storageKeyString("12", bytes("x")));
  });

  it("keeps a key view's own bytes only", () => {
    const backing = bytes("xxkeyxx");
    expect(storageKeyString("b", backing.subarray(2, 5))).toBe(storageKeyString("b", bytes("key")));
  });
});
