// Goal: the schedule compares every pair of replicas exactly once per interval, with the work
// spread evenly, and only over the partitions both replicate.
// Method: every cluster size from 1 to 9 nodes; partitions from the real ring and preference list.

import { describe, expect, it } from "vitest";
import {
  exchangePeers,
  exchangeSpacingMs,
  partitionsReplicatedBy,
} from "../../../../node/anti-entropy/exchange-schedule.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { claimRing } from "../../../../node/core/ring.js";
import { preferenceList } from "../../../../coordinator/core/preference-list.js";

const nodes = (count: number): NodeId[] =>
  Array.from({ length: count }, (_, i) => nodeId(`n${i + 1}`));

describe("exchangePeers", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9])(
    "opens each pair of %d nodes exactly once, evenly",
    (count) => {
      const all = nodes(count);
      const opened = new Map<string, number>();
      const perNode = all.map((self) => {
        const peers = exchangePeers(self, [...all].reverse());
        for (const peer of peers) {
          expect(peer).not.toBe(self);
          const pairKey = [self, peer].sort().join("|");
          opened.set(pairKey, (opened.get(pairKey) ?? 0) + 1);
        }
        return peers.length;
      });
      expect(opened.size).toBe((count * (count - 1)) / 2);
      expect([...opened.values()].every((times) => times === 1)).toBe(true);
      expect(Math.max(...perNode) - Math.min(...perNode)).toBeLessThanOrEqual(1);
    },
  );

  it("is empty for a node outside the cluster", () => {
    expect(exchangePeers(nodeId("x"), nodes(3))).toEqual([]);
  });

  it("with three nodes goes round the ring", () => {
    expect(nodes(3).map((self) => exchangePeers(self, nodes(3)))).toEqual([["n2"], ["n3"], ["n1"]]);
  });
});

describe("partitionsReplicatedBy", () => {
  const ring = claimRing({ nodes: nodes(5), partitionCount: 16, targetN: 3 });
  const primariesOf = (p: number): readonly NodeId[] =>
    preferenceList(ring, new Set(ring.nodes), p, 3).primaries;

  it("lists the partitions whose primaries include every node named", () => {
    const shared = partitionsReplicatedBy(16, primariesOf, [nodeId("n1"), nodeId("n2")]);
    for (let p = 0; p < 16; p++) {
      const both = primariesOf(p).includes(nodeId("n1")) && primariesOf(p).includes(nodeId("n2"));
      expect(shared.includes(p)).toBe(both);
    }
  });

  it("gives each node 3 of every 5 partitions' worth with n=3 on 5 nodes", () => {
    const total = nodes(5).reduce(
      (sum, node) => sum + partitionsReplicatedBy(16, primariesOf, [node]).length,
      0,
    );
    expect(total).toBe(16 * 3);
  });
});

describe("exchangeSpacingMs", () => {
  it.each([
    [600_000, 1, 600_000],
    [600_000, 2, 300_000],
    [1000, 0, 1000],
  ])("interval %d over %d peers is %d ms", (interval, peers, spacing) => {
    expect(exchangeSpacingMs(interval, peers)).toBe(spacing);
  });
});
