// Goal: the nemesis can learn a write's dot from what a client sees: the one dot a put reply's
// context adds to the sent one (checked against the vtag), and a dot found by its vtag.
// Method: contexts built with the real causal-context functions; vtags as dkv computes them.

import { describe, expect, it } from "vitest";
import { EMPTY_CONTEXT, contextAdd, contextFromDots } from "../../../node/core/causal-context.js";
import { vtag } from "../../../node/core/dvv.js";
import { dotAddedBy, findDotsByVtag } from "../../../scripts/nemesis/core/dots.js";

describe("dotAddedBy", () => {
  const sent = contextFromDots([
    { actor: "n1.a", counter: 1 },
    { actor: "n1.a", counter: 2 },
    { actor: "n2.b", counter: 5 },
  ]);

  it.each([
    { name: "a contiguous counter", dot: { actor: "n1.a", counter: 3 } },
    { name: "a counter beyond a gap", dot: { actor: "n2.b", counter: 7 } },
    { name: "a new actor", dot: { actor: "n3.c", counter: 1 } },
  ])("finds $name", ({ dot }) => {
    expect(dotAddedBy(sent, contextAdd(sent, dot), vtag(dot))).toEqual(dot);
    expect(dotAddedBy(EMPTY_CONTEXT, contextFromDots([dot]))).toEqual(dot);
  });

  it("refuses when the vtag does not match, or when zero or two dots were added", () => {
    const dot = { actor: "n1.a", counter: 3 };
    expect(dotAddedBy(sent, contextAdd(sent, dot), "wrong")).toBeUndefined();
    expect(dotAddedBy(sent, sent)).toBeUndefined();
    const two = contextAdd(contextAdd(sent, dot), { actor: "n1.a", counter: 4 });
    expect(dotAddedBy(sent, two)).toBeUndefined();
  });
});

describe("findDotsByVtag", () => {
  it("finds dots of the vv and of the cloud, and nothing that is absent", () => {
    const context = contextFromDots([
      { actor: "n1.a", counter: 1 },
      { actor: "n1.a", counter: 2 },
      { actor: "n2.b", counter: 9 },
    ]);
    const wanted = new Set([
      vtag({ actor: "n1.a", counter: 1 }),
      vtag({ actor: "n2.b", counter: 9 }),
      vtag({ actor: "n3.c", counter: 1 }),
    ]);
    const found = findDotsByVtag(context, wanted);
    expect(found.size).toBe(2);
    expect(found.get(vtag({ actor: "n2.b", counter: 9 }))).toEqual({ actor: "n2.b", counter: 9 });
  });
});
