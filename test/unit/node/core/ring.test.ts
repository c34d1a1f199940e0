// Unit tests of the ring claim (Dynamo §6.2 strategy 3): balance, determinism, the table of
// violations the claim leaves, movement on join and leave, and the small helpers.

import { describe, expect, it } from "vitest";

import { isValidNodeId, nodeId, type NodeId } from "../../../../node/core/node-id.js";
import {
  claimRing,
  claimViolations,
  isValidPartitionCount,
  partitionsOwnedBy,
  type Ring,
} from "../../../../node/core/ring.js";

function nodes(count: number): NodeId[] {
  return Array.from({ length: count }, (_, i) => nodeId(`node-${String(i).padStart(4, "0")}`));
}

function claim(s: number, q: number, n: number): Ring {
  return claimRing({ nodes: nodes(s), partitionCount: q, targetN: n });
}

function violations(s: number, q: number, n: number): number {
  return claimViolations(claim(s, q, n), n).length;
}

function moved(before: Ring, after: Ring): number[] {
  return before.owners.flatMap((owner, p) => (after.owners[p] === owner ? [] : [p]));
}

function counts(ring: Ring): number[] {
  return ring.nodes.map((node) => partitionsOwnedBy(ring, node).length);
}

/** A hand-made ring, one letter per partition. */
function ringOf(letters: string): Ring {
  const owners = [...letters].map((letter) => nodeId(letter));
  return { partitionCount: owners.length, owners, nodes: [...new Set(owners)].sort() };
}

describe("nodeId", () => {
  it.each(["a", "node-1", "10.0.0.7_7070", "A.b-C_d", "x".repeat(64)])("accepts %j", (id) => {
    expect(isValidNodeId(id)).toBe(true);
    expect(nodeId(id)).toBe(id);
  });

  it.each(["", "x".repeat(65), "a b", "a/b", "a:1", "nöde", "a\n"])("rejects %j", (id) => {
    expect(isValidNodeId(id)).toBe(false);
    expect(() => nodeId(id)).toThrow(/invalid node id/);
  });
});

describe("isValidPartitionCount", () => {
  it.each([
    [1, true],
    [2, true],
    [64, true],
    [4096, true],
    [0, false],
    [3, false],
    [96, false],
    [8192, false],
    [-64, false],
    [64.5, false],
  ])("says %s is %s", (q, valid) => {
    expect(isValidPartitionCount(q)).toBe(valid);
  });
});

describe("claimRing", () => {
  it.each([
    ["no nodes", { nodes: [], partitionCount: 64, targetN: 3 }, /at least one node/],
    ["Q = 48", { nodes: nodes(3), partitionCount: 48, targetN: 3 }, /partition count/],
    ["Q = 8192", { nodes: nodes(3), partitionCount: 8192, targetN: 3 }, /partition count/],
    ["targetN = 0", { nodes: nodes(3), partitionCount: 64, targetN: 0 }, /targetN/],
    ["targetN = 17", { nodes: nodes(3), partitionCount: 64, targetN: 17 }, /targetN/],
    ["targetN = 2.5", { nodes: nodes(3), partitionCount: 64, targetN: 2.5 }, /targetN/],
    ["a bad node id", { nodes: ["a b" as NodeId], partitionCount: 64, targetN: 3 }, /node id/],
  ])("throws for %s", (_, options, message) => {
    expect(() => claimRing(options)).toThrow(message);
  });

  it("throws for a previous ring with another partition count", () => {
    const previous = claim(4, 32, 3);
    expect(() => claimRing({ nodes: nodes(5), partitionCount: 64, targetN: 3, previous })).toThrow(
      /previous ring has 32 partitions/,
    );
  });

  it.each([
    [1, 64],
    [3, 64],
    [5, 64],
    [7, 64],
    [10, 64],
    [63, 64],
    [64, 64],
    [6, 256],
    [100, 256],
    [3, 4096],
    [37, 4096],
  ])("gives each of %i nodes floor(Q/S) or ceil(Q/S) of Q = %i partitions", (s, q) => {
    const ring = claim(s, q, 3);
    expect(ring.owners).toHaveLength(q);
    for (const count of counts(ring)) {
      expect([Math.floor(q / s), Math.ceil(q / s)]).toContain(count);
    }
  });

  it("gives one partition each to Q of the nodes when there are more nodes than partitions", () => {
    const ring = claim(10, 8, 3);
    expect(ring.nodes).toHaveLength(10);
    expect(counts(ring).sort()).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(claimViolations(ring, 3)).toEqual([]);
  });

  it("depends on the set of nodes, not on their order or repeats", () => {
    const sorted = nodes(7);
    const shuffled = [
      sorted[3]!,
      sorted[6]!,
      sorted[0]!,
      sorted[5]!,
      sorted[1]!,
      sorted[4]!,
      sorted[2]!,
    ];
    const a = claimRing({ nodes: sorted, partitionCount: 64, targetN: 3 });
    const b = claimRing({
      nodes: [...shuffled, sorted[2]!, sorted[0]!],
      partitionCount: 64,
      targetN: 3,
    });
    expect(b).toEqual(a);
    expect(a.nodes).toEqual(sorted);
  });

  it("returns a frozen ring", () => {
    const ring = claim(4, 16, 3);
    expect(Object.isFrozen(ring)).toBe(true);
    expect(Object.isFrozen(ring.owners)).toBe(true);
  });

  describe("violations", () => {
    // A member with c partitions needs them targetN apart, so c·targetN ≤ Q is necessary for
    // zero violations. The claim reaches zero in exactly those cases for targetN ≤ 7.
    const grid: [q: number, n: number, s: number][] = [];
    for (const q of [8, 16, 32, 64, 128, 256]) {
      for (let n = 1; n <= 7; n++) {
        const sizes = [q / 2 - 1, q / 2, q / 2 + 1, q - n, q - n + 1, q - 1, q, q + 1];
        for (let s = 1; s <= Math.min(q + 1, 20); s++) sizes.push(s);
        for (const s of new Set(sizes.filter((size) => size >= 1))) grid.push([q, n, s]);
      }
    }

    it("has none exactly when ceil(Q/S)·targetN ≤ Q (Q 8..256, targetN 1..7, 933 rings)", () => {
      const wrong = grid.filter(([q, n, s]) => {
        const feasible = Math.ceil(q / s) * n <= q;
        return (violations(s, q, n) === 0) !== feasible;
      });
      expect(grid).toHaveLength(933);
      expect(wrong).toEqual([]);
    });

    it.each([
      // S = targetN with Q mod S ≠ 0: one defect where the laps do not close, targetN-1 windows.
      [8, 3, 3, 2],
      [64, 3, 3, 2],
      [4096, 3, 3, 2],
      [64, 5, 5, 4],
      [256, 6, 6, 5],
      [128, 7, 7, 6],
      // S < targetN, or Q < targetN: every window repeats a node.
      [64, 3, 1, 64],
      [64, 3, 2, 64],
      [256, 5, 4, 256],
      [2, 3, 5, 2],
      // ceil(Q/S)·targetN > Q with S > targetN: only tiny rings.
      [8, 5, 6, 4],
      [8, 5, 7, 2],
      [8, 6, 7, 4],
      [16, 6, 7, 5],
      // targetN ≥ 8: a few feasible rings the claim misses.
      [32, 8, 10, 3],
      [32, 10, 13, 9],
      [64, 15, 20, 5],
      [64, 16, 18, 15],
      [128, 16, 18, 11],
    ])("Q = %i, targetN = %i, S = %i leaves %i", (q, n, s, expected) => {
      expect(violations(s, q, n)).toBe(expected);
    });

    it.each([
      [4, 4096],
      [5, 4096],
      [7, 4096],
      [12, 4096],
      [1000, 4096],
    ])("has none with S = %i on Q = %i, targetN = 3", (s, q) => {
      expect(violations(s, q, 3)).toBe(0);
    });
  });

  describe("movement", () => {
    it.each([
      [64, 3, 4],
      [64, 3, 7],
      [256, 3, 8],
      [128, 4, 9],
      [1024, 3, 10],
      [64, 2, 3],
      // Tight: the joiner's 37 partitions must sit 5 apart. Keeping them merely as far apart
      // as possible halves gaps at the end and used to fall back to re-striping the ring.
      [256, 5, 6],
      [1024, 5, 6],
    ])(
      "on Q = %i, targetN = %i, a join to %i nodes moves only the new node's partitions",
      (q, n, s) => {
        const before = claim(s, q, n);
        const joiner = nodeId("joiner");
        const after = claimRing({
          nodes: [...before.nodes, joiner],
          partitionCount: q,
          targetN: n,
          previous: before,
        });
        const taken = partitionsOwnedBy(after, joiner);
        expect(moved(before, after)).toEqual(taken);
        expect([Math.floor(q / (s + 1)), Math.ceil(q / (s + 1))]).toContain(taken.length);
        expect(claimViolations(after, n)).toEqual([]);
      },
    );

    // A leaver's partitions sit between the same 2(targetN-1) neighbours in a striped ring; those
    // cannot take them, so each must gain its share elsewhere: one extra move per partition.
    it.each([
      [64, 3, 8, 8, 12],
      [256, 3, 8, 32, 49],
      [256, 3, 12, 22, 26],
      [128, 4, 9, 15, 24],
      [1024, 3, 10, 103, 145],
    ])(
      "on Q = %i, targetN = %i, a leave from %i nodes hands out %i partitions in %i moves",
      (q, n, s, had, moves) => {
        const before = claim(s, q, n);
        const leaver = before.nodes[1]!;
        const rest = before.nodes.filter((node) => node !== leaver);
        const after = claimRing({ nodes: rest, partitionCount: q, targetN: n, previous: before });
        expect(partitionsOwnedBy(before, leaver)).toHaveLength(had);
        expect(moved(before, after)).toHaveLength(moves);
        expect(moved(before, after)).toEqual(
          expect.arrayContaining(partitionsOwnedBy(before, leaver)),
        );
        const g = Math.ceil(q / (s - 1)) - Math.floor(q / s);
        expect(moves - had).toBeLessThanOrEqual(2 * (n - 1) * (g + 1));
        expect(claimViolations(after, n)).toEqual([]);
      },
    );

    it.each([
      [64, 3, 5],
      [64, 3, 6],
      [256, 4, 6],
      [64, 2, 3],
    ])(
      "on Q = %i, targetN = %i, a leave from %i nodes ends without violations, like a fresh claim",
      (q, n, s) => {
        const before = claim(s, q, n);
        const rest = before.nodes.slice(1);
        const after = claimRing({ nodes: rest, partitionCount: q, targetN: n, previous: before });
        expect(claimViolations(after, n)).toEqual([]);
        for (const count of counts(after))
          expect(count).toBeGreaterThanOrEqual(Math.floor(q / (s - 1)));
      },
    );

    it("leaves a ring alone when the members did not change", () => {
      const before = claim(9, 64, 3);
      const after = claimRing({
        nodes: before.nodes,
        partitionCount: 64,
        targetN: 3,
        previous: before,
      });
      expect(after.owners).toEqual(before.owners);
    });

    it("repairs a ring whose violations became avoidable when a node joins", () => {
      const before = claim(2, 64, 3);
      expect(claimViolations(before, 3)).toHaveLength(64);
      const after = claimRing({
        nodes: nodes(3),
        partitionCount: 64,
        targetN: 3,
        previous: before,
      });
      expect(claimViolations(after, 3)).toHaveLength(2);
    });
  });
});

describe("claimViolations", () => {
  it.each([
    ["abcabc", 3, []],
    ["abcabc", 4, [0, 1, 2, 3, 4, 5]],
    ["abcabcab", 3, [6, 7]],
    ["abac", 3, [0, 2]],
    ["aabb", 2, [0, 2]],
    ["abcd", 2, []],
    ["aaaa", 1, []],
    ["ab", 3, [0, 1]],
    ["a", 1, []],
  ])("in ring %j with targetN = %i finds %j", (letters, n, expected) => {
    expect(claimViolations(ringOf(letters), n)).toEqual(expected);
  });

  it("throws for a targetN below 1", () => {
    expect(() => claimViolations(ringOf("ab"), 0)).toThrow(/targetN/);
  });
});

describe("partitionsOwnedBy", () => {
  it.each([
    ["a", [0, 3]],
    ["b", [1]],
    ["c", [2, 4]],
    ["z", []],
  ])("lists the partitions of %s in ring abcac", (node, expected) => {
    expect(partitionsOwnedBy(ringOf("abcac"), nodeId(node))).toEqual(expected);
  });
});
