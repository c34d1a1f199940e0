// Property tests of the preference list of a write during a membership change: it reaches the
// old and the new primaries, and any w + widenBy of its primaries contain w old and w new ones
// (the quorum law that keeps every acknowledged write readable on both sides of the change).

import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";

import {
  preferenceList,
  transitionPreferenceList,
} from "../../../../coordinator/core/preference-list.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { claimRing, type Ring } from "../../../../node/core/ring.js";

const RUNS = 200;

interface Change {
  readonly previous: Ring;
  readonly next: Ring;
  readonly up: ReadonlySet<NodeId>;
  readonly partition: number;
  readonly n: number;
}

const changes: fc.Arbitrary<Change> = fc
  .record({
    size: fc.integer({ min: 1, max: 8 }),
    partitionCount: fc.constantFrom(4, 8, 16, 64),
    n: fc.integer({ min: 1, max: 4 }),
    kind: fc.constantFrom("join", "leave", "replace", "join-two"),
    upMask: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
    partitionSeed: fc.nat(),
  })
  .map(({ size, partitionCount, n, kind, upMask, partitionSeed }) => {
    const nodes = Array.from({ length: size }, (_, i) => nodeId(`n${i}`));
    const previous = claimRing({ nodes, partitionCount, targetN: n });
    const joined = [nodeId("x1"), nodeId("x2")];
    let after: NodeId[];
    if (kind === "join") after = [...nodes, joined[0]!];
    else if (kind === "join-two") after = [...nodes, ...joined];
    else if (kind === "leave" && size > 1) after = nodes.slice(1);
    else after = [...nodes.slice(1), joined[0]!];
    const next = claimRing({ nodes: after, partitionCount, targetN: n, previous });
    const everyone = [...new Set([...nodes, ...after])];
    const up = new Set(everyone.filter((_, i) => upMask[i % upMask.length]));
    return { previous, next, up, partition: partitionSeed % partitionCount, n };
  });

function primaries(ring: Ring, partition: number, n: number): NodeId[] {
  return [...preferenceList(ring, new Set(ring.nodes), partition, n).primaries];
}

test.prop([changes], { numRuns: RUNS })(
  "primaries are the old ones followed by the gaining ones, each once",
  ({ previous, next, up, partition, n }) => {
    const list = transitionPreferenceList(previous, next, up, partition, n);
    const old = primaries(previous, partition, n);
    const gaining = primaries(next, partition, n).filter((node) => !old.includes(node));
    expect(list.primaries).toEqual([...old, ...gaining]);
    expect(list.gaining).toBe(gaining.length);
    const named = [...list.targets.map((target) => target.node), ...list.spares];
    expect(new Set(named).size).toBe(named.length);
    for (const target of list.targets) {
      expect(up.has(target.node)).toBe(true);
      if (target.role === "fallback") expect(list.primaries).not.toContain(target.node);
    }
  },
);

test.prop([changes], { numRuns: RUNS })(
  "a node leaving the cluster is no fallback: it must hand off its hints, not take more",
  ({ previous, next, up, partition, n }) => {
    const list = transitionPreferenceList(previous, next, up, partition, n);
    const fallbacks = list.targets.filter((target) => target.role === "fallback");
    for (const node of [...fallbacks.map((target) => target.node), ...list.spares]) {
      expect(next.nodes).toContain(node);
    }
  },
);

test.prop([changes, fc.integer({ min: 1, max: 4 }), fc.nat()], { numRuns: RUNS })(
  "any w + widenBy of the primaries hold w old primaries and w new ones",
  ({ previous, next, up, partition, n }, wAsked, pick) => {
    const list = transitionPreferenceList(previous, next, up, partition, n);
    const old = primaries(previous, partition, n);
    const now = primaries(next, partition, n);
    const w = Math.min(wAsked, old.length, now.length);
    const needed = w + list.widenBy;
    if (needed > list.primaries.length) return;
    // A pseudo-random subset of exactly `needed` primaries: the ones that acknowledged.
    const order = [...list.primaries].sort(
      (a, b) => ((hashOf(a) ^ pick) % 97) - ((hashOf(b) ^ pick) % 97) || (a < b ? -1 : 1),
    );
    const acked = new Set(order.slice(0, needed));
    expect(old.filter((node) => acked.has(node)).length).toBeGreaterThanOrEqual(w);
    expect(now.filter((node) => acked.has(node)).length).toBeGreaterThanOrEqual(w);
  },
);

test.prop([changes], { numRuns: RUNS })(
  "without a change, it is the previous ring's list",
  ({ previous, up, partition, n }) => {
    const list = transitionPreferenceList(previous, previous, up, partition, n);
    expect(list.gaining).toBe(0);
    const plain = preferenceList(previous, up, partition, n);
    expect(list.primaries).toEqual(plain.primaries);
    expect(list.targets).toEqual(plain.targets);
    expect(list.spares).toEqual(plain.spares);
  },
);

function hashOf(node: string): number {
  let hash = 7;
  for (let index = 0; index < node.length; index++) hash = (hash * 31 + node.charCodeAt(index)) | 0;
  return hash >>> 0;
}
