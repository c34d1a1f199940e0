import { describe, expect, it } from "vitest";
import {
  type CausalContext,
  type Dot,
  EMPTY_CONTEXT,
  compareDots,
  contextAdd,
  contextCovers,
  contextEquals,
  contextFromDots,
  contextJoin,
  contextMaxCounter,
  dotKey,
} from "../../../../node/core/causal-context.js";

/** "a3" -> { actor: "a", counter: 3 }; actors are single letters in these tables. */
function dot(text: string): Dot {
  return { actor: text.slice(0, 1), counter: Number(text.slice(1)) };
}

function dots(text: string): Dot[] {
  return text === "" ? [] : text.split(" ").map(dot);
}

/** A readable picture of a context: "a:2 b:1 | a4 c2". */
function show(context: CausalContext): string {
  const vv = [...context.vv].map(([actor, counter]) => `${actor}:${counter}`).join(" ");
  const cloud = context.cloud.map((d) => `${d.actor}${d.counter}`).join(" ");
  return `${vv} | ${cloud}`;
}

describe("contextFromDots()", () => {
  it.each([
    ["", " | "],
    ["a1", "a:1 | "],
    ["a2", " | a2"],
    ["a3 a1 a2", "a:3 | "],
    ["a1 a3", "a:1 | a3"],
    ["a1 a1 a3 a3", "a:1 | a3"],
    ["b2 a5 a1", "a:1 | a5 b2"],
    ["a1 a3 a4 a6", "a:1 | a3 a4 a6"],
    ["c1 b1 a1", "a:1 b:1 c:1 | "],
  ])("normalises %j to %j", (input, expected) => {
    expect(show(contextFromDots(dots(input)))).toBe(expected);
  });

  it.each([
    [{ actor: "a", counter: 0 }],
    [{ actor: "a", counter: 1.5 }],
    [{ actor: "a", counter: Number.MAX_SAFE_INTEGER + 1 }],
    [{ actor: "", counter: 1 }],
  ])("rejects the invalid dot %j", (bad) => {
    expect(() => contextFromDots([bad])).toThrow(/dot/);
  });

  it("keeps vv entries in actor order whatever the input order", () => {
    expect([...contextFromDots(dots("c1 a1 b1")).vv.keys()]).toEqual(["a", "b", "c"]);
  });
});

describe("contextCovers()", () => {
  const context = contextFromDots(dots("a1 a2 a5 b3"));
  it.each([
    ["a1", true],
    ["a2", true],
    ["a3", false],
    ["a4", false],
    ["a5", true],
    ["a6", false],
    ["b1", false],
    ["b3", true],
    ["c1", false],
  ])("reports %s covered = %s for a:2 | a5 b3", (probe, expected) => {
    expect(contextCovers(context, dot(probe))).toBe(expected);
  });

  it("covers nothing when empty", () => {
    expect(contextCovers(EMPTY_CONTEXT, dot("a1"))).toBe(false);
  });
});

describe("contextAdd()", () => {
  it.each([
    ["", "a1", "a:1 | "],
    ["", "a3", " | a3"],
    ["a1 a3", "a2", "a:3 | "],
    ["a1 a3 a4 a6", "a2", "a:4 | a6"],
    ["a1", "b2", "a:1 | b2"],
    ["b2", "a1", "a:1 | b2"],
  ])("adds to {%s} the dot %s giving %j", (start, added, expected) => {
    expect(show(contextAdd(contextFromDots(dots(start)), dot(added)))).toBe(expected);
  });

  it("returns the same context when the dot is already covered", () => {
    const context = contextFromDots(dots("a1 a2 b4"));
    expect(contextAdd(context, dot("a2"))).toBe(context);
    expect(contextAdd(context, dot("b4"))).toBe(context);
  });

  it("does not change its argument", () => {
    const context = contextFromDots(dots("a1 a3"));
    contextAdd(context, dot("a2"));
    expect(show(context)).toBe("a:1 | a3");
  });

  it("rejects a zero counter", () => {
    expect(() => contextAdd(EMPTY_CONTEXT, { actor: "a", counter: 0 })).toThrow(/counter/);
  });
});

describe("contextJoin()", () => {
  it.each([
    ["", "", " | "],
    ["a1 a2", "", "a:2 | "],
    ["a1 a2", "a1", "a:2 | "],
    ["a1 a3", "a2", "a:3 | "],
    ["a1 a3", "a1 a2 a4", "a:4 | "],
    ["a5", "a7", " | a5 a7"],
    ["a1 b3", "b1 b2", "a:1 b:3 | "],
    ["a1 a2 a3 a4 a5", "a3 a9", "a:5 | a9"],
  ])("joins {%s} and {%s} into %j", (left, right, expected) => {
    const a = contextFromDots(dots(left));
    const b = contextFromDots(dots(right));
    expect(show(contextJoin(a, b))).toBe(expected);
    expect(show(contextJoin(b, a))).toBe(expected);
  });

  it("covers exactly the dots of either side", () => {
    const a = contextFromDots(dots("a1 a4 b2"));
    const b = contextFromDots(dots("a2 b1 c5"));
    const joined = contextJoin(a, b);
    for (const probe of dots("a1 a2 a3 a4 a5 b1 b2 b3 c4 c5 c6")) {
      expect(contextCovers(joined, probe)).toBe(contextCovers(a, probe) || contextCovers(b, probe));
    }
  });

  it("returns the other side when one side is empty", () => {
    const a = contextFromDots(dots("a1 a4"));
    expect(contextJoin(a, EMPTY_CONTEXT)).toBe(a);
    expect(contextJoin(EMPTY_CONTEXT, a)).toBe(a);
  });
});

describe("contextMaxCounter()", () => {
  it.each([
    ["", "a", 0],
    ["a1 a2", "a", 2],
    ["a1 a2 a7", "a", 7],
    ["a9", "a", 9],
    ["a1 b4 b9 c2", "b", 9],
    ["a1 c2", "b", 0],
  ])("finds in {%s} for actor %s the counter %d", (start, actor, expected) => {
    expect(contextMaxCounter(contextFromDots(dots(start)), actor)).toBe(expected);
  });
});

describe("contextEquals()", () => {
  it("ignores the insertion order of vv entries", () => {
    const a: CausalContext = {
      vv: new Map([
        ["a", 1],
        ["b", 2],
      ]),
      cloud: [],
    };
    const b: CausalContext = {
      vv: new Map([
        ["b", 2],
        ["a", 1],
      ]),
      cloud: [],
    };
    expect(contextEquals(a, b)).toBe(true);
  });

  it.each([
    ["a1", "a1 a2"],
    ["a1 a3", "a1 a4"],
    ["a1", "b1"],
    ["a3", "b3"],
    ["", "a2"],
  ])("tells {%s} and {%s} apart", (left, right) => {
    expect(contextEquals(contextFromDots(dots(left)), contextFromDots(dots(right)))).toBe(false);
  });

  it("finds the same set built in two ways equal", () => {
    const built = contextAdd(contextAdd(contextFromDots(dots("a3")), dot("a1")), dot("a2"));
    expect(contextEquals(built, contextFromDots(dots("a1 a2 a3")))).toBe(true);
  });
});

describe("compareDots() and dotKey()", () => {
  it("orders by actor, then by counter numerically", () => {
    const sorted = dots("b1 a10 a2 c1 a1").sort(compareDots);
    expect(sorted.map((d) => `${d.actor}${d.counter}`)).toEqual(["a1", "a2", "a10", "b1", "c1"]);
  });

  it("gives distinct keys to dots whose actor and counter run together", () => {
    const tricky: Dot[] = [
      { actor: "a", counter: 12 },
      { actor: "a1", counter: 2 },
      { actor: "a\u0000", counter: 12 },
      { actor: "a\u00001", counter: 2 },
      { actor: "a\u00001", counter: 12 },
    ];
    expect(new Set(tricky.map(dotKey)).size).toBe(tricky.length);
  });
});
