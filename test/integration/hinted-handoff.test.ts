// Goal: with a primary down, writes keep succeeding (sloppy quorum), fallbacks keep durable hints,
// and once the primary is back every hint is handed off so that node alone holds every write.
// Method: 5 real nodes, n=3, w=2; a steady write load through n1 while n3 is killed with
// SIGKILL and restarted; n3's own copies are read with Admin.LocalGet.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCluster } from "./local-cluster-harness.js";
import { claimRing } from "../../node/core/ring.js";
import { nodeId } from "../../node/core/node-id.js";
import { partitionOfKey } from "../../node/core/key-hash.js";
import { preferenceList } from "../../coordinator/core/preference-list.js";

let cluster: TestCluster;
const NODES = ["n1", "n2", "n3", "n4", "n5"];

beforeAll(async () => {
  cluster = await TestCluster.start({ nodes: 5, storage: "log" });
});

afterAll(async () => {
  await cluster?.stop();
});

/** True when n3 is among the key's three primaries. */
function n3IsPrimary(key: string): boolean {
  const ring = claimRing({ nodes: NODES.map(nodeId), partitionCount: 64, targetN: 3 });
  const partition = partitionOfKey("default", Buffer.from(key), 64);
  return preferenceList(ring, new Set(ring.nodes), partition, 3).primaries.includes(nodeId("n3"));
}

async function hintsFor(target: string): Promise<number> {
  let total = 0;
  for (const node of NODES.filter((id) => id !== target)) {
    const status = await cluster.client(node).status();
    total += Number(status.members.find((member) => member.node_id === target)?.hints_pending ?? 0);
  }
  return total;
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const giveUpAtMs = Date.now() + timeoutMs;
  while (Date.now() < giveUpAtMs) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe("hinted handoff", () => {
  it(
    "loses no write while a primary is down and hands every one back",
    { timeout: 90_000 },
    async () => {
      const writer = cluster.client("n1");
      const acknowledged: string[] = [];
      const failures: string[] = [];
      let stop = false;
      const load = (async () => {
        for (let index = 0; !stop; index++) {
          const key = `handoff-${index}`;
          try {
            await writer.put(key, key, { w: 2 });
            acknowledged.push(key);
          } catch (error) {
            failures.push(`${key}: ${(error as Error).message}`);
          }
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await cluster.stopNode("n3", "kill");
      await new Promise((resolve) => setTimeout(resolve, 4000));
      expect(await hintsFor("n3")).toBeGreaterThan(0);
      stop = true;
      await load;
      expect(failures).toEqual([]);
      const forN3 = acknowledged.filter(n3IsPrimary);
      expect(forN3.length).toBeGreaterThan(20);

      const restartedAtMs = Date.now();
      await cluster.startNode("n3");
      const delivered = await until(async () => (await hintsFor("n3")) === 0, 10_000);
      expect(delivered, `hints still pending ${Date.now() - restartedAtMs} ms after restart`).toBe(
        true,
      );
      const n3 = cluster.client("n3");
      const missing: string[] = [];
      for (const key of forN3) {
        const reply = await n3.localGet(key);
        if (!reply.siblings.some((sibling) => sibling.value.toString() === key)) missing.push(key);
      }
      expect(missing).toEqual([]);
    },
  );
});
