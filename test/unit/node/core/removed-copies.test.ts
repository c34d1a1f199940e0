import { describe, expect, it } from "vitest";
import { decodeRemovedCopies, encodeRemovedCopies } from "../../../../node/core/removed-copies.js";
import { contextEquals, contextFromDots } from "../../../../node/core/causal-context.js";

describe("the counter floors file", () => {
  it("decodes to what was encoded: any key id, counters, reaped contexts", () => {
    const reaped = contextFromDots([
      { actor: "n1.aa", counter: 1 },
      { actor: "n2.bb", counter: 4 },
    ]);
    const text = encodeRemovedCopies([
      ["b\u0000k\u00ff", { counter: 3 }],
      ["b\u0000gone", { counter: 9, reaped }],
      ["2:日本\u0001\u0002", { counter: 5 }],
      ["lone \ud800 surrogate", { counter: 1 }],
    ]);
    if (text === undefined) throw new Error("not encoded");
    const decoded = decodeRemovedCopies(text);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.entries.map(([id, copy]) => [id, copy.counter])).toEqual([
      ["b\u0000k\u00ff", 3],
      ["b\u0000gone", 9],
      ["2:日本\u0001\u0002", 5],
      ["lone \ud800 surrogate", 1],
    ]);
    const back = decoded.entries[1]![1].reaped;
    expect(back !== undefined && contextEquals(back, reaped)).toBe(true);
  });

  it.each([
    ["not JSON", "{"],
    ["not an array", "{}"],
    ["a bad row", '[["a", 0, null]]'],
    ["a bad context", '[["a", 2, "AAAA"]]'],
  ])("refuses %s", (_name, text) => {
    expect(decodeRemovedCopies(text).ok).toBe(false);
  });
});
