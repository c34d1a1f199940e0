// Tests of the HMAC-SHA256 with precomputed pads: RFC 4231's test cases, keys shorter than,
// equal to and longer than a block, and random keys and messages on both sides of the switch
// to node:crypto, all checked against node:crypto's createHmac.

import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { HmacSha256, SHORT_MESSAGE_BYTES_MAX } from "../../../../node/core/hmac-sha256.js";

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function reference(key: Uint8Array, message: Uint8Array): string {
  return createHmac("sha256", key).update(message).digest("hex");
}

describe("HmacSha256", () => {
  it.each([
    [
      "RFC 4231 case 1 (20-byte key)",
      Buffer.alloc(20, 0x0b),
      Buffer.from("Hi There"),
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ],
    [
      "RFC 4231 case 2 (short key)",
      Buffer.from("Jefe"),
      Buffer.from("what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [
      "RFC 4231 case 6 (131-byte key, hashed first)",
      Buffer.alloc(131, 0xaa),
      Buffer.from("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
  ])("gives %s's MAC", (_name, key, message, mac) => {
    expect(hex(new HmacSha256(key).mac(message))).toBe(mac);
  });

  it("equals node:crypto for keys of 0-150 bytes and messages on both sides of the switch", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 150 }),
        fc.uint8Array({ maxLength: SHORT_MESSAGE_BYTES_MAX + 200 }),
        (key, message) => {
          expect(hex(new HmacSha256(key).mac(message))).toBe(reference(key, message));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("equals node:crypto at the switch's edges, one key reused for many messages", () => {
    const hmac = new HmacSha256(Buffer.alloc(32, 7));
    for (const length of [0, 1, 55, 56, 63, 64, 119, 120, 511, 512, 513, 1000]) {
      const message = Uint8Array.from({ length }, (_, at) => (at * 37 + length) & 0xff);
      expect(hex(hmac.mac(message)), `length ${length}`).toBe(
        reference(Buffer.alloc(32, 7), message),
      );
    }
  });

  it("MACs only the first `length` bytes and writes only the bytes asked for", () => {
    const key = Buffer.from("a key of the cluster, 32 bytes..");
    const hmac = new HmacSha256(key);
    for (const length of [10, 600]) {
      const message = new Uint8Array(length + 50).fill(0x41);
      const out = new Uint8Array(24).fill(0xee);
      hmac.macInto(message, length, out, 4, 16);
      expect(hex(out.subarray(4, 20))).toBe(
        reference(key, message.subarray(0, length)).slice(0, 32),
      );
      expect([...out.subarray(0, 4), ...out.subarray(20)]).toEqual(new Array(8).fill(0xee));
    }
  });

  it("keeps its own copy of the secret: changing the caller's array changes nothing", () => {
    const secret = new Uint8Array(16).fill(1);
    const hmac = new HmacSha256(secret);
    secret.fill(2);
    const long = new Uint8Array(SHORT_MESSAGE_BYTES_MAX + 1);
    expect(hex(hmac.mac(long))).toBe(reference(new Uint8Array(16).fill(1), long));
    expect(hex(hmac.mac(long.subarray(0, 5)))).toBe(
      reference(new Uint8Array(16).fill(1), long.subarray(0, 5)),
    );
  });

  it("refuses a length outside the message and an output that does not fit", () => {
    const hmac = new HmacSha256(new Uint8Array(16));
    const out = new Uint8Array(32);
    expect(() => hmac.macInto(new Uint8Array(4), 5, out, 0)).toThrow(/length 5 outside 0..4/);
    expect(() => hmac.macInto(new Uint8Array(4), 4, out, 20, 16)).toThrow(/do not fit/);
  });
});
