// Unit tests of the transition planner on small hand-checked rings. A ring is written one letter
// per partition ("dcbadcab": partition 0 is claimed by d); a move is written
// "partition from>to +gaining -losing @source" with nodes as letters in ring-walk order and "@-"
// for no source; a transfer "from>to:partitions/keys/bytes"; ownership "node:before>after".

import { describe, expect, it } from "vitest";

import {
  planTransition,
  primarySet,
  type ClusterPlan,
  type PlanInput,
} from "../../../../node/core/cluster-plan.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { claimRing, type Ring } from "../../../../node/core/ring.js";

function ids(letters: string): NodeId[] {
  return [...letters].map((letter) => nodeId(letter));
}

/** A hand-made ring, one letter per partition; `idle` names members that own nothing. */
function ringOf(letters: string, idle = ""): Ring {
  const owners = ids(letters);
  return { partitionCount: owners.length, owners, nodes: [...new Set(ids(letters + idle))].sort() };
}

function letters(ring: Ring): string {
  return ring.owners.join("");
}

/** One replica of partition p holds 10 keys and (p+1) kB: sources differ in load by partition. */
function stats(partition: number): { keys: number; bytes: number } {
  return { keys: 10, bytes: 1000 * (partition + 1) };
}

function plan(previous: string, next: string, n: number, unavailable = ""): ClusterPlan {
  return planTransition({
    previous: ringOf(previous),
    next: ringOf(next),
    n,
    unavailable: new Set(ids(unavailable)),
    partitionStats: stats,
    bytesPerSecondPerSender: 100,
  });
}

function show(result: ClusterPlan): {
  moves: string[];
  transfers: string;
  ownership: string;
} {
  return {
    moves: result.moves.map(
      (move) =>
        `${move.partition} ${move.from.join("")}>${move.to.join("")} ` +
        `+${move.gaining.join("")} -${move.losing.join("")} @${move.source ?? "-"}`,
    ),
    transfers: result.transfers
      .map((row) => `${row.from}>${row.to}:${row.partitions}/${row.keys}/${row.bytes}`)
      .join(" "),
    ownership: result.ownership.map((row) => `${row.node}:${row.before}>${row.after}`).join(" "),
  };
}

describe("primarySet", () => {
  // prettier-ignore
  const rows: readonly (readonly [string, string, number, number, string])[] = [
    // ring        idle  partition  n  primaries
    ["abcabcab",   "",   0,         3, "abc"],
    ["abcabcab",   "",   6,         3, "abc"], // wraps: 6 a, 7 b, 0 a (seen), 1 b (seen), 2 c
    ["abcabcab",   "",   7,         2, "ba"],
    ["aabbcc",     "",   1,         3, "abc"], // a repeat is skipped, the walk goes on
    ["abab",       "",   0,         3, "ab"],  // fewer members than n: all of them
    ["ab",         "dc", 1,         3, "bac"], // then members owning nothing, sorted
    ["ab",         "dc", 1,         9, "bacd"],
    ["abcd",       "",   3,         1, "d"],
  ];
  it.each(rows)("%s (idle %j) partition %i, n = %i → %s", (ring, idle, p, n, primaries) => {
    expect(primarySet(ringOf(ring, idle), p, n).join("")).toBe(primaries);
  });

  it.each([
    [-1, 3],
    [8, 3],
    [1.5, 3],
    [0, 0],
    [0, 2.5],
  ])("throws on partition %d, n = %d", (p, n) => {
    expect(() => primarySet(ringOf("abcabcab"), p, n)).toThrow(/partition|n must be/);
  });
});

describe("planTransition", () => {
  it("3 → 4 join: the joiner gains n partitions per partition it claims, sources take turns", () => {
    const previous = claimRing({ nodes: ids("abc"), partitionCount: 8, targetN: 3 });
    const next = claimRing({ nodes: ids("abcd"), partitionCount: 8, targetN: 3, previous });
    expect([letters(previous), letters(next)]).toEqual(["abcabcab", "dcbadcab"]);
    const result = planTransition({
      previous,
      next,
      n: 3,
      partitionStats: stats,
      bytesPerSecondPerSender: 100,
    });
    expect(show(result)).toEqual({
      moves: [
        "0 abc>dcb +d -a @a", // all idle: the smallest id
        "2 cab>bad +d -c @b", // a sent 1 kB, b and c nothing: b before c
        "3 abc>adc +d -b @c", // a 1 kB, b 3 kB, c 0
        "4 bca>dca +d -b @a", // a 1, b 3, c 4 kB
        "6 abc>abd +d -c @b", // a 6, b 3, c 4 kB
        "7 bac>bdc +d -a @c", // a 6, b 10, c 4 kB
      ],
      transfers: "a>d:2/20/6000 b>d:2/20/10000 c>d:2/20/12000",
      ownership: "a:3>2 b:3>2 c:2>2 d:0>2",
    });
    expect(result.etaSeconds).toBe(120); // c, the busiest sender: 12 kB at 100 B/s
    expect(result.warnings).toEqual([]);
  });

  it("4 → 3 leave: the leaver's primaries go to the others, and it still sends", () => {
    const previous = claimRing({ nodes: ids("abc"), partitionCount: 8, targetN: 3 });
    const four = claimRing({ nodes: ids("abcd"), partitionCount: 8, targetN: 3, previous });
    const next = claimRing({ nodes: ids("abd"), partitionCount: 8, targetN: 3, previous: four });
    expect(letters(next)).toBe("dabadbab");
    expect(show(plan("dcbadcab", "dabadbab", 3))).toEqual({
      moves: [
        "0 dcb>dab +a -c @b",
        "1 cba>abd +d -c @a",
        "3 adc>adb +b -c @c",
        "4 dca>dba +b -c @d",
        "5 cab>bad +d -c @b",
        "7 bdc>bda +a -c @c",
      ],
      transfers:
        "a>d:1/10/2000 b>a:1/10/1000 b>d:1/10/6000 c>a:1/10/8000 c>b:1/10/4000 d>b:1/10/5000",
      ownership: "a:2>3 b:2>3 c:2>0 d:2>2",
    });
  });

  it("replace c by e: e gains exactly c's primaries, nobody else moves", () => {
    const four = ringOf("dcbadcab");
    const next = claimRing({ nodes: ids("abde"), partitionCount: 8, targetN: 3, previous: four });
    expect(letters(next)).toBe("debadeab");
    const result = plan("dcbadcab", "debadeab", 3);
    expect(show(result)).toEqual({
      moves: [
        "0 dcb>deb +e -c @b",
        "1 cba>eba +e -c @a",
        "3 adc>ade +e -c @c",
        "4 dca>dea +e -c @d",
        "5 cab>eab +e -c @b",
        "7 bdc>bde +e -c @c",
      ],
      transfers: "a>e:1/10/2000 b>e:2/20/7000 c>e:2/20/12000 d>e:1/10/5000",
      ownership: "a:2>2 b:2>2 c:2>0 d:2>2 e:0>2",
    });
  });

  it("force-remove: an unavailable node is never a source; the other old primary sends", () => {
    const five = claimRing({ nodes: ids("abcde"), partitionCount: 8, targetN: 2 });
    const next = claimRing({ nodes: ids("abce"), partitionCount: 8, targetN: 2, previous: five });
    expect([letters(five), letters(next)]).toEqual(["abcabcde", "aecabcbe"]);
    const result = plan("abcabcde", "aecabcbe", 2, "d");
    expect(show(result).moves).toEqual([
      "0 ab>ae +e -b @a",
      "1 bc>ec +e -b @b",
      "5 cd>cb +b -d @c", // d is unavailable: c is the only choice
      "6 de>be +b -d @e",
    ]);
    expect(result.warnings).toEqual([]);
  });

  it("force-remove with the other copy dead too: no source, and a warning says so", () => {
    const result = plan("abcabcde", "aecabcbe", 2, "de");
    expect(show(result).moves.slice(2)).toEqual(["5 cd>cb +b -d @c", "6 de>be +b -d @-"]);
    expect(show(result).transfers).toBe("a>e:1/10/1000 b>e:1/10/2000 c>b:1/10/6000");
    expect(result.warnings).toEqual([
      "partition 6 has no surviving copy: its old primaries d, e are all unavailable",
    ]);
    expect(result.etaSeconds).toBe(60);
  });

  it("a ring to itself: no moves, no transfers, ETA 0, ownership unchanged", () => {
    const result = plan("dcbadcab", "dcbadcab", 3);
    expect(show(result)).toEqual({
      moves: [],
      transfers: "",
      ownership: "a:2>2 b:2>2 c:2>2 d:2>2",
    });
    expect(result.etaSeconds).toBe(0);
  });

  it("shrinking below n drops copies without gaining any, and warns about too few nodes", () => {
    const result = plan("abcabcab", "abababab", 3);
    expect(show(result).moves[0]).toBe("0 abc>ab + -c @a");
    expect(result.transfers).toEqual([]);
    expect(result.warnings).toEqual([
      "only 2 nodes own partitions; n=3 needs 3 for distinct replicas",
    ]);
    expect(plan("abab", "aaaa", 2).warnings[0]).toBe(
      "only 1 node owns partitions; n=2 needs 2 for distinct replicas",
    );
  });

  it("warns about a node owning more than 1.5× the mean of the owning nodes", () => {
    // Mean 8/3 ≈ 2.67, so 4 is the most a node may own: a with 5 is named, b with 2 is not.
    expect(plan("abcabcab", "aaabacac", 3).warnings).toEqual([
      "node a owns 5 partitions, more than 1.5× the mean of 2.67 per owning node",
    ]);
    expect(plan("abcabcab", "aaaabcbc", 3).warnings).toEqual([]); // 4 is not more than 4
  });

  const join: PlanInput = {
    previous: ringOf("abcabcab"),
    next: ringOf("dcbadcab"),
    n: 3,
    partitionStats: stats,
    bytesPerSecondPerSender: 100,
  };
  it.each<[string, PlanInput]>([
    ["no throttle", (({ bytesPerSecondPerSender: _, ...rest }) => rest)(join)],
    ["a throttle of 0", { ...join, bytesPerSecondPerSender: 0 }],
    ["no stats", (({ partitionStats: _, ...rest }) => rest)(join)],
  ])("gives no ETA with %s (zero bytes would claim an instant transition)", (_, input) => {
    expect(planTransition(join).etaSeconds).toBe(120);
    const result = planTransition(input);
    expect(result.etaSeconds).toBeUndefined();
    expect(result.moves.length).toBe(6);
  });

  it("without stats, sources take turns by partition copies sent", () => {
    const result = planTransition({ previous: ringOf("abcabcab"), next: ringOf("dcbadcab"), n: 3 });
    expect(result.moves.map((move) => move.source).join("")).toBe("abcabc");
    expect(show(result).transfers).toBe("a>d:2/0/0 b>d:2/0/0 c>d:2/0/0");
  });

  it("counts keys and bytes as zero without stats", () => {
    const result = planTransition({ previous: ringOf("abcd"), next: ringOf("abce"), n: 1 });
    expect(result.transfers).toEqual([{ from: "d", to: "e", partitions: 1, keys: 0, bytes: 0 }]);
  });

  const base = { previous: ringOf("abcd"), next: ringOf("abce"), n: 2 };
  it.each<[string, Partial<PlanInput>, RegExp]>([
    ["rings of different Q", { next: ringOf("abcdabcd") }, /different partition counts \(4 .*8/],
    ["n = 0", { n: 0 }, /n must be a positive integer, got 0/],
    ["n = 1.5", { n: 1.5 }, /n must be a positive integer, got 1.5/],
    ["Q not a power of two", { previous: ringOf("abc") }, /previous ring is malformed/],
    [
      "owners not numbering Q",
      { next: { ...ringOf("abce"), partitionCount: 8 } },
      /next ring is malformed: 4 owners for Q = 8/,
    ],
    ["a negative throttle", { bytesPerSecondPerSender: -1 }, /finite and ≥ 0, got -1/],
    ["an infinite throttle", { bytesPerSecondPerSender: Infinity }, /got Infinity/],
    [
      "negative stats",
      { partitionStats: () => ({ keys: -1, bytes: 0 }) },
      /partition 2 has keys = -1, bytes = 0/,
    ],
    ["NaN stats", { partitionStats: () => ({ keys: 0, bytes: NaN }) }, /bytes = NaN/],
  ])("throws on %s", (_, change, message) => {
    expect(() => planTransition({ ...base, ...change })).toThrow(message);
  });
});
