// Goal: the Replica service's put takes no write on a node its own layout lists as removed (a
// coordinator with an older layout may still send there, and a copy kept on a removed node is
// out of every reaping round's reach: simulation seed 14641), and a member takes the same write.
// Method: replicaCalls over a real Replica and HintStore on memory storage, with a view whose
// "removed" answer each case sets.

import { describe, expect, it } from "vitest";
import { replicaCalls, type ReplicaServiceView } from "../../../node/replica-server.js";
import { Replica } from "../../../node/replica.js";
import { HintStore } from "../../../node/hints/hint-store.js";
import { MemoryStorage } from "../../../node/storage/memory-storage.js";
import { encodeObject } from "../../../node/core/object-codec.js";
import { EMPTY_DVV_SET, update } from "../../../node/core/dvv.js";
import { EMPTY_CONTEXT } from "../../../node/core/causal-context.js";
import { nodeId } from "../../../node/core/node-id.js";
import { ReplicaPutReason } from "../../../proto/generated/dkv/v1/ReplicaPutReason.js";

async function node(removed: boolean) {
  const storage = new MemoryStorage();
  await storage.open();
  const replica = new Replica(storage, "n1.test");
  const hints = new HintStore(new MemoryStorage(), { bytesMaxPerTarget: 1 << 20 });
  await hints.open();
  const view: ReplicaServiceView = {
    self: nodeId("n1"),
    isMember: () => true,
    isSelfRemoved: () => removed,
  };
  return { replica, hints, calls: replicaCalls(replica, view, hints) };
}

function request(hintFor: string) {
  const version = {
    value: Buffer.from("v"),
    contentType: "",
    metadata: {},
    lastModifiedMs: 1,
    deleted: false,
  };
  const { object } = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "n2.test", version, 0);
  return {
    bucket: "b",
    key: Buffer.from("k"),
    object: Buffer.from(encodeObject(object)),
    durable: true,
    reason: ReplicaPutReason.REPLICA_PUT_REASON_WRITE,
    hint_for: hintFor,
  };
}

describe("Replica service put on a removed node", () => {
  it.each([
    ["a replica write", ""],
    ["a hinted copy", "n3"],
  ])("refuses %s, unavailable, and stores nothing", async (_what, hintFor) => {
    const { replica, hints, calls } = await node(true);
    await expect(calls.put(request(hintFor))).rejects.toMatchObject({
      code: "unavailable",
      message: "node n1 was removed from the cluster",
    });
    expect(await replica.get("b", Buffer.from("k"))).toBeUndefined();
    expect(hints.totals(nodeId("n3")).count).toBe(0);
  });

  it("takes the same hinted copy on a member, with its hint", async () => {
    const { replica, hints, calls } = await node(false);
    await calls.put(request("n3"));
    expect(await replica.get("b", Buffer.from("k"))).toBeDefined();
    expect(hints.totals(nodeId("n3")).count).toBe(1);
  });
});
