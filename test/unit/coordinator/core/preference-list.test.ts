// Unit tests of the preference list: primaries by ring walk, sloppy fallbacks standing in for
// down primaries (Dynamo §4.6, riak_core_apl), strict lists, spares, and bad input.

import { describe, expect, it } from "vitest";

import {
  preferenceList,
  type PreferenceEntry,
} from "../../../../coordinator/core/preference-list.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import type { Ring } from "../../../../node/core/ring.js";

/** A hand-made ring, one letter per partition; `extra` are members that own nothing. */
function ringOf(letters: string, extra = ""): Ring {
  const owners = [...letters].map((letter) => nodeId(letter));
  const nodes = [...new Set([...letters, ...extra])].sort().map((letter) => nodeId(letter));
  return { partitionCount: owners.length, owners, nodes };
}

function up(letters: string): Set<NodeId> {
  return new Set([...letters].map((letter) => nodeId(letter)));
}

/** Targets written compactly: "a" for a primary, "d>b" for d standing in for b. */
function show(targets: readonly PreferenceEntry[]): string[] {
  return targets.map((entry) =>
    entry.role === "primary" ? entry.node : `${entry.node}>${entry.standsInFor}`,
  );
}

describe("preferenceList", () => {
  it.each([
    ["abcdabcd", 0, 3, "abc"],
    ["abcdabcd", 3, 3, "dab"],
    ["abcdabcd", 6, 3, "cda"],
    ["abcdabcd", 7, 4, "dabc"],
    ["abcdabcd", 5, 1, "b"],
    // Tail violations: the walk skips repeated owners, so replicas stay on distinct nodes.
    ["aabbccdd", 0, 3, "abc"],
    ["aabbccdd", 1, 3, "abc"],
    ["abab", 0, 3, "ab"],
    ["abcabcab", 7, 3, "bac"],
  ])("in ring %s, partition %i with n = %i has primaries %s", (letters, partition, n, want) => {
    const list = preferenceList(ringOf(letters), up("abcd"), partition, n);
    expect(list.primaries.join("")).toBe(want);
  });

  it("lists members that own no partition after the owners, sorted", () => {
    const list = preferenceList(ringOf("abcd", "fe"), up("abcdef"), 2, 6);
    expect(list.primaries.join("")).toBe("cdabef");
  });

  it.each([
    // ring, partition, n, up, targets, spares
    ["abcdefab", 0, 3, "abcdef", ["a", "b", "c"], "def"],
    ["abcdefab", 0, 3, "acdef", ["a", "d>b", "c"], "ef"],
    ["abcdefab", 0, 3, "cdef", ["d>a", "e>b", "c"], "f"],
    ["abcdefab", 0, 3, "bef", ["e>a", "b", "f>c"], ""],
    ["abcdefab", 0, 3, "cef", ["e>a", "f>b", "c"], ""],
    ["abcdefab", 0, 3, "ce", ["e>a", "c"], ""],
    ["abcdefab", 4, 3, "abcdf", ["b>e", "f", "a"], "cd"],
    ["abcdefab", 0, 3, "", [], ""],
    ["abcd", 1, 3, "bd", ["b", "d"], ""],
    ["abcd", 1, 3, "acd", ["a>b", "c", "d"], ""],
  ])(
    "in ring %s, partition %i, n = %i, up %j: targets %j, spares %j",
    (letters, p, n, live, want, spares) => {
      const list = preferenceList(ringOf(letters), up(live), p, n);
      expect(show(list.targets)).toEqual(want);
      expect(list.spares.join("")).toBe(spares);
    },
  );

  it.each([
    ["acdef", ["a", "c"], "def"],
    ["cdef", ["c"], "def"],
    ["abc", ["a", "b", "c"], ""],
    ["", [], ""],
  ])(
    "without sloppy quorum, with up %j, targets only the up primaries %j",
    (live, want, spares) => {
      const list = preferenceList(ringOf("abcdefab"), up(live), 0, 3, { sloppy: false });
      expect(show(list.targets)).toEqual(want);
      expect(list.primaries.join("")).toBe("abc");
      expect(list.spares.join("")).toBe(spares);
    },
  );

  it("takes fallbacks in ring-walk order, not name order", () => {
    const list = preferenceList(ringOf("cfbead"), up("fead"), 0, 2);
    expect(list.primaries.join("")).toBe("cf");
    expect(show(list.targets)).toEqual(["e>c", "f"]);
    expect(list.spares.join("")).toBe("ad");
  });

  it("ignores up nodes that are not ring members", () => {
    const list = preferenceList(ringOf("abcd"), up("xyzb"), 0, 2);
    expect(show(list.targets)).toEqual(["b"]);
    expect(list.spares).toEqual([]);
  });

  it("returns frozen data", () => {
    const list = preferenceList(ringOf("abcd"), up("abcd"), 0, 2);
    expect(Object.isFrozen(list)).toBe(true);
    expect(Object.isFrozen(list.targets)).toBe(true);
    expect(Object.isFrozen(list.targets[0])).toBe(true);
  });

  it.each([-1, 4, 1.5, Number.NaN])("throws for partition %s of a 4-partition ring", (p) => {
    expect(() => preferenceList(ringOf("abcd"), up("abcd"), p, 3)).toThrow(/partition/);
  });

  it.each([0, -1, 2.5])("throws for n = %s", (n) => {
    expect(() => preferenceList(ringOf("abcd"), up("abcd"), 0, n)).toThrow(/n must be/);
  });
});
