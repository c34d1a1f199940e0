// Goal: the partition-aware client (DkvClient routing "primary") sends each request to a
// primary of its key and spreads the requests over the key's primaries, even when it was given
// only one node, which never sees a request for a key it does not hold; the default client
// sends everything to the node it was given.
// Method: 5 real nodes (n=3); keys none of whose primaries is n1; each node's count of KV
// requests in the last minute (Admin.Status recent_requests).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCluster } from "./local-cluster-harness.js";
import { DkvClient } from "../../coordinator/client.js";
import { claimRing } from "../../node/core/ring.js";
import { nodeId } from "../../node/core/node-id.js";
import { partitionOfKey } from "../../node/core/key-hash.js";
import { preferenceList } from "../../coordinator/core/preference-list.js";

const NODES = ["n1", "n2", "n3", "n4", "n5"];
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ nodes: 5 });
});

afterAll(async () => {
  await cluster?.stop();
});

function primariesOf(key: string): string[] {
  const ring = claimRing({ nodes: NODES.map(nodeId), partitionCount: 64, targetN: 3 });
  const partition = partitionOfKey("default", Buffer.from(key), 64);
  return [...preferenceList(ring, new Set(ring.nodes), partition, 3).primaries];
}

async function requestsPerNode(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const node of NODES) {
    const status = await cluster.client(node).status();
    counts.set(node, Number(status.recent_requests));
  }
  return counts;
}

describe("the partition-aware client", () => {
  it("sends each request to a primary of its key, spread over the primaries", async () => {
    const keys = Array.from({ length: 200 }, (_, index) => `routed-${index}`)
      .filter((key) => !primariesOf(key).includes("n1"))
      .slice(0, 40);
    expect(keys.length).toBe(40);
    const before = await requestsPerNode();
    const client = new DkvClient([cluster.spec("n1").address], {
      routing: "primary",
      security: cluster.security,
    });
    try {
      for (const key of keys) {
        await client.put(key, key, { w: 2 });
        const reply = await client.get(key, { r: 2 });
        expect(reply.siblings.map((sibling) => sibling.value.toString())).toEqual([key]);
      }
    } finally {
      client.close();
    }
    const after = await requestsPerNode();
    const delta = (node: string): number => (after.get(node) ?? 0) - (before.get(node) ?? 0);
    // n1 is a primary of none of these keys: it only answered the Status the client asked.
    expect(delta("n1")).toBe(0);
    const total = NODES.reduce((sum, node) => sum + delta(node), 0);
    expect(total).toBe(keys.length * 2);
    // Spread: no single node took every request.
    for (const node of NODES) expect(delta(node)).toBeLessThan(keys.length * 2);
  });

  it("sends everything to the given node by default", async () => {
    const before = await requestsPerNode();
    const client = new DkvClient([cluster.spec("n1").address], { security: cluster.security });
    try {
      for (let index = 0; index < 10; index++) await client.put(`given-${index}`, "v");
    } finally {
      client.close();
    }
    const after = await requestsPerNode();
    expect((after.get("n1") ?? 0) - (before.get("n1") ?? 0)).toBe(10);
  });
});
