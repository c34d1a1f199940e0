// Goal: the walking skeleton's promises on real processes — replication at w, siblings and
// their resolution, quorum failure with a node stopped, and read repair.
// Method: three `dkv serve` processes (n=3, so every node is a primary of every key), driven
// through the TypeScript client; each node's own copy is read with Admin.LocalGet.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { TestCluster } from "./local-cluster-harness.js";
import { claimRing } from "../../node/core/ring.js";
import { nodeId } from "../../node/core/node-id.js";
import { partitionOfKey } from "../../node/core/key-hash.js";
import { preferenceList } from "../../coordinator/core/preference-list.js";

let cluster: TestCluster;

beforeAll(async () => {
  // Anti-entropy off: the read-repair test below checks that a restarted node lacks a write
  // until a read repairs it, and an exchange at the node's start could repair it first.
  cluster = await TestCluster.start({
    nodes: 3,
    storage: "log",
    serveArgs: ["--no-anti-entropy"],
  });
});

afterAll(async () => {
  await cluster?.stop();
});

async function localValues(node: string, key: string): Promise<string[]> {
  const reply = await cluster.client(node).localGet(key);
  return reply.siblings.map((sibling) => Buffer.from(sibling.value).toString("utf8")).sort();
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const giveUpAtMs = Date.now() + timeoutMs;
  while (Date.now() < giveUpAtMs) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

describe("a 3-node cluster", () => {
  it("stores a put at w=3 on every replica before answering", async () => {
    await cluster.client("n1").put("w3-key", "v1", { w: 3 });
    for (const node of ["n1", "n2", "n3"]) {
      expect(await localValues(node, "w3-key")).toEqual(["v1"]);
    }
  });

  it("keeps concurrent puts as siblings and resolves them with the context of a get", async () => {
    await cluster.client("n1").put("cart:42", '{"items":[1]}', { w: 3 });
    await cluster.client("n2").put("cart:42", '{"items":[2]}', { w: 3 });
    const read = await cluster.client("n3").get("cart:42");
    const values = read.siblings.map((sibling) => sibling.value.toString()).sort();
    expect(values).toEqual(['{"items":[1]}', '{"items":[2]}']);
    expect(new Set(read.siblings.map((sibling) => sibling.vtag)).size).toBe(2);

    await cluster.client("n3").put("cart:42", '{"items":[1,2]}', { context: read.context, w: 3 });
    const resolved = await cluster.client("n2").get("cart:42", { r: 3 });
    expect(resolved.siblings.map((sibling) => sibling.value.toString())).toEqual([
      '{"items":[1,2]}',
    ]);
  });

  it("deletes with a context: later gets say not found", async () => {
    await cluster.client("n1").put("to-delete", "x", { w: 3 });
    const read = await cluster.client("n2").get("to-delete");
    await cluster.client("n3").delete("to-delete", { context: read.context, w: 3 });
    const after = await cluster.client("n1").get("to-delete", { r: 3 });
    expect(after.siblings).toEqual([]);
    expect(after.context.length).toBeGreaterThan(0);
  });

  it("with one node stopped, succeeds at w=2/r=2, fails at w=3 naming acks, and read-repairs the node once back", async () => {
    await cluster.stopNode("n3");
    try {
      const written = await cluster
        .client("n1")
        .put("while-down", "written-with-n3-down", { w: 2 });
      expect(written.vtag).not.toBe("");
      const read = await cluster.client("n2").get("while-down", { r: 2 });
      expect(read.siblings.map((sibling) => sibling.value.toString())).toEqual([
        "written-with-n3-down",
      ]);

      const failed = await cluster
        .client("n1")
        .put("w3-fails", "x", { w: 3 })
        .then(
          () => undefined,
          (error: { code: number; details: string }) => error,
        );
      expect(failed?.code).toBe(status.UNAVAILABLE);
      // Before the failure detector marks n3 down the write fails as soon as 3 acks became
      // impossible (at 1 or 2 acks); after, it is refused up front with 2 of 3 reachable.
      expect(failed?.details).toMatch(
        /^write quorum unreachable: ([12]\/3 acks \(n=3, pw=0\)|only 2 of 3 replicas reachable \(2 primaries\), need w=3)$/,
      );
    } finally {
      await cluster.startNode("n3");
    }
    expect(await localValues("n3", "while-down")).toEqual([]);
    // Let n1's channel to n3 reconnect first, so the one get below reaches all three.
    const n1SeesN3 = await eventually(async () => {
      const view = await cluster.client("n1").status();
      return view.members.find((member) => member.node_id === "n3")?.up === true;
    }, 5000);
    expect(n1SeesN3).toBe(true);
    await cluster.client("n1").get("while-down", { r: 2 });
    const repaired = await eventually(
      async () => (await localValues("n3", "while-down")).length === 1,
      5000,
    );
    expect(repaired).toBe(true);
    expect(await localValues("n3", "while-down")).toEqual(["written-with-n3-down"]);
  });
});

describe("coordination", () => {
  it("forwards a write to a primary when the node asked is not one", async () => {
    const ring = claimRing({
      nodes: ["n1", "n2", "n3"].map(nodeId),
      partitionCount: 64,
      targetN: 3,
    });
    // With n=2 each key has two primaries; find one whose primaries exclude n3.
    let key = "";
    for (let index = 0; index < 1000 && key === ""; index++) {
      const candidate = `forward-${index}`;
      const partition = partitionOfKey("default", Buffer.from(candidate), 64);
      const list = preferenceList(ring, new Set(ring.nodes), partition, 2);
      if (!list.primaries.includes(nodeId("n3"))) key = candidate;
    }
    expect(key).not.toBe("");
    const reply = await cluster
      .client("n3")
      .put(key, "forwarded", { n: 2, w: 2, returnBody: true });
    expect(reply.siblings.map((sibling) => sibling.value.toString())).toEqual(["forwarded"]);
    expect(await localValues("n3", key)).toEqual([]);
    expect(await localValues("n1", key)).toEqual(["forwarded"]);
    expect(await localValues("n2", key)).toEqual(["forwarded"]);
    const read = await cluster.client("n3").get(key, { n: 2, r: 2 });
    expect(read.siblings.map((sibling) => sibling.value.toString())).toEqual(["forwarded"]);
  });

  it("refuses if_none_match when the key has a value, with FAILED_PRECONDITION", async () => {
    await cluster.client("n1").put("exists", "v", { ifNoneMatch: true });
    const error = await cluster
      .client("n2")
      .put("exists", "again", { ifNoneMatch: true })
      .then(
        () => undefined,
        (failure: { code: number; details: string }) => failure,
      );
    expect(error?.code).toBe(status.FAILED_PRECONDITION);
    expect(error?.details).toMatch(/if_none_match failed: the key already has a value/);
  });
});
