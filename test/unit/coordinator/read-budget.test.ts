// Goal: a get coordinated by a node holding a copy holds that copy's stored size against its
// call's budget before reading it, so a refused get reads nothing (a burst of never-read gets of
// an 8 MiB object otherwise read a copy each before any was refused), and an admitted get holds
// the copy once, not once as an estimate and again once read.
// Method: a Coordinator whose own replica (memory storage) holds a large object, a transport
// that counts local reads and answers the other replicas "same", and a budget that records holds.

import { describe, expect, it } from "vitest";
import {
  ownGet,
  type OwnCopy,
  type ReplicaTransport,
  type TransportWriteReply,
} from "../../../coordinator/replica-transport.js";
import type { ReadReply } from "../../../coordinator/core/get-quorum.js";
import type { DvvSet } from "../../../node/core/dvv.js";
import type { NodeId } from "../../../node/core/node-id.js";
import { encodeObject } from "../../../node/core/object-codec.js";
import { objectSize } from "../../../node/core/object-limit.js";
import { Replica } from "../../../node/replica.js";
import { MemoryStorage } from "../../../node/storage/memory-storage.js";
import type { BudgetVerdict } from "../../../node/wire/call-budget.js";
import { utf8, written } from "../node/core/dvv-test-helpers.js";
import { coordinatorOver } from "./coordinator-test-helpers.js";

const key = utf8("big");

/** n1 reads its own replica; the others hold the same version. */
class OwnReadsTransport implements ReplicaTransport {
  localReads = 0;
  constructor(readonly replica: Replica) {}

  async get(
    node: NodeId,
    bucket: string,
    k: Uint8Array,
    _deadlineMs: number,
    own?: OwnCopy,
  ): Promise<ReadReply<DvvSet>> {
    if (node !== "n1") return { ok: true, object: own?.object };
    this.localReads += 1;
    return ownGet(this.replica, bucket, k);
  }

  put(): Promise<TransportWriteReply> {
    return Promise.resolve({ ok: true, durable: false });
  }
}

async function setUp(): Promise<{ transport: OwnReadsTransport; object: DvvSet }> {
  const storage = new MemoryStorage();
  await storage.open();
  const object = written("n1.x", "v".repeat(1024 * 1024));
  await storage.put("b", key, encodeObject(object), { durable: true });
  return { transport: new OwnReadsTransport(new Replica(storage, "n1.test")), object };
}

/** A budget of `limit` bytes that records every hold. */
function budget(limit: number): { holds: number[]; hold: (bytes: number) => BudgetVerdict } {
  const holds: number[] = [];
  let held = 0;
  return {
    holds,
    hold: (bytes) => {
      if (held + bytes > limit) return { ok: false, message: `overloaded: ${bytes} over budget` };
      held += bytes;
      holds.push(bytes);
      return { ok: true };
    },
  };
}

const command = {
  bucket: "b",
  key,
  quorum: { n: 3, r: 2, w: 2, dw: 1, pr: 0, pw: 0 },
  deadlineMs: Date.now() + 60_000,
  sloppy: true,
};

describe("a get's budget", () => {
  it("refuses before reading when the stored copy does not fit", async () => {
    const { transport } = await setUp();
    const coordinator = await coordinatorOver(transport, { replica: transport.replica });
    const small = budget(64 * 1024);
    await expect(coordinator.get({ ...command, holdBytes: small.hold })).rejects.toMatchObject({
      code: "overloaded",
      message: expect.stringMatching(/over budget/),
    });
    expect(transport.localReads).toBe(0);
    expect(small.holds).toEqual([]);
  });

  it("holds an admitted copy once: its stored size, before the read", async () => {
    const { transport, object } = await setUp();
    const coordinator = await coordinatorOver(transport, { replica: transport.replica });
    const large = budget(16 * 1024 * 1024);
    const result = await coordinator.get({ ...command, holdBytes: large.hold });
    expect(result).toEqual(object);
    expect(transport.localReads).toBe(1);
    const stored = transport.replica.storedBytes("b", key) ?? 0;
    expect(stored).toBeGreaterThanOrEqual(objectSize(object).bytes);
    expect(large.holds).toEqual([stored]);
  });
});
