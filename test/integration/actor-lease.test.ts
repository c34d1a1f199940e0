// Goal: a node restarted with SIGTERM keeps its actor id, so a key it coordinates writes for
// keeps one actor in its context; a node killed with SIGKILL takes a new actor when it comes
// back (it may have lost writes whose dots other replicas hold: Riak kv679).
// Method: one real `dkv serve` process on the log engine; the actors are counted in the
// context a Get returns (actor ids travel as text in it, sealed or not).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCluster } from "./local-cluster-harness.js";

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ nodes: 1, storage: "log" });
});

afterAll(async () => {
  await cluster?.stop();
});

/** A read-modify-write of `key` through n1; returns the distinct actors in the new context. */
async function writeAndCountActors(key: string, value: string): Promise<string[]> {
  const client = cluster.client("n1");
  const read = await client.get(key, { n: 1 });
  await client.put(key, value, { n: 1, context: read.context });
  const after = await client.get(key, { n: 1 });
  const text = Buffer.from(after.context).toString("latin1");
  return [...new Set(text.match(/n1\.[0-9a-f]{8}/g) ?? [])];
}

describe("the actor id across restarts", () => {
  it("survives SIGTERM and is renewed after SIGKILL", async () => {
    const first = await writeAndCountActors("k", "1");
    expect(first).toHaveLength(1);

    await cluster.stopNode("n1", "graceful");
    await cluster.startNode("n1");
    expect(await writeAndCountActors("k", "2")).toEqual(first);

    await cluster.stopNode("n1", "kill");
    await cluster.startNode("n1");
    const afterKill = await writeAndCountActors("k", "3");
    expect(afterKill).toHaveLength(2);
    expect(afterKill).toContain(first[0]);
    expect(cluster.log("n1")).toMatch(/did not stop cleanly/);
  });
});
