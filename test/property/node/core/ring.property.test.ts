// Property tests of the ring claim over random member sets, partition counts and targetN:
// balance, independence from input order, the zero-violation rule, and bounds on the partitions
// moved by a join or a leave.

import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";

import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { claimRing, claimViolations, type Ring } from "../../../../node/core/ring.js";

const RUNS = 60;

const q = fc.constantFrom(8, 16, 32, 64, 128, 256);
const targetN = fc.integer({ min: 1, max: 5 });
const id = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,5}$/).map((value) => nodeId(value));
const members = (min: number, max: number): fc.Arbitrary<NodeId[]> =>
  fc.uniqueArray(id, { minLength: min, maxLength: max });

function moved(before: Ring, after: Ring): number {
  return before.owners.filter((owner, p) => after.owners[p] !== owner).length;
}

function violations(ring: Ring, n: number): number {
  return claimViolations(ring, n).length;
}

/** A ring made by claiming `nodes` after `gone` left: previous rings are not always fresh. */
function settled(nodes: NodeId[], gone: NodeId, partitionCount: number, n: number): Ring {
  const fresh = claimRing({ nodes: [...nodes, gone], partitionCount, targetN: n });
  return claimRing({ nodes, partitionCount, targetN: n, previous: fresh });
}

function expectBalanced(ring: Ring, nodes: readonly NodeId[]): void {
  const counts = new Map(nodes.map((node) => [node, 0]));
  for (const owner of ring.owners) counts.set(owner, counts.get(owner)! + 1);
  expect(counts.size).toBe(new Set(nodes).size);
  const [floor, ceil] = [
    Math.floor(ring.owners.length / counts.size),
    Math.ceil(ring.owners.length / counts.size),
  ];
  for (const count of counts.values()) expect(count === floor || count === ceil).toBe(true);
}

test.prop([members(1, 24), q, targetN], { numRuns: RUNS })(
  "claimRing gives every member floor(Q/S) or ceil(Q/S) partitions and nobody else any",
  (nodes, partitionCount, n) => {
    const ring = claimRing({ nodes, partitionCount, targetN: n });
    expectBalanced(ring, nodes);
    expect(ring.nodes).toEqual([...nodes].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  },
);

test.prop([members(1, 12), members(0, 3), q, targetN, fc.array(fc.nat(), { minLength: 20 })], {
  numRuns: RUNS,
})(
  "claimRing depends on the set of nodes, not their order or repeats, with or without previous",
  (nodes, others, partitionCount, n, order) => {
    const shuffled = [...nodes, nodes[0]!].sort(
      (a, b) => order[nodes.indexOf(a) % order.length]! - order[nodes.indexOf(b) % order.length]!,
    );
    const a = claimRing({ nodes, partitionCount, targetN: n });
    expect(claimRing({ nodes: shuffled, partitionCount, targetN: n })).toEqual(a);
    const previous = claimRing({ nodes: [...nodes, ...others], partitionCount, targetN: n });
    const b = claimRing({ nodes, partitionCount, targetN: n, previous });
    expect(claimRing({ nodes: shuffled, partitionCount, targetN: n, previous })).toEqual(b);
  },
);

test.prop([members(1, 40), q, fc.integer({ min: 1, max: 7 })], { numRuns: RUNS })(
  "a fresh claim has no violations exactly when ceil(Q/S)·targetN ≤ Q",
  (nodes, partitionCount, n) => {
    const ring = claimRing({ nodes, partitionCount, targetN: n });
    const feasible = Math.ceil(partitionCount / nodes.length) * n <= partitionCount;
    expect(violations(ring, n) === 0).toBe(feasible);
  },
);

test.prop([members(1, 16), members(1, 16), q, targetN], { numRuns: RUNS })(
  "a claim from any previous ring is balanced and has no more violations than a fresh claim",
  (before, after, partitionCount, n) => {
    const previous = claimRing({ nodes: before, partitionCount, targetN: n });
    const ring = claimRing({ nodes: after, partitionCount, targetN: n, previous });
    expectBalanced(ring, after);
    const fresh = claimRing({ nodes: after, partitionCount, targetN: n });
    expect(violations(ring, n)).toBeLessThanOrEqual(violations(fresh, n));
  },
);

// A joiner takes its share from members above theirs; anything beyond that is a repair swap
// where the greedy could not space the joiner's partitions targetN apart. Budget: targetN-1
// swaps. (Measured on 24,000 random joins: at most one partition beyond the share.)
test.prop([members(3, 22), q, targetN, fc.boolean()], { numRuns: RUNS })(
  "a join into a ring without violations moves at most ceil(Q/S) + 2(targetN-1) partitions",
  ([joiner, gone, ...nodes], partitionCount, n, fresh) => {
    const previous = fresh
      ? claimRing({ nodes, partitionCount, targetN: n })
      : settled(nodes, gone!, partitionCount, n);
    fc.pre(violations(previous, n) === 0 && nodes.length + 1 > n);
    const ring = claimRing({ nodes: [...nodes, joiner!], partitionCount, targetN: n, previous });
    const share = Math.ceil(partitionCount / (nodes.length + 1));
    expect(moved(previous, ring)).toBeLessThanOrEqual(share + 2 * (n - 1));
    expect(violations(ring, n)).toBe(0);
  },
);

// The leaver's partitions must move. Its neighbours within targetN-1 cannot take those partitions
// without a violation, so each may have to gain its growth g (+1 for the remainder) elsewhere:
// one extra move per partition, for at most 2(targetN-1) neighbours in a striped ring.
test.prop([members(3, 22), q, targetN, fc.boolean(), fc.nat()], { numRuns: RUNS })(
  "a leave from a ring without violations, to S ≥ 2·targetN, moves the leaver's partitions " +
    "and at most 2(targetN-1)(g+1) more",
  ([, gone, ...nodes], partitionCount, n, fresh, pick) => {
    fc.pre(nodes.length - 1 >= 2 * n);
    const previous = fresh
      ? claimRing({ nodes, partitionCount, targetN: n })
      : settled(nodes, gone!, partitionCount, n);
    fc.pre(violations(previous, n) === 0);
    const leaver = nodes[pick % nodes.length]!;
    const rest = nodes.filter((node) => node !== leaver);
    const ring = claimRing({ nodes: rest, partitionCount, targetN: n, previous });
    const had = previous.owners.filter((owner) => owner === leaver).length;
    const g = Math.ceil(partitionCount / rest.length) - Math.floor(partitionCount / nodes.length);
    expect(moved(previous, ring)).toBeLessThanOrEqual(had + 2 * (n - 1) * (g + 1));
    expect(violations(ring, n)).toBe(0);
  },
);
