// Goal: a cluster grows while it serves (issue 14): a new node started with `--join` has its
// join staged, the plan shows what moves, the commit starts the transfer, anti-entropy carries
// the partitions to the new node, the change retires on every node, and no acknowledged write
// is lost or unreadable — before, during and after.
// Method: three `dkv serve` processes with the log engine and 16 partitions; a fourth joins
// through n1 while a writer keeps putting new keys through every node at w=2. Membership is
// driven over the Membership service; each node's own copies are read with Admin.LocalGet.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { TestCluster } from "./local-cluster-harness.js";
import { loadProto } from "../../proto/load-proto.js";
import type { MembershipClient } from "../../proto/generated/dkv/v1/Membership.js";
import type { ClusterMetadata } from "../../node/core/layout.js";
import { decodeMetadata } from "../../node/core/layout-codec.js";
import { partitionOfKey } from "../../node/core/key-hash.js";
import { preferenceList } from "../../coordinator/core/preference-list.js";
import { ringsOf } from "../../node/core/layout.js";

let cluster: TestCluster;
const clients: MembershipClient[] = [];

beforeAll(async () => {
  cluster = await TestCluster.start({ nodes: 3, storage: "log", partitions: 16 });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await cluster?.stop();
});

function membership(node: string): MembershipClient {
  const v1 = loadProto().grpcObject.dkv.v1;
  const client = new v1.Membership(cluster.spec(node).address, grpc.credentials.createInsecure());
  clients.push(client);
  return client;
}

function unary<T>(
  call: (callback: (error: grpc.ServiceError | null, reply?: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) =>
    call((error, reply) =>
      error !== null || reply === undefined ? reject(error) : resolve(reply),
    ),
  );
}

async function metadataOf(node: string): Promise<ClusterMetadata> {
  const reply = await unary<{ metadata_json: string }>((callback) =>
    membership(node).Get({}, { deadline: Date.now() + 5000 }, callback),
  );
  return decodeMetadata(Buffer.from(reply.metadata_json, "utf8"));
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const giveUpAtMs = Date.now() + timeoutMs;
  while (Date.now() < giveUpAtMs) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (!(await check())) throw new Error(`not reached within ${timeoutMs} ms`);
}

describe("growing a cluster from 3 to 4 nodes while it serves", () => {
  it("joins, plans, commits, transfers and retires with every acknowledged write readable", async () => {
    const acknowledged = new Map<string, string>();
    for (let index = 0; index < 150; index++) {
      const node = `n${(index % 3) + 1}`;
      await cluster.client(node).put(`before-${index}`, `v${index}`, { w: 2 });
      acknowledged.set(`before-${index}`, `v${index}`);
    }
    // A writer that keeps going through the whole change, on every node that serves.
    let writing = true;
    let failures = 0;
    const writer = (async (): Promise<void> => {
      for (let index = 0; writing; index++) {
        const node = `n${(index % 3) + 1}`;
        const key = `during-${index}`;
        try {
          await cluster.client(node).put(key, `d${index}`, { w: 2 });
          acknowledged.set(key, `d${index}`);
        } catch {
          failures += 1;
        }
      }
    })();

    await cluster.addNode("n4", "n1");
    // Staged on n1, the join reaches the other members with the heartbeat's gossip.
    await eventually(async () => {
      for (const node of ["n1", "n2", "n3"]) {
        const { staged } = await metadataOf(node);
        if (!staged.changes.some((change) => change.kind === "join" && change.node === "n4")) {
          return false;
        }
      }
      return true;
    }, 20_000);

    const plan = await unary<{ plan_json: string; based_on: number; revision: number }>(
      (callback) => membership("n2").Plan({}, { deadline: Date.now() + 5000 }, callback),
    );
    const report = JSON.parse(plan.plan_json) as {
      plan: { moves: { gaining: string[] }[]; ownership: { node: string; after: number }[] };
    };
    const gained = report.plan.moves.filter((move) => move.gaining.includes("n4")).length;
    expect(gained).toBeGreaterThan(0);
    expect(report.plan.ownership.find((row) => row.node === "n4")?.after).toBe(4);

    await unary((callback) =>
      membership("n2").Commit(
        { based_on: plan.based_on, revision: plan.revision },
        { deadline: Date.now() + 5000 },
        callback,
      ),
    );
    // The change spreads by gossip, the data by anti-entropy; then every node retires it.
    await eventually(async () => {
      for (const node of ["n1", "n2", "n3", "n4"]) {
        const { layout } = await metadataOf(node);
        const n4 = layout.members.find((member) => member.node === "n4");
        if (layout.previousOwners !== undefined || n4?.state !== "valid") return false;
      }
      return true;
    }, 90_000);
    writing = false;
    await writer;
    expect(acknowledged.size).toBeGreaterThan(150);

    // Every acknowledged write reads back through the new node, at the default r=2.
    const newcomer = cluster.client("n4");
    for (const [key, value] of acknowledged) {
      const read = await newcomer.get(key);
      expect(
        read.siblings.map((sibling) => sibling.value.toString()),
        key,
      ).toContain(value);
    }
    // And the new node holds its own copy of every key it is now a primary of.
    const { layout } = await metadataOf("n4");
    const { current } = ringsOf(layout);
    let owned = 0;
    for (const [key, value] of acknowledged) {
      const partition = partitionOfKey("default", Buffer.from(key), current.partitionCount);
      const { primaries } = preferenceList(current, new Set(current.nodes), partition, 3);
      if (!primaries.includes("n4" as never)) continue;
      owned += 1;
      const local = await newcomer.localGet(key);
      expect(
        local.siblings.map((sibling) => sibling.value.toString()),
        key,
      ).toContain(value);
    }
    expect(owned).toBeGreaterThan(0);
    // Writes may fail while the new node's peers learn of it, never silently.
    expect(failures).toBeLessThan(acknowledged.size);
  }, 180_000);
});
