// Goal: the reaping rules of node/core/tombstones.ts: only tombstone-only objects have a delete
// time; a round plans only the tombstones past their grace in the partitions this node leads,
// grouped by the primaries that must agree, within its bound; a round is blocked by a down
// member, a cut-off peer, pending or unknown hints; a key one peer declines is reaped nowhere.

import { describe, expect, it } from "vitest";
import { EMPTY_CONTEXT } from "../../../../node/core/causal-context.js";
import { EMPTY_DVV_SET, update, type Version } from "../../../../node/core/dvv.js";
import {
  agreedKeys,
  graceElapsed,
  planReapRound,
  reapBlocker,
  tombstoneSince,
  type ReapPlan,
  type ReapRoundInput,
} from "../../../../node/core/tombstones.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";

function version(deleted: boolean, lastModifiedMs: number): Version {
  return { value: new Uint8Array(), contentType: "", metadata: {}, lastModifiedMs, deleted };
}

describe("tombstoneSince", () => {
  it("is undefined for an empty object and for any live sibling", () => {
    expect(tombstoneSince(EMPTY_DVV_SET)).toBeUndefined();
    const live = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", version(false, 10)).object;
    expect(tombstoneSince(live)).toBeUndefined();
    // A delete concurrent with a live write leaves a live sibling: not reapable.
    const mixed = update(live, EMPTY_CONTEXT, "b", version(true, 20)).object;
    expect(tombstoneSince(mixed)).toBeUndefined();
  });

  it("is the newest delete time when every sibling is a tombstone", () => {
    const one = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", version(true, 10)).object;
    expect(tombstoneSince(one)).toBe(10);
    const two = update(one, EMPTY_CONTEXT, "b", version(true, 30)).object;
    expect(tombstoneSince(two)).toBe(30);
  });
});

describe("reapBlocker", () => {
  const members = ["n1", "n2", "n3"];
  const allUp = new Set(members);
  const noHints = new Map(members.map((member) => [member, 0]));

  it("lets a round run when every member is up, none is cut off and no hints are pending", () => {
    expect(reapBlocker({ members, up: allUp, dropped: [], hintsPending: noHints })).toBeUndefined();
  });

  it("names the members that are down", () => {
    const up = new Set(["n1"]);
    expect(reapBlocker({ members, up, dropped: [], hintsPending: noHints })).toBe(
      "members down: n2, n3",
    );
  });

  it("reaps nothing while a membership change moves partitions, whatever else holds", () => {
    const facts = { members, up: allUp, dropped: [], hintsPending: noHints };
    expect(reapBlocker({ ...facts, transitionOf: 4 })).toBe(
      "layout 4 is moving data to new owners",
    );
    expect(reapBlocker({ ...facts, transitionOf: undefined })).toBeUndefined();
  });

  it("waits while traffic to a peer is dropped", () => {
    expect(reapBlocker({ members, up: allUp, dropped: ["n3"], hintsPending: noHints })).toBe(
      "traffic dropped to: n3",
    );
  });

  it("waits for pending hints, and for a member whose hints are unknown", () => {
    const pending = new Map([...noHints, ["n2", 4]]);
    expect(reapBlocker({ members, up: allUp, dropped: [], hintsPending: pending })).toBe(
      "4 hints or handed-over partitions pending on n2",
    );
    const unknown = new Map([
      ["n1", 0],
      ["n2", 0],
    ]);
    expect(reapBlocker({ members, up: allUp, dropped: [], hintsPending: unknown })).toBe(
      "hints pending on n3 unknown (no answer)",
    );
  });
});

describe("reapBlocker and layout versions", () => {
  const members = ["n1", "n2", "n3"];
  const allUp = new Set(members);
  const noHints = new Map(members.map((member) => [member, 0]));
  const facts = { members, up: allUp, dropped: [], hintsPending: noHints };

  it("waits while a member follows another layout version than this node (simulation seed 832)", () => {
    // n4, still at v1, led a round among its v1 peers while n1 had committed v2, in which n3
    // gains the partition and took a write that the tombstone supersedes: reaping among the
    // old owners would have brought that write back. n1's Status says v2.
    const versions = new Map([
      ["n2", 1],
      ["n3", 2],
    ]);
    expect(reapBlocker({ ...facts, layoutVersion: 1, layoutVersions: versions })).toBe(
      "n3 follows layout 2, this node 1",
    );
    const behind = new Map([
      ["n2", 2],
      ["n3", 1],
    ]);
    expect(reapBlocker({ ...facts, layoutVersion: 2, layoutVersions: behind })).toBe(
      "n3 follows layout 1, this node 2",
    );
  });

  it("lets a round run when every member follows the same version", () => {
    const same = new Map(members.map((member) => [member, 3]));
    expect(reapBlocker({ ...facts, layoutVersion: 3, layoutVersions: same })).toBeUndefined();
  });
});

describe("graceElapsed", () => {
  it("is true from exactly the grace period on", () => {
    expect(graceElapsed(1000, 3999, 3000)).toBe(false);
    expect(graceElapsed(1000, 4000, 3000)).toBe(true);
  });
});

describe("planReapRound", () => {
  const [n1, n2, n3, n4] = ["n1", "n2", "n3", "n4"].map(nodeId) as [NodeId, NodeId, NodeId, NodeId];
  /** Partition p's primaries: p 0 → n1 n2 n3, p 1 → n2 n3 n4, p 2 → n1 n3 n4, p 3 → n3 n1 n4. */
  const PRIMARIES: Record<number, readonly NodeId[]> = {
    0: [n1, n2, n3],
    1: [n2, n3, n4],
    2: [n1, n3, n4],
    3: [n3, n1, n4],
  };
  const input = (overrides: Partial<ReapRoundInput> = {}): ReapRoundInput => ({
    self: n1,
    up: new Set([n1, n2, n3, n4]),
    primariesOf: (partition) => PRIMARIES[partition] ?? [],
    nowMs: 10_000,
    graceMs: 3_000,
    monotonicMs: 100_000,
    heldMsMin: 65_000,
    keysPerRoundMax: 100,
    ...overrides,
  });
  /**
   * Tombstones named by partition and age: "0:5000" is in partition 0, deleted at 5000 (wall),
   * held here since 0 (monotonic); `heldSinceMs` gives another time for all.
   */
  const tombstones = (text: string, heldSinceMs = 0) =>
    text.split(" ").map((entry) => {
      const [partition, sinceMs] = entry.split(":").map(Number) as [number, number];
      return { name: entry, partition, sinceMs, heldSinceMs };
    });
  const planned = (plan: ReapPlan<{ readonly name: string }>) =>
    plan.groups.map((group) => `${group.peers.join(",")}=${group.keys.map((key) => key.name)}`);

  it.each([
    ["past their grace only", "0:7000 0:7001 2:1000", {}, ["n2,n3=0:7000", "n3,n4=2:1000"]],
    ["in partitions it leads only", "0:1 1:1 2:1 3:1", {}, ["n2,n3=0:1", "n3,n4=2:1"]],
    [
      "in a partition whose earlier primaries it believes down",
      "1:1 3:1",
      { up: new Set([n1, n4]) },
      ["n3,n4=3:1"],
    ],
    ["grouped by the primaries that must agree", "0:1 2:1 0:2", {}, ["n2,n3=0:1,0:2", "n3,n4=2:1"]],
    [
      "at most keysPerRoundMax, in index order",
      "0:1 0:2 2:1",
      { keysPerRoundMax: 2 },
      ["n2,n3=0:1,0:2"],
    ],
  ] as const)("takes tombstones %s", (_name, index, overrides, expected) => {
    const plan = planReapRound(tombstones(index), input(overrides));
    expect(planned(plan)).toEqual(expected);
    expect(plan.candidates).toBe(expected.join(" ").split(":").length - 1);
  });

  it("takes only what this node has held for a write's life, whatever the wall clock says", () => {
    // Deleted long ago by the wall clock (or the clock stepped), but held here 64.999 s.
    expect(planReapRound(tombstones("0:1", 35_001), input()).candidates).toBe(0);
    expect(planReapRound(tombstones("0:1", 35_000), input()).candidates).toBe(1);
    const both = [...tombstones("0:1", 35_001), ...tombstones("0:2", 20_000)];
    expect(planned(planReapRound(both, input()))).toEqual(["n2,n3=0:2"]);
  });

  it("plans nothing for a node that leads no partition", () => {
    expect(planReapRound(tombstones("1:1 3:1"), input()).candidates).toBe(0);
  });
});

describe("agreedKeys", () => {
  it("keeps only the keys the peer answered true for", () => {
    expect(agreedKeys(["a", "b", "c"], [true, false, true])).toEqual(["a", "c"]);
    // A short answer agrees to nothing past its end.
    expect(agreedKeys(["a", "b"], [true])).toEqual(["a"]);
  });
});
