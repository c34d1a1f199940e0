// Goal: the replica tells its listeners of every stored change with the key string it built for
// the operation (storageKeyString), so listeners never build their own; and it tells them
// nothing when a merge brings nothing new or a conditional remove finds the copy changed. A digest
// read answers "same" only for the stored version. A checked merge over the key's limits stores
// nothing; a retraction takes one write back for good.
// Method: a Replica over memory storage with recording listeners.

import { describe, expect, it } from "vitest";
import { Replica } from "../../../node/replica.js";
import { MemoryStorage } from "../../../node/storage/memory-storage.js";
import { storageKeyString } from "../../../node/storage/storage-key.js";
import { EMPTY_CONTEXT } from "../../../node/core/causal-context.js";
import { EMPTY_DVV_SET, update, type DvvSet } from "../../../node/core/dvv.js";
import { versionDigest } from "../../../node/core/version-digest.js";
import { decodeObject } from "../../../node/core/object-decode.js";
import { limitCheck } from "../../../node/core/object-limit.js";
import { textVersion as version, utf8 as bytes } from "./core/dvv-test-helpers.js";

const accept = { durable: false, check: () => undefined } as const;

async function recordingReplica(): Promise<{
  replica: Replica;
  events: { kind: string; id: string; before: DvvSet | undefined; after?: DvvSet }[];
}> {
  const storage = new MemoryStorage();
  await storage.open();
  const replica = new Replica(storage, "n1.test");
  const events: { kind: string; id: string; before: DvvSet | undefined; after?: DvvSet }[] = [];
  replica.onWrite((_bucket, _key, before, after, id) =>
    events.push({ kind: "write", id, before, after }),
  );
  replica.onRemove((_bucket, _key, before, id) => events.push({ kind: "remove", id, before }));
  return { replica, events };
}

describe("Replica listeners", () => {
  it("get the operation's key string on coordinate, merge and remove", async () => {
    const { replica, events } = await recordingReplica();
    const key = bytes("k\u0000\u00ff");
    const id = storageKeyString("b", key);

    const first = await replica.coordinate("b", key, EMPTY_CONTEXT, version("v1"), accept);
    const remote = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "n2.test", version("v2")).object;
    const merged = await replica.merge("b", key, remote, { durable: false });
    expect(await replica.removeIfUnchanged("b", key, merged.object)).toBe(true);

    expect(events.map((event) => [event.kind, event.id])).toEqual([
      ["write", id],
      ["write", id],
      ["remove", id],
    ]);
    expect(events[0]!.before).toBeUndefined();
    expect(events[0]!.after).toEqual(first.object);
    expect(events[1]!.before).toEqual(first.object);
    expect(events[1]!.after!.siblings).toHaveLength(2);
    expect(events[2]!.before).toEqual(merged.object);
  });

  it("stay silent when a merge brings nothing new or a remove finds the copy changed", async () => {
    const { replica, events } = await recordingReplica();
    const key = bytes("k");
    const first = await replica.coordinate("b", key, EMPTY_CONTEXT, version("v1"), accept);
    await replica.merge("b", key, first.object, { durable: false });
    await replica.coordinate("b", key, first.object.context, version("v2"), accept);
    expect(await replica.removeIfUnchanged("b", key, first.object)).toBe(false);
    expect(events.map((event) => event.kind)).toEqual(["write", "write"]);
  });
});

describe("Replica.getUnlessSame (digest reads)", () => {
  it("answers same for the stored version, else the stored object or nothing", async () => {
    const { replica } = await recordingReplica();
    const key = bytes("k");
    const first = await replica.coordinate("b", key, EMPTY_CONTEXT, version("v1"), accept);
    const digest = versionDigest("b", key, first.object);
    expect(await replica.getUnlessSame("b", key, digest)).toEqual({ same: true });

    // A newer version stored here: the caller's digest is stale, so the object comes back.
    const second = await replica.coordinate("b", key, EMPTY_CONTEXT, version("v2"), accept);
    const stale = await replica.getUnlessSame("b", key, digest);
    expect(stale.same).toBe(false);
    expect(!stale.same && stale.encoded !== undefined && decodeObject(stale.encoded)).toEqual({
      ok: true,
      object: second.object,
    });
    // A key stored nowhere here.
    expect(await replica.getUnlessSame("b", bytes("absent"), digest)).toEqual({ same: false });
    // A digest of the wrong length is the caller's mistake, named as such.
    await expect(replica.getUnlessSame("b", key, digest.subarray(0, 3))).rejects.toMatchObject({
      code: "invalid-argument",
      message: "digest must be 8 bytes, got 3",
    });
  });
});

describe("Replica limits and retraction", () => {
  const limits = { siblingsMax: 2, objectBytesMax: 1024 };
  const blind = (actor: string, text: string): DvvSet =>
    update(EMPTY_DVV_SET, EMPTY_CONTEXT, actor, version(text)).object;

  it("refuses a checked merge over the limit and stores nothing; an unchecked one stores", async () => {
    const { replica, events } = await recordingReplica();
    const key = bytes("k");
    const check = limitCheck(limits, "n1");
    await replica.merge("b", key, blind("n2.t", "a"), { durable: false, check });
    await replica.merge("b", key, blind("n3.t", "b"), { durable: false, check });
    const third = replica.merge("b", key, blind("n4.t", "c"), { durable: false, check });
    await expect(third).rejects.toMatchObject({
      code: "too-large",
      message:
        "too many siblings: 3 exceeds 2 at n1; resolve them by writing with the context of a get",
    });
    expect((await replica.get("b", key))?.siblings).toHaveLength(2);
    expect(events).toHaveLength(2);
    // A copy it holds already is no change; within the limits it is acknowledged.
    await replica.merge("b", key, blind("n3.t", "b"), { durable: false, check });
    // Read repair, anti-entropy and handoff pass no check: they may carry acknowledged writes.
    await replica.merge("b", key, blind("n4.t", "c"), { durable: false });
    expect((await replica.get("b", key))?.siblings).toHaveLength(3);
    // Over the limits now, even a write it already holds is refused: its ack would count.
    const held = replica.merge("b", key, blind("n4.t", "c"), { durable: false, check });
    await expect(held).rejects.toThrow(/^too many siblings: 3 exceeds 2 at n1/);
  });

  it("refuses a checked merge over the object bytes", async () => {
    const { replica } = await recordingReplica();
    const big = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "n2.t", {
      ...version(""),
      value: new Uint8Array(1100),
    }).object;
    const merge = replica.merge("b", bytes("k"), big, {
      durable: false,
      check: limitCheck(limits, "n1"),
    });
    await expect(merge).rejects.toThrow(
      /^object too large: 11\d\d bytes over 1 siblings exceeds 1024 at n1/,
    );
    expect(await replica.get("b", bytes("k"))).toBeUndefined();
  });

  it("retracts one write from its copy, and the retraction wins over a copy still holding it", async () => {
    const { replica } = await recordingReplica();
    const key = bytes("k");
    const mine = await replica.coordinate("b", key, EMPTY_CONTEXT, version("refused"), accept);
    const other = blind("n2.t", "kept");
    await replica.merge("b", key, other, { durable: false });
    const retracted = await replica.retract("b", key, mine.dot, { durable: true });
    expect(retracted?.siblings.map((s) => s.dot.actor)).toEqual(["n2.t"]);
    // A read repair bringing the refused write back from another replica's copy.
    await replica.merge("b", key, mine.object, { durable: false });
    expect((await replica.get("b", key))?.siblings.map((s) => s.dot.actor)).toEqual(["n2.t"]);
    expect(
      await replica.retract("b", bytes("absent"), mine.dot, { durable: false }),
    ).toBeUndefined();
  });
});

describe("Replica counters after a removed copy", () => {
  const tombstone = { ...version(""), deleted: true };

  /** Writes `count` updates through the replica, each with the context of the last. */
  async function updates(replica: Replica, key: Uint8Array, count: number): Promise<DvvSet> {
    let object: DvvSet | undefined = await replica.get("b", key);
    for (let index = 0; index < count; index++) {
      const context = object?.context ?? EMPTY_CONTEXT;
      object = (await replica.coordinate("b", key, context, version(`v${index}`), accept)).object;
    }
    if (object === undefined) throw new Error("no write");
    return object;
  }

  it("go on in the version vector after a reap: a re-created key's context does not grow", async () => {
    const { replica } = await recordingReplica();
    const key = bytes("recreated");
    const written = await updates(replica, key, 3);
    const deleted = await replica.coordinate("b", key, written.context, tombstone, accept);
    expect(await replica.reapIfUnchanged("b", key, deleted.object, 0)).toBe(true);
    const again = await updates(replica, key, 20);
    // Dots 1..4 were given before the reap (3 writes and the tombstone): never again.
    expect(again.context.vv.get("n1.test")).toBe(24);
    expect(again.context.cloud).toEqual([]);
  });

  it("stay above a handed-off copy's floor, which the new write does not claim", async () => {
    const { replica } = await recordingReplica();
    const key = bytes("handed-off");
    const written = await updates(replica, key, 3);
    expect(await replica.removeIfUnchanged("b", key, written)).toBe(true);
    const again = await replica.coordinate("b", key, EMPTY_CONTEXT, version("new"), accept);
    // The copies handed off may be live and concurrent with this write: (n1.test, 1..3) stay
    // uncovered, and the new dot is above them.
    expect(again.dot.counter).toBe(4);
    expect(again.object.context.vv.get("n1.test")).toBeUndefined();
  });
});

describe("Replica limit checks on a key already over its limit", () => {
  it("accept a write that resolves siblings without growing, and refuse one that grows", async () => {
    const { replica } = await recordingReplica();
    const key = bytes("over");
    const limits = { siblingsMax: 2, objectBytesMax: 1024 * 1024 };
    const check = limitCheck(limits, "n1");
    // Three siblings, as convergence merges (never checked) can leave.
    for (const actor of ["n2.t", "n3.t", "n4.t"]) {
      const blindWrite = update(EMPTY_DVV_SET, EMPTY_CONTEXT, actor, version(actor)).object;
      await replica.merge("b", key, blindWrite, { durable: false });
    }
    const stored = await replica.get("b", key);
    // A client resolving one of them: one out, one in, still three.
    const one = stored!.siblings[0]!;
    const resolved = update(
      EMPTY_DVV_SET,
      { vv: new Map([[one.dot.actor, one.dot.counter]]), cloud: [] },
      "n5.t",
      version("resolved"),
    ).object;
    await replica.merge("b", key, resolved, { durable: false, check });
    expect((await replica.get("b", key))?.siblings).toHaveLength(3);
    const growing = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "n6.t", version("more")).object;
    await expect(replica.merge("b", key, growing, { durable: false, check })).rejects.toThrow(
      /^too many siblings: 4 exceeds 2 at n1/,
    );
  });
});
