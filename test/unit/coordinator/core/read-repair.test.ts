// Unit tests of planReadRepair, table-driven, with objects that are sets of digits merged by
// union. A row is: targets, one letter per node a, b, c, … (P = primary, F = fallback); replies
// in arrival order ("a:12" found {1,2}, "a:-" not found, "a:X" error); the merged object
// ("none" when nothing was found); and the nodes to repair, in reply order.

import { describe, expect, it } from "vitest";
import type { ReadReply } from "../../../../coordinator/core/get-quorum.js";
import { planReadRepair } from "../../../../coordinator/core/read-repair.js";

type Digits = ReadonlySet<string>;

function union(a: Digits, b: Digits): Digits {
  return new Set([...a, ...b]);
}

function same(a: Digits, b: Digits): boolean {
  return a.size === b.size && [...a].every((digit) => b.has(digit));
}

function parseReply(text: string): ReadReply<Digits> {
  if (text === "X") return { ok: false, error: "timeout" };
  if (text === "-") return { ok: true, object: undefined };
  return { ok: true, object: new Set(text) };
}

function replies(
  layout: string,
  events: string,
): { node: string; primary: boolean; reply: ReadReply<Digits> }[] {
  return events
    .split(" ")
    .filter((event) => event !== "")
    .map((event) => {
      const [node = "", reply = ""] = event.split(":");
      const primary = layout[node.charCodeAt(0) - 97] === "P";
      return { node, primary, reply: parseReply(reply) };
    });
}

function show(object: Digits | undefined): string {
  return object === undefined ? "none" : [...object].sort().join("");
}

describe("planReadRepair", () => {
  it("repairs exactly the primaries that answered stale or not found", () => {
    // prettier-ignore
    const rows: readonly (readonly [string, string, string, string])[] = [
      // targets  replies                 merged  repair
      ["PPP",     "a:1 b:1 c:1",          "1",    ""],
      ["PPP",     "a:12 b:1 c:-",         "12",   "b c"],
      ["PPP",     "a:1 b:2 c:3",          "123",  "a b c"],
      ["PPP",     "a:- b:3 c:3",          "3",    "a"],
      ["PP",      "b:2 a:1",              "12",   "b a"],
      ["PPP",     "a:1 b:2",              "12",   "a b"],
      ["PPPP",    "d:21 c:12 b:1 a:-",    "12",   "b a"],
    ];
    check(rows);
  });

  it("never repairs a fallback, even a stale or empty one", () => {
    // prettier-ignore
    check([
      // targets  replies                 merged  repair
      ["PPF",     "a:1 b:1 c:-",          "1",    ""],
      ["PPF",     "a:1 b:1 c:2",          "12",   "a b"],
      ["FFP",     "a:1 b:- c:1",          "1",    ""],
      ["FFF",     "a:1 b:2 c:-",          "12",   ""],
    ]);
  });

  it("never repairs a replica that answered with an error", () => {
    // prettier-ignore
    check([
      // targets  replies                 merged  repair
      ["PPP",     "a:1 b:X c:-",          "1",    "c"],
      ["PPP",     "a:X b:X c:5",          "5",    ""],
    ]);
  });

  it("repairs nothing when no replica found the key", () => {
    // prettier-ignore
    check([
      // targets  replies                 merged  repair
      ["PPP",     "a:- b:- c:-",          "none", ""],
      ["PPP",     "a:- b:X",              "none", ""],
      ["PPP",     "",                     "none", ""],
    ]);
  });

  it("throws when one node appears twice among the replies", () => {
    const twice = replies("PPP", "a:1 b:2 a:3");
    expect(() => planReadRepair({ replies: twice, merge: union, same })).toThrow(
      /two replies from a/,
    );
  });
});

function check(rows: readonly (readonly [string, string, string, string])[]): void {
  for (const [layout, events, merged, repair] of rows) {
    const plan = planReadRepair({ replies: replies(layout, events), merge: union, same });
    const label = `targets "${layout}", replies "${events}"`;
    expect(`${show(plan.object)} | ${plan.targets.join(" ")}`, label).toBe(`${merged} | ${repair}`);
  }
}
