// Unit and property tests of the JavaScript SHA-1: the FIPS 180-2 examples, every padding case
// around the 64-byte block boundary, and random inputs checked against node:crypto.

import { hash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { SHA1_BYTES, sha1, sha1Top32 } from "../../../../node/core/sha1.js";

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

const ascii = new TextEncoder();

describe("sha1", () => {
  it.each([
    ["", "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    ["abc", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
    ],
  ])("hashes %j to the FIPS 180-2 digest", (text, digest) => {
    expect(hex(sha1(ascii.encode(text)))).toBe(digest);
  });

  it("hashes a million 'a's to the FIPS 180-2 digest (many blocks)", () => {
    const input = new Uint8Array(1_000_000).fill(0x61);
    expect(hex(sha1(input))).toBe("34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  });

  it("equals node:crypto at every length from 0 to 200 bytes (each padding case)", () => {
    for (let length = 0; length <= 200; length++) {
      const input = Uint8Array.from({ length }, (_, at) => (at * 131 + length) & 0xff);
      expect(hex(sha1(input)), `length ${length}`).toBe(hash("sha1", input, "hex"));
    }
  });

  it("equals node:crypto on random inputs, and hashes only the first `length` bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(), (input, cut) => {
        expect(hex(sha1(input))).toBe(hash("sha1", input, "hex"));
        const length = input.length === 0 ? 0 : cut % (input.length + 1);
        expect(hex(sha1(input, length))).toBe(hash("sha1", input.subarray(0, length), "hex"));
      }),
      { numRuns: 500 },
    );
  });

  it("sha1Top32 is the digest's first four bytes read big-endian, for any input and length", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (input, cut) => {
        const length = input.length === 0 ? 0 : cut % (input.length + 1);
        const digest = Buffer.from(hash("sha1", input.subarray(0, length), "buffer"));
        expect(sha1Top32(input, length)).toBe(digest.readUInt32BE(0));
      }),
      { numRuns: 300 },
    );
    // A digest whose first byte is 0x80 or more: the result is unsigned.
    expect(sha1Top32(ascii.encode("abc"))).toBe(0xa9993e36);
  });

  it("returns a new array each call, so a caller may keep it", () => {
    const first = sha1(ascii.encode("abc"));
    const second = sha1(ascii.encode("abd"));
    expect(first.length).toBe(SHA1_BYTES);
    expect(hex(first)).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(first).not.toBe(second);
  });

  it.each([-1, 4, 1.5, Number.NaN])("refuses length %d outside the input", (length) => {
    expect(() => sha1(ascii.encode("abc"), length)).toThrow(/sha1: length/);
  });
});
