// Unit tests of spareChoice, table-driven. A row is: how the slot's write failed, the slot
// ("P" a primary, "F" a fallback), whether the write is sloppy, the spares left, and the choice
// ("answer", "hint x": answer and hand x a hinted copy for the slot's primary, "try x": x takes
// the slot's place).

import { describe, expect, it } from "vitest";
import { nodeId } from "../../../../node/core/node-id.js";
import {
  spareChoice,
  type SlotFailure,
  type SpareChoice,
} from "../../../../coordinator/core/spare-choice.js";

function show(choice: SpareChoice): string {
  switch (choice.kind) {
    case "answer":
      return "answer";
    case "answer-and-hint":
      return `hint ${choice.spare}`;
    case "try-spare":
      return `try ${choice.spare}`;
  }
}

describe("spareChoice", () => {
  // prettier-ignore
  const rows: readonly (readonly [SlotFailure, "P" | "F", boolean, string, string])[] = [
    // failure       slot  sloppy  spares   choice
    ["failed",       "P",  true,   "d e",   "hint d"],
    ["declined",     "P",  true,   "d e",   "hint d"],
    ["failed",       "P",  false,  "d e",   "answer"],
    ["failed",       "P",  true,   "",      "answer"],
    ["over-limit",   "P",  true,   "d e",   "answer"],
    ["declined",     "F",  true,   "d e",   "try d"],
    ["declined",     "F",  true,   "",      "answer"],
    ["failed",       "F",  true,   "d e",   "hint d"],
    ["failed",       "F",  false,  "d e",   "answer"],
    ["failed",       "F",  true,   "",      "answer"],
    ["over-limit",   "F",  true,   "d e",   "answer"],
    ["declined",     "F",  false,  "e",     "try e"],
  ];
  it.each(rows)(
    "a %s %s slot (sloppy %s, spares '%s') leads to %s",
    (failure, slot, sloppy, spares, expected) => {
      const list = spares === "" ? [] : spares.split(" ").map(nodeId);
      const choice = spareChoice(failure, { primary: slot === "P", sloppy }, list);
      expect(show(choice)).toBe(expected);
    },
  );

  it("names only the first spare, and never touches the list", () => {
    const spares = Object.freeze([nodeId("x"), nodeId("y")]);
    expect(spareChoice("declined", { primary: false, sloppy: true }, spares)).toEqual({
      kind: "try-spare",
      spare: "x",
    });
    expect(spares).toEqual(["x", "y"]);
  });
});
