// Tests of the padding SHA-1 and SHA-256 share: one block while 8 bytes of length still fit
// after the 0x80, two blocks from 56 bytes on, and the length counting bytes hashed before.

import { describe, expect, it } from "vitest";

import { MD_BLOCK_BYTES, padTail, writeUint32BE } from "../../../../node/core/md-padding.js";

describe("padTail", () => {
  it("pads 'abc' to one block: the bytes, 0x80, zeros, 24 as a 64-bit big-endian length", () => {
    const tail = new Uint8Array(2 * MD_BLOCK_BYTES).fill(0xee);
    expect(padTail(tail, Buffer.from("abc"), 3, 3)).toBe(64);
    const expected = new Uint8Array(64);
    expected.set([0x61, 0x62, 0x63, 0x80]);
    expected[63] = 24;
    expect([...tail.subarray(0, 64)]).toEqual([...expected]);
  });

  it.each([
    [55, 64],
    [56, 128],
    [63, 128],
    [64, 64],
    [119, 64],
    [120, 128],
  ])("for %d bytes pads the last partial block to a tail of %d bytes", (length, expected) => {
    const tail = new Uint8Array(2 * MD_BLOCK_BYTES);
    const tailBytes = padTail(tail, new Uint8Array(length).fill(7), length, length);
    expect(tailBytes).toBe(expected);
    const rest = length % 64;
    expect(tail[rest]).toBe(0x80);
    const view = new DataView(tail.buffer, tailBytes - 8, 8);
    expect(view.getBigUint64(0)).toBe(BigInt(length * 8));
  });

  it("counts bytes hashed before in the length, past 2^32 bits", () => {
    const tail = new Uint8Array(2 * MD_BLOCK_BYTES);
    const before = 2 ** 30; // 2^33 bits
    const tailBytes = padTail(tail, new Uint8Array(3), 3, before + 3);
    const view = new DataView(tail.buffer, tailBytes - 8, 8);
    expect(view.getBigUint64(0)).toBe(BigInt((before + 3) * 8));
  });

  it("writes a 32-bit value big-endian", () => {
    const bytes = new Uint8Array(6);
    writeUint32BE(bytes, 1, 0xdeadbeef | 0);
    expect([...bytes]).toEqual([0, 0xde, 0xad, 0xbe, 0xef, 0]);
  });
});
