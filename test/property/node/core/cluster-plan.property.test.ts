// Property tests of the transition planner over claimed rings (joins, leaves, replacements and
// arbitrary member changes) and over hand-made rings with repeats and idle members. The oracle
// for primaries is preferenceList with every node up, the function the coordinator routes by.

import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";

import { preferenceList } from "../../../../coordinator/core/preference-list.js";
import {
  planTransition,
  primarySet,
  type ClusterPlan,
  type PlanInput,
} from "../../../../node/core/cluster-plan.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { claimRing, claimViolations, type Ring } from "../../../../node/core/ring.js";

const RUNS = 100;

const pool = Array.from({ length: 10 }, (_, i) => nodeId(`n${i}`));
const q = fc.constantFrom(1, 2, 4, 8, 16, 32, 64);
const n = fc.integer({ min: 1, max: 5 });
const members = (min: number): fc.Arbitrary<NodeId[]> => fc.subarray(pool, { minLength: min });

/** Any ring: random owners from the pool, plus members owning nothing. */
function randomRing(partitionCount: number): fc.Arbitrary<Ring> {
  return fc
    .tuple(
      fc.array(fc.constantFrom(...pool), { minLength: partitionCount, maxLength: partitionCount }),
      fc.subarray(pool, { maxLength: 2 }),
    )
    .map(([owners, idle]) => ({
      partitionCount,
      owners,
      nodes: [...new Set([...owners, ...idle])].sort(),
    }));
}

/** Two rings of one Q: claimed (the second from the first, as a commit does) or random. */
const rings: fc.Arbitrary<{ previous: Ring; next: Ring; n: number }> = fc.oneof(
  fc.tuple(members(1), members(1), q, n).map(([before, after, partitionCount, targetN]) => {
    const previous = claimRing({ nodes: before, partitionCount, targetN });
    return {
      previous,
      next: claimRing({ nodes: after, partitionCount, targetN, previous }),
      n: targetN,
    };
  }),
  fc.tuple(q, n).chain(([partitionCount, targetN]) =>
    fc.record({
      previous: randomRing(partitionCount),
      next: randomRing(partitionCount),
      n: fc.constant(targetN),
    }),
  ),
);

/** A full input: rings, some unavailable nodes, per-partition stats and maybe a throttle. */
const inputs: fc.Arbitrary<PlanInput> = fc
  .tuple(
    rings,
    fc.subarray(pool),
    fc.array(fc.record({ keys: fc.nat(1000), bytes: fc.nat(1_000_000) }), {
      minLength: 64,
      maxLength: 64,
    }),
    fc.constantFrom(0, 1, 1000),
  )
  .map(([{ previous, next, n: targetN }, unavailable, table, rate]) => ({
    previous,
    next,
    n: targetN,
    unavailable: new Set(unavailable),
    partitionStats: (partition: number) => table[partition]!,
    bytesPerSecondPerSender: rate,
  }));

function primaries(ring: Ring, partition: number, targetN: number): NodeId[] {
  return [...preferenceList(ring, new Set(ring.nodes), partition, targetN).primaries];
}

function sameSet(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((node) => b.includes(node));
}

function gainingTotal(plan: ClusterPlan, withSource: boolean): number {
  return plan.moves
    .filter((move) => !withSource || move.source !== undefined)
    .reduce((sum, move) => sum + move.gaining.length, 0);
}

const anyRing = fc.integer({ min: 0, max: 6 }).chain((k) => randomRing(2 ** k));

test.prop([anyRing, fc.nat(), fc.integer({ min: 1, max: 12 })], { numRuns: RUNS })(
  "primarySet is preferenceList's primaries with every node up",
  (ring, seed, targetN) => {
    const partition = seed % ring.partitionCount;
    expect(primarySet(ring, partition, targetN)).toEqual(primaries(ring, partition, targetN));
  },
);

test.prop([inputs], { numRuns: RUNS })(
  "moves are exactly the partitions whose primary sets differ, ascending, with their primaries",
  (input) => {
    const plan = planTransition(input);
    const expected = input.previous.owners
      .map((_, p) => p)
      .filter(
        (p) => !sameSet(primaries(input.previous, p, input.n), primaries(input.next, p, input.n)),
      );
    expect(plan.moves.map((move) => move.partition)).toEqual(expected);
    for (const move of plan.moves) {
      expect(move.from).toEqual(primaries(input.previous, move.partition, input.n));
      expect(move.to).toEqual(primaries(input.next, move.partition, input.n));
    }
  },
);

test.prop([inputs], { numRuns: RUNS })(
  "gaining ∪ (from ∩ to) = to and losing ∪ (from ∩ to) = from, each disjointly",
  (input) => {
    for (const move of planTransition(input).moves) {
      const kept = move.from.filter((node) => move.to.includes(node));
      expect(move.gaining.some((node) => kept.includes(node))).toBe(false);
      expect(move.losing.some((node) => kept.includes(node))).toBe(false);
      expect(sameSet([...move.gaining, ...kept], move.to)).toBe(true);
      expect(sameSet([...move.losing, ...kept], move.from)).toBe(true);
    }
  },
);

test.prop([inputs], { numRuns: RUNS })(
  "the source is an available old primary, absent only when none is, and then a warning says so",
  (input) => {
    const plan = planTransition(input);
    for (const move of plan.moves) {
      const available = move.from.filter((node) => !input.unavailable!.has(node));
      if (available.length === 0) expect(move.source).toBeUndefined();
      else expect(available).toContain(move.source);
    }
    const lost = plan.moves.filter((move) => move.source === undefined);
    const warned = plan.warnings.filter((warning) => warning.includes("no surviving copy"));
    expect(warned).toEqual(
      lost.map((move) => expect.stringMatching(`^partition ${move.partition} `)),
    );
  },
);

test.prop([inputs], { numRuns: RUNS })(
  "transfers sum the (source, gaining node) pairs of the moves, sorted, and the ETA is the busiest sender's",
  (input) => {
    const plan = planTransition(input);
    const total = plan.transfers.reduce((sum, row) => sum + row.partitions, 0);
    expect(total).toBe(gainingTotal(plan, true));
    const expected = new Map<string, { partitions: number; keys: number; bytes: number }>();
    for (const move of plan.moves) {
      if (move.source === undefined) continue;
      const stats = input.partitionStats!(move.partition);
      for (const node of move.gaining) {
        const row = expected.get(`${move.source} ${node}`) ?? { partitions: 0, keys: 0, bytes: 0 };
        expected.set(`${move.source} ${node}`, {
          partitions: row.partitions + 1,
          keys: row.keys + stats.keys,
          bytes: row.bytes + stats.bytes,
        });
      }
    }
    const keys = plan.transfers.map((row) => `${row.from} ${row.to}`);
    expect(keys).toEqual([...expected.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    for (const row of plan.transfers) {
      expect({ partitions: row.partitions, keys: row.keys, bytes: row.bytes }).toEqual(
        expected.get(`${row.from} ${row.to}`),
      );
    }
    const sent = new Map<NodeId, number>();
    for (const row of plan.transfers) sent.set(row.from, (sent.get(row.from) ?? 0) + row.bytes);
    const rate = input.bytesPerSecondPerSender!;
    expect(plan.etaSeconds).toBe(rate === 0 ? undefined : Math.max(0, ...sent.values()) / rate);
  },
);

test.prop([inputs], { numRuns: RUNS })(
  "ownership lists every member of either ring once, sorted, with its claimed partitions",
  (input) => {
    const plan = planTransition(input);
    const nodes = [...new Set([...input.previous.nodes, ...input.next.nodes])].sort();
    expect(plan.ownership.map((row) => row.node)).toEqual(nodes);
    for (const row of plan.ownership) {
      expect(row.before).toBe(input.previous.owners.filter((owner) => owner === row.node).length);
      expect(row.after).toBe(input.next.owners.filter((owner) => owner === row.node).length);
    }
  },
);

test.prop([inputs], { numRuns: RUNS })(
  "a plan from a ring to itself has no moves, no transfers and nothing lost",
  (input) => {
    const plan = planTransition({ ...input, next: input.previous });
    expect(plan.moves).toEqual([]);
    expect(plan.transfers).toEqual([]);
    expect(plan.warnings.some((warning) => warning.includes("no surviving copy"))).toBe(false);
    if (input.bytesPerSecondPerSender! > 0) expect(plan.etaSeconds).toBe(0);
  },
);

test.prop([inputs], { numRuns: RUNS })("the same input gives the same plan", (input) => {
  const again = { ...input, unavailable: new Set([...input.unavailable!].reverse()) };
  expect(planTransition(again)).toEqual(planTransition(input));
});

// Without violations the primaries of p are the owners of p..p+n-1, so a joiner is a primary of
// n partitions per partition it claims, and it claims at most ceil(Q/S).
test.prop([members(1), fc.constantFrom(8, 16, 32, 64), n, fc.nat()], { numRuns: RUNS })(
  "a join gives the joiner n partitions per partition it claims, at most n·ceil(Q/S)",
  (before, partitionCount, targetN, seed) => {
    const joiner = pool.filter((node) => !before.includes(node))[
      seed % (pool.length - before.length)
    ];
    fc.pre(joiner !== undefined);
    const previous = claimRing({ nodes: before, partitionCount, targetN });
    const next = claimRing({ nodes: [...before, joiner], partitionCount, targetN, previous });
    fc.pre(claimViolations(next, targetN).length === 0);
    const plan = planTransition({ previous, next, n: targetN });
    const gained = plan.moves.filter((move) => move.gaining.includes(joiner)).length;
    const claimed = next.owners.filter((owner) => owner === joiner).length;
    expect(gained).toBe(targetN * claimed);
    expect(gained).toBeLessThanOrEqual(targetN * Math.ceil(partitionCount / (before.length + 1)));
  },
);

// Each partition whose owner changed enters n windows and adds at most one node to each.
test.prop([rings], { numRuns: RUNS })(
  "between rings without violations, the nodes gaining a partition number at most n per changed owner",
  ({ previous, next, n: targetN }) => {
    fc.pre(claimViolations(previous, targetN).length === 0);
    fc.pre(claimViolations(next, targetN).length === 0);
    const changed = previous.owners.filter((owner, p) => next.owners[p] !== owner).length;
    expect(gainingTotal(planTransition({ previous, next, n: targetN }), false)).toBeLessThanOrEqual(
      targetN * changed,
    );
  },
);
