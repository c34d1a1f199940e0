// Unit and property tests of the JavaScript SHA-256: the FIPS 180-2 examples, every padding case
// around the 64-byte block boundary, a state resumed after absorbed blocks, and random inputs
// checked against node:crypto.

import { hash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import {
  SHA256_BLOCK_BYTES,
  SHA256_BYTES,
  sha256,
  sha256Block,
  sha256Finish,
  sha256Start,
} from "../../../../node/core/sha256.js";

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

const ascii = new TextEncoder();

describe("sha256", () => {
  it.each([
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
  ])("hashes %j to the FIPS 180-2 digest", (text, digest) => {
    expect(hex(sha256(ascii.encode(text)))).toBe(digest);
  });

  it("hashes a million 'a's to the FIPS 180-2 digest (many blocks)", () => {
    const input = new Uint8Array(1_000_000).fill(0x61);
    expect(hex(sha256(input))).toBe(
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    );
  });

  it("equals node:crypto at every length from 0 to 200 bytes (each padding case)", () => {
    for (let length = 0; length <= 200; length++) {
      const input = Uint8Array.from({ length }, (_, at) => (at * 131 + length) & 0xff);
      expect(hex(sha256(input)), `length ${length}`).toBe(hash("sha256", input, "hex"));
    }
  });

  it("equals node:crypto on random inputs, and hashes only the first `length` bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(), (input, cut) => {
        expect(hex(sha256(input))).toBe(hash("sha256", input, "hex"));
        const length = input.length === 0 ? 0 : cut % (input.length + 1);
        expect(hex(sha256(input, length))).toBe(hash("sha256", input.subarray(0, length), "hex"));
      }),
      { numRuns: 500 },
    );
  });

  it("finishes from a state with whole blocks absorbed, counting them in the length", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.uint8Array({ maxLength: 300 }),
        (blocks, rest) => {
          const prefix = Uint8Array.from({ length: blocks * SHA256_BLOCK_BYTES }, (_, at) => at);
          const state = sha256Start();
          for (let block = 0; block < blocks; block++) {
            sha256Block(state, prefix, block * SHA256_BLOCK_BYTES);
          }
          const before = Int32Array.from(state);
          const out = new Uint8Array(SHA256_BYTES + 3);
          sha256Finish(state, prefix.length, rest, rest.length, out, 3);
          const whole = Buffer.concat([prefix, rest]);
          expect(hex(out.subarray(3))).toBe(hash("sha256", whole, "hex"));
          expect(state, "the start state is left as it was").toEqual(before);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("writes only the digest bytes asked for", () => {
    const out = new Uint8Array(20).fill(0xee);
    sha256Finish(sha256Start(), 0, ascii.encode("abc"), 3, out, 2, 16);
    expect(hex(out.subarray(2, 18))).toBe("ba7816bf8f01cfea414140de5dae2223");
    expect([...out.subarray(0, 2), ...out.subarray(18)]).toEqual([0xee, 0xee, 0xee, 0xee]);
  });

  it.each([-1, 4, 1.5, Number.NaN])("refuses length %d outside the input", (length) => {
    expect(() => sha256(ascii.encode("abc"), length)).toThrow(/sha256: length/);
  });

  it("refuses a block that is not there, and a part-block absorbed", () => {
    expect(() => sha256Block(sha256Start(), new Uint8Array(70), 7)).toThrow(/no block at 7/);
    const out = new Uint8Array(SHA256_BYTES);
    expect(() => sha256Finish(sha256Start(), 10, new Uint8Array(1), 1, out, 0)).toThrow(
      /not a whole number of blocks/,
    );
    expect(() => sha256Finish(sha256Start(), 0, new Uint8Array(1), 1, out, 1)).toThrow(
      /do not fit/,
    );
  });
});
