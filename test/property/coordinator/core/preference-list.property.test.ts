// Property tests of the preference list over claimed rings, random up sets, partitions and n.
// The oracle is a plain ring walk written here, so the laws are checked against it rather than
// against the implementation's own helpers.

import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";

import {
  preferenceList,
  type PreferenceList,
} from "../../../../coordinator/core/preference-list.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { claimRing, type Ring } from "../../../../node/core/ring.js";

const RUNS = 150;

interface Case {
  readonly ring: Ring;
  readonly upNodes: ReadonlySet<NodeId>;
  readonly partition: number;
  readonly n: number;
  readonly sloppy: boolean;
}

const cases: fc.Arbitrary<Case> = fc
  .record({
    size: fc.integer({ min: 1, max: 12 }),
    partitionCount: fc.constantFrom(4, 8, 16, 64),
    targetN: fc.integer({ min: 1, max: 4 }),
    upMask: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    partitionSeed: fc.nat(),
    n: fc.integer({ min: 1, max: 7 }),
    sloppy: fc.boolean(),
  })
  .map(({ size, partitionCount, targetN, upMask, partitionSeed, n, sloppy }) => {
    const nodes = Array.from({ length: size }, (_, i) => nodeId(`n${(i * 7) % 13}`));
    const ring = claimRing({ nodes, partitionCount, targetN });
    // A stranger in the up set must be ignored.
    const upNodes = new Set([...nodes.filter((_, i) => upMask[i]), nodeId("stranger")]);
    return { ring, upNodes, partition: partitionSeed % partitionCount, n, sloppy };
  });

/** Every member once: owners clockwise from `partition`, then members owning nothing, sorted. */
function walk(ring: Ring, partition: number): NodeId[] {
  const order: NodeId[] = [];
  for (let step = 0; step < ring.owners.length; step++) {
    const owner = ring.owners[(partition + step) % ring.owners.length]!;
    if (!order.includes(owner)) order.push(owner);
  }
  return [...order, ...ring.nodes.filter((node) => !order.includes(node))];
}

function listOf(c: Case): PreferenceList {
  return preferenceList(c.ring, c.upNodes, c.partition, c.n, { sloppy: c.sloppy });
}

test.prop([cases], { numRuns: RUNS })(
  "primaries are the first min(n, S) distinct nodes of the ring walk, whoever is up",
  (c) => {
    const list = listOf(c);
    expect(list.primaries).toEqual(walk(c.ring, c.partition).slice(0, c.n));
    expect(list.primaries).toHaveLength(Math.min(c.n, c.ring.nodes.length));
    expect(new Set(list.primaries).size).toBe(list.primaries.length);
    const allUp = preferenceList(c.ring, new Set(c.ring.nodes), c.partition, c.n);
    expect(allUp.primaries).toEqual(list.primaries);
  },
);

test.prop([cases], { numRuns: RUNS })(
  "targets are distinct, keep the primaries' order, and fallbacks never duplicate a primary",
  (c) => {
    const { primaries, targets } = listOf(c);
    const nodes = targets.map((entry) => entry.node);
    expect(new Set(nodes).size).toBe(nodes.length);
    const slots = targets.map((entry) =>
      entry.role === "primary" ? entry.node : entry.standsInFor,
    );
    expect(slots).toEqual(primaries.filter((primary) => slots.includes(primary)));
    for (const entry of targets) {
      expect(c.upNodes.has(entry.node)).toBe(true);
      if (entry.role === "fallback") {
        expect(primaries).not.toContain(entry.node);
        expect(c.upNodes.has(entry.standsInFor)).toBe(false);
      }
    }
  },
);

test.prop([cases], { numRuns: RUNS })(
  "a down primary is replaced by the next up non-primary in walk order, while any is left",
  (c) => {
    const { primaries, targets, spares } = listOf(c);
    const upPrimaries = primaries.filter((node) => c.upNodes.has(node));
    const upOthers = walk(c.ring, c.partition)
      .slice(primaries.length)
      .filter((node) => c.upNodes.has(node));
    const fallbacks = targets.flatMap((entry) => (entry.role === "fallback" ? [entry.node] : []));
    const down = primaries.length - upPrimaries.length;
    const used = c.sloppy ? Math.min(down, upOthers.length) : 0;
    expect(fallbacks).toEqual(upOthers.slice(0, used));
    expect(spares).toEqual(upOthers.slice(used));
    expect(targets.filter((entry) => entry.role === "primary").map((e) => e.node)).toEqual(
      upPrimaries,
    );
  },
);

test.prop([cases], { numRuns: RUNS })(
  "with sloppy quorum there are min(n, up members) targets; without, the up primaries only",
  (c) => {
    const { primaries, targets, spares } = listOf(c);
    const upMembers = c.ring.nodes.filter((node) => c.upNodes.has(node));
    if (c.sloppy) expect(targets).toHaveLength(Math.min(c.n, upMembers.length));
    else expect(targets.map((e) => e.node)).toEqual(primaries.filter((p) => c.upNodes.has(p)));
    const covered = [...targets.map((entry) => entry.node), ...spares];
    expect([...covered].sort()).toEqual([...upMembers].sort());
  },
);
