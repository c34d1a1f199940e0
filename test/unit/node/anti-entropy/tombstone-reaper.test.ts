// Goal: the replica side of coordinated reaping. A Reap check says which copies equal the
// expected tombstones; a Reap removes only unchanged copies; live values and malformed objects
// are refused; the index counts tombstone-only keys; and for the guard period a reaped key
// ignores stale copies still in flight but takes newer writes.
// Method: a Replica over memory storage with a ManualClock, and the reaper's answer().

import { afterEach, describe, expect, it } from "vitest";
import { MemoryStorage } from "../../../../node/storage/memory-storage.js";
import { Replica } from "../../../../node/replica.js";
import { ClusterView } from "../../../../node/cluster-view.js";
import { silentLogger } from "../../../../node/logger.js";
import { nodeId } from "../../../../node/core/node-id.js";
import { EMPTY_CONTEXT, type CausalContext } from "../../../../node/core/causal-context.js";
import { join, type DvvSet } from "../../../../node/core/dvv.js";
import { encodeObject } from "../../../../node/core/object-codec.js";
import {
  DEFAULT_REAP_OPTIONS,
  TombstoneReaper,
} from "../../../../node/anti-entropy/tombstone-reaper.js";
import { AaeStats } from "../../../../node/anti-entropy/aae-stats.js";
import { ManualClock } from "../manual-clock.js";

const encoder = new TextEncoder();
const views: ClusterView[] = [];

afterEach(() => {
  for (const view of views.splice(0)) view.close();
});

async function setup(actor = "n1.t") {
  const clock = new ManualClock();
  const storage = new MemoryStorage();
  await storage.open();
  const replica = new Replica(storage, actor, undefined, { clock });
  const view = new ClusterView({
    self: nodeId("n1"),
    members: [{ node: nodeId("n1"), address: "127.0.0.1:1" }],
    partitionCount: 8,
    targetN: 1,
    messageBytesMax: 1 << 20,
    clock,
  });
  views.push(view);
  const stats = new AaeStats();
  const reaper = new TombstoneReaper({
    view,
    replica,
    primariesOf: () => [nodeId("n1")],
    hints: { targets: () => [], totals: () => ({ count: 0, bytes: 0 }) },
    counters: stats.counters,
    logger: silentLogger(),
    options: { ...DEFAULT_REAP_OPTIONS, guardMs: 60_000 },
  });
  replica.onWrite((bucket, key, _before, after) => reaper.observe(bucket, key, after));
  replica.onRemove((bucket, key) => reaper.observe(bucket, key, undefined));
  const write = async (key: string, value: string, context: CausalContext, deleted = false) =>
    (
      await replica.coordinate(
        "b",
        encoder.encode(key),
        context,
        { value: encoder.encode(value), contentType: "", metadata: {}, lastModifiedMs: 5, deleted },
        { durable: false, check: () => undefined },
      )
    ).object;
  return { clock, replica, reaper, stats, write };
}

function reapKey(key: string, object: DvvSet) {
  return { bucket: "b", key: encoder.encode(key), object: encodeObject(object) };
}

describe("TombstoneReaper.answer and the replica's reap guard", () => {
  it("checks, then removes only copies that still equal the expected tombstone", async () => {
    const { replica, reaper, stats, write } = await setup();
    const liveA = await write("a", "x", EMPTY_CONTEXT);
    const deadA = await write("a", "", join(liveA), true);
    const liveB = await write("b", "y", EMPTY_CONTEXT);
    const deadB = await write("b", "", join(liveB), true);
    expect(reaper.count).toBe(2);

    const check = await reaper.answer({
      remove: false,
      keys: [reapKey("a", deadA), reapKey("b", deadB)],
    });
    expect(check.equal).toEqual([true, true]);
    expect(await replica.get("b", encoder.encode("a"))).toBeDefined();

    // b changes between the check and the reap: a write concurrent with its delete.
    await write("b", "z", EMPTY_CONTEXT);
    expect(reaper.count).toBe(1);
    const reap = await reaper.answer({
      remove: true,
      keys: [reapKey("a", deadA), reapKey("b", deadB)],
    });
    expect(reap.equal).toEqual([true, false]);
    expect(await replica.get("b", encoder.encode("a"))).toBeUndefined();
    expect(await replica.get("b", encoder.encode("b"))).toBeDefined();
    expect(stats.counters.tombstonesReaped).toBe(1);
    expect(reaper.count).toBe(0);
  });

  it("refuses to reap a live value, a malformed object or too many keys", async () => {
    const { reaper, write } = await setup();
    const live = await write("a", "x", EMPTY_CONTEXT);
    await expect(reaper.answer({ remove: true, keys: [reapKey("a", live)] })).rejects.toThrow(
      /reap: object 0 holds a live value/,
    );
    await expect(
      reaper.answer({
        remove: true,
        keys: [{ bucket: "b", key: encoder.encode("a"), object: new Uint8Array([9, 9]) }],
      }),
    ).rejects.toThrow(/reap: object 0 is malformed/);
    const many = Array.from({ length: 257 }, () => reapKey("a", live));
    await expect(reaper.answer({ remove: false, keys: many })).rejects.toThrow(
      /257 keys in one message, at most 256/,
    );
  });

  it("ignores a stale copy of a reaped key during the guard, but takes a newer write", async () => {
    const { clock, replica, write } = await setup();
    const live = await write("k", "old", EMPTY_CONTEXT);
    const dead = await write("k", "", join(live), true);
    expect(await replica.reapIfUnchanged("b", encoder.encode("k"), dead, 60_000)).toBe(true);

    // The old live copy arrives late (a replica write or repair still in flight): ignored.
    await replica.merge("b", encoder.encode("k"), live, { durable: false });
    expect(await replica.get("b", encoder.encode("k"))).toBeUndefined();
    // So is the tombstone itself, copied back by a peer that has not reaped yet.
    await replica.merge("b", encoder.encode("k"), dead, { durable: false });
    expect(await replica.get("b", encoder.encode("k"))).toBeUndefined();

    // A write the tombstone does not cover is new: it is kept.
    const other = await setup("n2.t");
    const fresh = await other.write("k", "new", EMPTY_CONTEXT);
    await replica.merge("b", encoder.encode("k"), fresh, { durable: false });
    expect((await replica.get("b", encoder.encode("k")))?.siblings).toHaveLength(1);

    // After the guard, a copy is merged like any other.
    const again = await setup("n3.t");
    const oldAgain = await again.write("j", "old", EMPTY_CONTEXT);
    const deadAgain = await again.write("j", "", join(oldAgain), true);
    expect(
      await replica.merge("b", encoder.encode("j"), deadAgain, { durable: false }),
    ).toBeDefined();
    expect(await replica.reapIfUnchanged("b", encoder.encode("j"), deadAgain, 60_000)).toBe(true);
    await clock.advance(60_001);
    await replica.merge("b", encoder.encode("j"), oldAgain, { durable: false });
    expect(await replica.get("b", encoder.encode("j"))).toBeDefined();
  });
});
