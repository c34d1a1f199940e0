// Goal: during a partition {n1,n2} | {n3,n4,n5} both sides accept writes (sloppy quorum), and
// after the heal every key converges to the union of the acknowledged writes, as siblings.
// Method: 5 real nodes; the node-level partition (Admin.SetDroppedPeers, no root); the same
// keys written blind on both sides; then reads at r=3 and each primary's own copy.

import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { TestCluster } from "./local-cluster-harness.js";
import { FAULT_INJECTION_FLAG, setDroppedPeers } from "../../scripts/lib/fault-cluster.js";
import { claimRing } from "../../node/core/ring.js";
import { nodeId } from "../../node/core/node-id.js";
import { partitionOfKey } from "../../node/core/key-hash.js";
import { preferenceList } from "../../coordinator/core/preference-list.js";

const NODES = ["n1", "n2", "n3", "n4", "n5"];
const SIDE_A = ["n1", "n2"];
const SIDE_B = ["n3", "n4", "n5"];
let cluster: TestCluster;

beforeAll(async () => {
  // Hinted handoff returns what each side's fallbacks held; a side with fewer live nodes than n
  // cannot stand in for every missing primary, so anti-entropy (short interval here) completes
  // the convergence without any read.
  cluster = await TestCluster.start({
    nodes: 5,
    storage: "log",
    serveArgs: [FAULT_INJECTION_FLAG, "--aae-interval-ms=2000"],
  });
});

afterAll(async () => {
  await cluster?.stop();
});

function primariesOf(key: string): string[] {
  const ring = claimRing({ nodes: NODES.map(nodeId), partitionCount: 64, targetN: 3 });
  const partition = partitionOfKey("default", Buffer.from(key), 64);
  return [...preferenceList(ring, new Set(ring.nodes), partition, 3).primaries];
}

async function partition(groups: string[][]): Promise<void> {
  await Promise.all(
    groups.flatMap((group) =>
      group.map((node) =>
        setDroppedPeers(
          cluster.spec(node).address,
          NODES.filter((other) => !group.includes(other)),
        ),
      ),
    ),
  );
}

function logTail(node: string, lines: number): string {
  return cluster.log(node).split("\n").slice(-lines).join("\n");
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const giveUpAtMs = Date.now() + timeoutMs;
  while (Date.now() < giveUpAtMs) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return check();
}

describe("a partition {n1,n2} | {n3,n4,n5}", () => {
  it(
    "accepts writes on both sides and converges to their union after the heal",
    { timeout: 90_000 },
    async () => {
      // A failure here has been seen once under CI load; the nodes' own words say why.
      onTestFailed(() => {
        for (const node of NODES) console.log(`--- ${node} log tail\n${logTail(node, 40)}`);
      });
      await partition([SIDE_A, SIDE_B]);
      const keys = Array.from({ length: 20 }, (_, index) => `split-${index}`);
      const fromA = cluster.client("n1");
      const fromB = cluster.client("n3");
      for (const key of keys) {
        await fromA.put(key, `${key}-a`, { w: 2 });
        await fromB.put(key, `${key}-b`, { w: 2 });
      }
      await partition([NODES]);

      const converged = await until(async () => {
        for (const key of keys) {
          for (const node of primariesOf(key)) {
            const reply = await cluster.checker(node).localGet(key);
            const values = reply.siblings.map((sibling) => sibling.value.toString()).sort();
            if (values.join() !== [`${key}-a`, `${key}-b`].join()) return false;
          }
        }
        return true;
      }, 45_000);
      expect(converged).toBe(true);
      for (const key of keys) {
        const reply = await cluster.checker("n5").get(key, { r: 3 });
        expect(reply.siblings.map((sibling) => sibling.value.toString()).sort()).toEqual([
          `${key}-a`,
          `${key}-b`,
        ]);
      }
    },
  );
});
