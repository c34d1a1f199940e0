import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Reader, Writer, stringSize } from "../../../../node/core/byte-codec.js";

/** `texts` written as length-prefixed strings, one after the other. */
function encoded(texts: readonly string[]): Uint8Array {
  const writer = new Writer(texts.reduce((size, text) => size + stringSize(text), 0));
  for (const text of texts) writer.string(text);
  return writer.finish();
}

function decoded(bytes: Uint8Array, count: number): string[] {
  const reader = new Reader(bytes, "test");
  return Array.from({ length: count }, () => reader.string("text"));
}

describe("Reader.string and its table of recent short ASCII strings", () => {
  it("reads back every string, whether or not an earlier one shared its slot", () => {
    // 2,000 distinct strings of one length over 256 slots: most slots are shared, many times.
    const texts = Array.from({ length: 2_000 }, (_, index) => `n${String(index).padStart(5, "0")}`);
    const twice = [...texts, ...texts.slice().reverse(), ...texts];
    expect(decoded(encoded(twice), twice.length)).toEqual(twice);
  });

  it("does not let a cached string stand for other bytes of the same hash slot and length", () => {
    const texts = ["aa", "ab", "ba", "bb", "aa", "ab", "", "a", ""];
    expect(decoded(encoded(texts), texts.length)).toEqual(texts);
  });

  it("a string read from a buffer is not changed when that buffer is reused", () => {
    const bytes = encoded(["node-1", "node-2"]);
    const first = decoded(bytes, 2);
    bytes.fill(0x7a); // "zzzz…": the input was pooled and overwritten
    expect(first).toEqual(["node-1", "node-2"]);
    expect(decoded(encoded(["node-1", "node-2"]), 2)).toEqual(["node-1", "node-2"]);
  });

  it("keeps its own copy of a Buffer's bytes: a pooled input written over changes nothing", () => {
    // One Buffer reused for 2,000 strings of one length: many share a slot of the table, and a
    // table entry that only viewed the Buffer would now hold the new bytes with the old text.
    const pooled = Buffer.alloc(stringSize("n00000"));
    for (let index = 0; index < 2_000; index++) {
      const text = `n${String(index).padStart(5, "0")}`;
      pooled.set(encoded([text]));
      expect(decoded(pooled, 1)).toEqual([text]);
    }
  });

  it("round-trips any strings, ASCII or not, short or long, in any order", () => {
    const text = fc.oneof(
      fc.string({ maxLength: 8, unit: fc.constantFrom("a", "b", "c", "-", "1") }),
      fc.string({ maxLength: 80 }),
      fc.string({ maxLength: 20, unit: "grapheme" }),
    );
    fc.assert(
      fc.property(fc.array(text, { maxLength: 40 }), (texts) => {
        expect(decoded(encoded(texts), texts.length)).toEqual(texts);
      }),
      { numRuns: 300 },
    );
  });

  it("still refuses truncated input and invalid UTF-8, naming the byte", () => {
    const truncated = encoded(["abcdef"]).subarray(0, 4);
    expect(() => new Reader(truncated, "test").string("actor")).toThrow(
      "test truncated at byte 1 reading actor",
    );
    const invalid = Uint8Array.of(2, 0xc3, 0x28);
    expect(() => new Reader(invalid, "test").string("actor")).toThrow(
      "invalid utf-8 in actor at byte 1",
    );
  });
});
