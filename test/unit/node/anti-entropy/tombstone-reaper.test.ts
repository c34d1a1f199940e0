// Goal: coordinated reaping. A round reaps a tombstone only after its grace, only when every
// primary holds the very same one and has held it for a write's life, and never while any member is down or cut off or any node
// holds (or may hold) hints; all its time comes from the injected clock. On the replica side, a
// Reap check says which copies equal the expected tombstones, a Reap removes only unchanged
// copies, live values and malformed objects are refused, and for the guard period a reaped key
// ignores stale copies still in flight but takes newer writes.
// Method: three nodes in one process, each a Replica over memory storage and a TombstoneReaper,
// joined by an in-process ReapPort that records every call, on one ManualClock.

import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../../../../node/storage/memory-storage.js";
import { Replica } from "../../../../node/replica.js";
import { silentLogger } from "../../../../node/logger.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { EMPTY_CONTEXT, type CausalContext } from "../../../../node/core/causal-context.js";
import { join, type DvvSet } from "../../../../node/core/dvv.js";
import { encodeObject } from "../../../../node/core/object-codec.js";
import {
  DEFAULT_REAP_OPTIONS,
  TombstoneReaper,
  type ReapPort,
} from "../../../../node/anti-entropy/tombstone-reaper.js";
import { AaeStats } from "../../../../node/anti-entropy/aae-stats.js";
import { ManualClock } from "../manual-clock.js";

const encoder = new TextEncoder();
const GRACE_MS = 3_000;

/** One node of the test cluster; `up`, `dropped` and `hints` are what it believes and holds. */
interface TestNode {
  readonly self: NodeId;
  readonly replica: Replica;
  readonly reaper: TombstoneReaper;
  readonly stats: AaeStats;
  readonly up: Set<NodeId>;
  dropped: NodeId[];
  hints: number;
}

interface Call {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly what: "hints" | "check" | "remove";
  readonly deadlineMs: number;
  /** The keys of a check or remove, as sent. */
  readonly keys?: readonly Uint8Array[];
}

/**
 * Nodes n1..n<count>; every partition's primaries are the first `n` of them. A node in
 * `silent` answers no call.
 */
async function cluster(options: { count?: number; n?: number; heldMsMin?: number } = {}) {
  const count = options.count ?? 3;
  const names = Array.from({ length: count }, (_, index) => nodeId(`n${index + 1}`));
  const primaries = names.slice(0, options.n ?? count);
  const clock = new ManualClock();
  const calls: Call[] = [];
  const silent = new Set<NodeId>();
  const nodes = new Map<NodeId, TestNode>();
  const portOf = (from: NodeId): ReapPort => ({
    async standing(node, deadlineMs) {
      calls.push({ from, to: node, what: "hints", deadlineMs });
      if (silent.has(node)) throw new Error(`${node} does not answer`);
      return { hintsPending: nodes.get(node)!.hints, layoutVersion: 1 };
    },
    async reap(peer, request, deadlineMs) {
      const what = request.remove ? "remove" : "check";
      calls.push({ from, to: peer, what, deadlineMs, keys: request.keys.map((key) => key.key) });
      if (silent.has(peer)) throw new Error(`${peer} does not answer`);
      return (await nodes.get(peer)!.reaper.answer(request)).equal;
    },
  });
  for (const self of names) {
    const storage = new MemoryStorage();
    await storage.open();
    const replica = new Replica(storage, `${self}.t`, undefined, { clock });
    const stats = new AaeStats();
    const node: TestNode = {
      self,
      replica,
      stats,
      up: new Set(names),
      dropped: [],
      hints: 0,
      reaper: new TombstoneReaper({
        view: {
          self,
          ring: { nodes: names, partitionCount: 8 },
          upNodes: () => node.up,
          droppedPeers: () => node.dropped,
        },
        replica,
        primariesOf: () => primaries,
        hints: {
          targets: () => (node.hints > 0 ? [nodeId("elsewhere")] : []),
          totals: () => ({ count: node.hints, bytes: node.hints }),
        },
        port: portOf(self),
        clock,
        counters: stats.counters,
        logger: silentLogger(),
        options: {
          ...DEFAULT_REAP_OPTIONS,
          graceMs: GRACE_MS,
          guardMs: 60_000,
          heldMsMin: options.heldMsMin ?? 0,
        },
      }),
    };
    replica.onWrite((bucket, key, _before, after) => node.reaper.observe(bucket, key, after));
    replica.onRemove((bucket, key) => node.reaper.observe(bucket, key, undefined));
    nodes.set(self, node);
  }
  const at = (name: string): TestNode => nodes.get(nodeId(name))!;
  /** A write coordinated at `name`, stamped with the clock's wall time. */
  const write = async (
    name: string,
    key: string,
    value: string,
    context: CausalContext,
    deleted = false,
  ): Promise<DvvSet> => {
    const version = {
      value: encoder.encode(value),
      contentType: "",
      metadata: {},
      lastModifiedMs: clock.nowMs(),
      deleted,
    };
    const accept = { durable: false, check: () => undefined };
    return (await at(name).replica.coordinate("b", encoder.encode(key), context, version, accept))
      .object;
  };
  /** Writes and deletes `key` at n1 and copies the tombstone to every primary. */
  const deleted = async (key: string): Promise<DvvSet> => {
    const live = await write("n1", key, "x", EMPTY_CONTEXT);
    const dead = await write("n1", key, "", join(live), true);
    for (const node of primaries.slice(1)) {
      await nodes.get(node)!.replica.merge("b", encoder.encode(key), dead, { durable: false });
    }
    return dead;
  };
  const holders = async (key: string): Promise<string[]> => {
    const held: string[] = [];
    for (const [name, node] of nodes) {
      if ((await node.replica.get("b", encoder.encode(key))) !== undefined) held.push(name);
    }
    return held;
  };
  return { clock, calls, silent, at, write, deleted, holders };
}

function reapKey(key: string, object: DvvSet) {
  return { bucket: "b", key: encoder.encode(key), object: encodeObject(object) };
}

describe("TombstoneReaper.round", () => {
  it("reaps a tombstone every primary holds once its grace has passed, on every primary", async () => {
    const { clock, at, deleted, holders } = await cluster();
    await deleted("k");
    expect(await holders("k")).toEqual(["n1", "n2", "n3"]);

    await clock.advance(GRACE_MS - 1);
    expect(await at("n1").reaper.round()).toMatchObject({ candidates: 0, reaped: 0 });
    expect(await holders("k")).toEqual(["n1", "n2", "n3"]);

    await clock.advance(1);
    expect(await at("n1").reaper.round()).toEqual({
      blocked: "",
      candidates: 1,
      reaped: 1,
      declined: 0,
    });
    expect(await holders("k")).toEqual([]);
    expect(at("n1").reaper.count).toBe(0);
  });

  it("waits until its node has held the tombstone a write's life, on the monotonic clock", async () => {
    const heldMsMin = 10_000;
    const { clock, at, write, deleted, holders } = await cluster({ heldMsMin });
    const first = await deleted("k");
    // Past the grace by the wall clock, stepped a day on: it waits still.
    clock.jumpWall(86_400_000);
    await clock.advance(heldMsMin - 1);
    expect((await at("n1").reaper.round()).candidates).toBe(0);
    // The same tombstone merged again is not stored again: the wait goes on.
    await at("n1").replica.merge("b", encoder.encode("k"), first, { durable: false });
    await clock.advance(1);
    expect((await at("n1").reaper.round()).candidates).toBe(1);

    // A newer delete supersedes writes that began after the older one came: it waits anew.
    const again = await write("n1", "k2", "x", EMPTY_CONTEXT);
    const older = await write("n1", "k2", "", join(again), true);
    await clock.advance(heldMsMin - 1);
    const newer = await write("n1", "k2", "", join(older), true);
    for (const node of ["n2", "n3"]) {
      await at(node).replica.merge("b", encoder.encode("k2"), newer, { durable: false });
    }
    await clock.advance(1);
    expect((await at("n1").reaper.round()).candidates).toBe(0);
    await clock.advance(heldMsMin);
    expect((await at("n1").reaper.round()).reaped).toBe(1);
    expect(await holders("k2")).toEqual([]);

    // A concurrent delete stamped no later (clock skew) changes the tombstone all the same.
    const third = await write("n1", "k3", "x", EMPTY_CONTEXT);
    const one = await write("n1", "k3", "", join(third), true);
    const other = await write("n2", "k3", "", join(third), true);
    await clock.advance(heldMsMin - 1);
    await at("n1").replica.merge("b", encoder.encode("k3"), other, { durable: false });
    for (const node of ["n2", "n3"]) {
      await at(node).replica.merge("b", encoder.encode("k3"), one, { durable: false });
    }
    await clock.advance(1);
    expect((await at("n1").reaper.round()).candidates).toBe(0);
  });

  it("waits until every primary has held the tombstone a write's life", async () => {
    const heldMsMin = 10_000;
    const { clock, at, write, holders } = await cluster({ heldMsMin });
    const live = await write("n1", "k", "x", EMPTY_CONTEXT);
    const dead = await write("n1", "k", "", join(live), true);
    await at("n2").replica.merge("b", encoder.encode("k"), dead, { durable: false });
    await clock.advance(heldMsMin / 2);
    // n3 gets it only now (anti-entropy, say): a repair sent to it before may still be on its way.
    await at("n3").replica.merge("b", encoder.encode("k"), dead, { durable: false });
    await clock.advance(heldMsMin / 2);
    expect(await at("n1").reaper.round()).toMatchObject({ candidates: 1, reaped: 0, declined: 1 });
    expect(await holders("k")).toEqual(["n1", "n2", "n3"]);
    await clock.advance(heldMsMin / 2);
    expect(await at("n1").reaper.round()).toMatchObject({ candidates: 1, reaped: 1 });
    expect(await holders("k")).toEqual([]);
  });

  it("holds a copy of a tombstone's key, not a view into the message it came in", async () => {
    const { clock, at, calls, deleted } = await cluster();
    const dead = await deleted("k");
    // A replica put's key is a view into its whole stream message.
    const message = new Uint8Array(1 << 20);
    message.set(encoder.encode("k"), 4096);
    at("n1").reaper.observe("b", message.subarray(4096, 4097), dead);
    message.fill(0);
    await clock.advance(GRACE_MS);
    expect((await at("n1").reaper.round()).reaped).toBe(1);
    const sent = calls.find((call) => call.what === "remove")?.keys?.[0];
    expect(Buffer.from(sent ?? []).toString()).toBe("k");
    expect(sent?.buffer.byteLength).toBeLessThan(1024);
  });

  it("is led by the first primary it believes up, and by no other", async () => {
    const { clock, at, deleted } = await cluster();
    await deleted("k");
    await clock.advance(GRACE_MS);
    expect((await at("n2").reaper.round()).candidates).toBe(0);
    at("n2").up.delete(nodeId("n1"));
    // n2 leads now, but n1 is down: it waits.
    expect(await at("n2").reaper.round()).toMatchObject({ candidates: 1, reaped: 0 });
  });

  it("reaps nothing while any member is down, even one that is no primary of the key", async () => {
    // n = 2: the key lives on n1 and n2; n3 may still hold a fallback copy or a hint of it.
    const { clock, calls, at, deleted, holders } = await cluster({ n: 2 });
    await deleted("k");
    await clock.advance(GRACE_MS);
    at("n1").up.delete(nodeId("n3"));
    expect(await at("n1").reaper.round()).toEqual({
      blocked: "members down: n3",
      candidates: 1,
      reaped: 0,
      declined: 0,
    });
    expect(at("n1").reaper.blocked).toBe("members down: n3");
    expect(calls.filter((call) => call.what !== "hints")).toEqual([]);
    expect(await holders("k")).toEqual(["n1", "n2"]);

    at("n1").up.add(nodeId("n3"));
    expect((await at("n1").reaper.round()).reaped).toBe(1);
    expect(at("n1").reaper.blocked).toBe("");
    expect(await holders("k")).toEqual([]);
  });

  it.each([
    [
      "a member is cut off",
      "traffic dropped to: n3",
      (c: Cluster) => (c.at("n1").dropped = [nodeId("n3")]),
    ],
    [
      "a peer holds hints",
      "2 hints or handed-over partitions pending on n2",
      (c: Cluster) => (c.at("n2").hints = 2),
    ],
    [
      "this node holds hints",
      "1 hints or handed-over partitions pending on n1",
      (c: Cluster) => (c.at("n1").hints = 1),
    ],
    [
      "a peer's hints are unknown",
      "hints pending on n3 unknown (no answer)",
      (c: Cluster) => c.silent.add(nodeId("n3")),
    ],
  ])("reaps nothing while %s", async (_name, reason, fault) => {
    const c = await cluster();
    await c.deleted("k");
    await c.clock.advance(GRACE_MS);
    fault(c);
    expect(await c.at("n1").reaper.round()).toMatchObject({ blocked: reason, reaped: 0 });
    expect(c.calls.filter((call) => call.what !== "hints")).toEqual([]);
    expect(await c.holders("k")).toEqual(["n1", "n2", "n3"]);
  });

  it("keeps a key everywhere when one primary holds a different copy", async () => {
    const { clock, at, write, deleted, holders } = await cluster();
    await deleted("k");
    // A write concurrent with the delete, coordinated at n3, has not reached the others.
    await write("n3", "k", "y", EMPTY_CONTEXT);
    await clock.advance(GRACE_MS);
    expect(await at("n1").reaper.round()).toMatchObject({ candidates: 1, reaped: 0, declined: 1 });
    expect(await holders("k")).toEqual(["n1", "n2", "n3"]);
    expect(at("n1").stats.counters.reapsDeclined).toBe(1);
  });

  it("keeps its own copy when a peer stops answering in the middle of a round", async () => {
    const { clock, silent, at, deleted, holders } = await cluster();
    await deleted("k");
    await clock.advance(GRACE_MS);
    // n2's hints are known (it answered the Status), then it falls silent before the Reap.
    const round = at("n1").reaper.round();
    silent.add(nodeId("n2"));
    expect(await round).toMatchObject({ candidates: 1, reaped: 0 });
    expect(await holders("k")).toEqual(["n1", "n2", "n3"]);
  });

  it("takes its grace and every call deadline from the injected clock", async () => {
    const { clock, calls, at, deleted } = await cluster();
    clock.jumpWall(-3_600_000); // an hour behind the machine's clock
    await deleted("k");
    await clock.advance(GRACE_MS);
    expect((await at("n1").reaper.round()).reaped).toBe(1);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.deadlineMs).toBe(clock.nowMs() + DEFAULT_REAP_OPTIONS.callTimeoutMs);
    }
  });
});

type Cluster = Awaited<ReturnType<typeof cluster>>;

describe("TombstoneReaper.answer and the replica's reap guard", () => {
  it("checks, then removes only copies that still equal the expected tombstone", async () => {
    const { at, write } = await cluster({ count: 1 });
    const { replica, reaper, stats } = at("n1");
    const liveA = await write("n1", "a", "x", EMPTY_CONTEXT);
    const deadA = await write("n1", "a", "", join(liveA), true);
    const liveB = await write("n1", "b", "y", EMPTY_CONTEXT);
    const deadB = await write("n1", "b", "", join(liveB), true);
    expect(reaper.count).toBe(2);

    const check = await reaper.answer({
      remove: false,
      keys: [reapKey("a", deadA), reapKey("b", deadB)],
    });
    expect(check.equal).toEqual([true, true]);
    expect(await replica.get("b", encoder.encode("a"))).toBeDefined();

    // b changes between the check and the reap: a write concurrent with its delete.
    await write("n1", "b", "z", EMPTY_CONTEXT);
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
    const { at, write } = await cluster({ count: 1 });
    const { reaper } = at("n1");
    const live = await write("n1", "a", "x", EMPTY_CONTEXT);
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

  it("answers a stale copy of a reaped key with the tombstone during the guard, but takes a newer write", async () => {
    const { clock, at, write } = await cluster();
    const { replica } = at("n1");
    const live = await write("n1", "k", "old", EMPTY_CONTEXT);
    const dead = await write("n1", "k", "", join(live), true);
    expect(await replica.reapIfUnchanged("b", encoder.encode("k"), dead, 60_000)).toBe(true);

    // The tombstone itself, copied back by a peer that has not reaped yet: ignored.
    await replica.merge("b", encoder.encode("k"), dead, { durable: false });
    expect(await replica.get("b", encoder.encode("k"))).toBeUndefined();
    // The old live copy arrives late (a replica write or a hinted copy still in flight): the
    // tombstone comes back instead, to spread and win wherever the copy went too.
    const answer = await replica.merge("b", encoder.encode("k"), live, { durable: false });
    expect(answer.object).toEqual(dead);
    expect(await replica.get("b", encoder.encode("k"))).toEqual(dead);
    await replica.removeIfUnchanged("b", encoder.encode("k"), dead);

    // A write the tombstone does not cover is new: it is kept.
    const fresh = await write("n2", "k", "new", EMPTY_CONTEXT);
    await replica.merge("b", encoder.encode("k"), fresh, { durable: false });
    expect((await replica.get("b", encoder.encode("k")))?.siblings).toHaveLength(1);

    // After the guard, a copy is merged like any other.
    const oldAgain = await write("n3", "j", "old", EMPTY_CONTEXT);
    const deadAgain = await write("n3", "j", "", join(oldAgain), true);
    expect(
      await replica.merge("b", encoder.encode("j"), deadAgain, { durable: false }),
    ).toBeDefined();
    expect(await replica.reapIfUnchanged("b", encoder.encode("j"), deadAgain, 60_000)).toBe(true);
    await clock.advance(60_001);
    await replica.merge("b", encoder.encode("j"), oldAgain, { durable: false });
    expect(await replica.get("b", encoder.encode("j"))).toBeDefined();
  });
});
