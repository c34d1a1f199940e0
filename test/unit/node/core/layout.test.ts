// Goal: the cluster metadata core of issue 14 (node/core/layout*.ts): a new cluster's metadata;
// staging with each refusal; commit into a transition or straight to settled states, with each
// refusal; the rings and moving partitions of a transition (against preferenceList); transfer
// progress and retirement; the merge rules. The codec: layout-codec.test.ts.

import { describe, expect, it } from "vitest";

import { preferenceList } from "../../../../coordinator/core/preference-list.js";
import {
  type ClusterMetadata,
  type StagedChange,
  LayoutError,
  initialMetadata,
  isValidAddress,
  movingPartitions,
  ringsOf,
} from "../../../../node/core/layout.js";
import {
  leavingMembers,
  markDrained,
  markTransferred,
  retireIfComplete,
  undrained,
} from "../../../../node/core/layout-progress.js";
import { decodeMetadata, encodeMetadata } from "../../../../node/core/layout-codec.js";
import {
  clearStaged,
  commitStaged,
  compareLayouts,
  mergeMetadata,
  stageChange,
} from "../../../../node/core/layout-merge.js";
import { type NodeId } from "../../../../node/core/node-id.js";
import { claimRing } from "../../../../node/core/ring.js";

import {
  id,
  cluster,
  address,
  join,
  leave,
  forceRemove,
  replace,
  stage,
  completed,
  finished,
  states,
  bytes,
  primaries,
} from "./layout-fixtures.js";

describe("initialMetadata", () => {
  it("starts at version 1 with every member valid, sorted, owning a fresh claim", () => {
    const metadata = cluster("cab", 16, 3);
    const { layout } = metadata;
    expect(layout.version).toBe(1);
    expect(states(layout)).toBe("a:valid b:valid c:valid");
    expect(layout.members[0]!.address).toBe("a.test:7070");
    const ring = claimRing({ nodes: [id("a"), id("b"), id("c")], partitionCount: 16, targetN: 3 });
    expect(layout.owners).toEqual(ring.owners);
    expect(layout.previousOwners).toBeUndefined();
    expect(metadata.progress).toEqual({ version: 1, done: [] });
    expect(metadata.staged).toEqual({ basedOn: 1, revision: 0, changes: [] });
  });

  const member = (node: string, at = `${node}:1`): { node: NodeId; address: string } => ({
    node: node as NodeId,
    address: at,
  });
  it.each([
    ["no members", [], 16, 3, /needs 1\.\.1024 members, got 0/],
    ["a member twice", [member("a"), member("a", "b:1")], 16, 3, /member a is listed twice/],
    ["a bad node id", [member("a b")], 16, 3, /invalid node id "a b"/],
    ["an address without a port", [member("a", "a")], 16, 3, /invalid address "a" for a/],
    ["Q = 48", [member("a")], 48, 3, /partition count must be 2\^k in 1\.\.4096, got 48/],
    ["targetN = 0", [member("a")], 16, 0, /targetN must be an integer in 1\.\.16, got 0/],
    ["targetN = 17", [member("a")], 16, 17, /targetN must be an integer in 1\.\.16, got 17/],
  ])("refuses %s", (_, members, partitionCount, targetN, message) => {
    const call = (): unknown => initialMetadata({ members, partitionCount, targetN });
    expect(call).toThrow(LayoutError);
    expect(call).toThrow(message);
  });
});

describe("isValidAddress", () => {
  it.each([
    ["a:1", true],
    ["node-1.example.com:7070", true],
    ["10.0.0.7:65535", true],
    ["[::1]:7070", true],
    ["a", false],
    ["a:0", false],
    ["a:65536", false],
    ["a:07070", false],
    ["a b:1", false],
    [":7070", false],
    [`${"h".repeat(253)}:7070`, true],
    [`${"h".repeat(254)}:7070`, false],
  ])("says %j is %s", (value, valid) => {
    expect(isValidAddress(value)).toBe(valid);
  });
});

describe("stageChange", () => {
  it("appends the change, bumps the revision and bases it on the layout version", () => {
    const once = stageChange(cluster("abc"), join("d"));
    expect(once.staged).toEqual({ basedOn: 1, revision: 1, changes: [join("d")] });
    const twice = stageChange(once, replace("a", "e"));
    expect(twice.staged).toEqual({
      basedOn: 1,
      revision: 2,
      changes: [join("d"), replace("a", "e")],
    });
    expect(twice.layout).toBe(once.layout);
  });

  it("lets a removed member join again", () => {
    const gone = completed(cluster("abcd"), forceRemove("d"));
    expect(states(gone.layout)).toContain("d:removed");
    expect(stageChange(gone, join("d")).staged.changes).toEqual([join("d")]);
  });

  const abc = cluster("abc");
  const gone = completed(cluster("abcd"), forceRemove("d"));
  const moving = commitStaged(stage(cluster("abc"), join("d")));
  it.each<[string, ClusterMetadata, StagedChange, RegExp]>([
    ["a join of a member", abc, join("a"), /cannot join a: it is already a member \(valid\)/],
    ["a leave of a non-member", abc, leave("x"), /cannot leave x: it is not a member/],
    ["a leave of a removed member", gone, leave("d"), /cannot leave d: it is already removed/],
    ["a replace of a non-member", abc, replace("x", "y"), /cannot replace x: it is not a member/],
    ["a replace by a member", abc, replace("a", "b"), /cannot replace a by b: b is already a/],
    ["a replace by itself", abc, replace("a", "a"), /cannot replace a by itself/],
    ["a force-remove of a non-member", abc, forceRemove("x"), /cannot force-remove x: it is not/],
    ["a force-remove of a removed one", gone, forceRemove("d"), /force-remove d: it is already/],
    ["a join during a transition", moving, join("e"), /cannot join e while layout 2 is moving/],
    ["a leave during a transition", moving, leave("a"), /cannot leave a while layout 2 is moving/],
    ["a replace during a transition", moving, replace("a", "e"), /cannot replace a while/],
    ["a bad node id", abc, { kind: "leave", node: "a/b" as NodeId }, /invalid node id "a\/b"/],
    [
      "a bad address",
      abc,
      { kind: "join", node: id("e"), address: "e:0" },
      /invalid address "e:0"/,
    ],
  ])("refuses %s", (_, metadata, change, message) => {
    expect(() => stageChange(metadata, change)).toThrow(LayoutError);
    expect(() => stageChange(metadata, change)).toThrow(message);
  });

  it("refuses a change naming a node already in a staged change, as node or as `by`", () => {
    const staged = stage(cluster("abc"), replace("a", "e"));
    expect(() => stageChange(staged, leave("a"))).toThrow(/a is already in a staged change/);
    expect(() => stageChange(staged, join("e"))).toThrow(/e is already in a staged change/);
    expect(() => stageChange(staged, replace("b", "e"))).toThrow(/e is already in a staged/);
  });

  it("lets a replace take the place of its replacement's staged join", () => {
    const joined = stage(cluster("abc"), join("e"), leave("b"));
    const replaced = stageChange(joined, replace("a", "e"));
    expect(replaced.staged.changes).toEqual([leave("b"), replace("a", "e")]);
    expect(replaced.staged.revision).toBe(joined.staged.revision + 1);
    // Only the join of `by` gives way: a join of another node stays.
    const other = stage(cluster("abc"), join("d"));
    expect(stageChange(other, replace("a", "e")).staged.changes).toEqual([
      join("d"),
      replace("a", "e"),
    ]);
  });

  it("allows a force-remove during a transition", () => {
    const staged = stageChange(moving, forceRemove("d"));
    expect(staged.staged).toEqual({ basedOn: 2, revision: 1, changes: [forceRemove("d")] });
  });

  it("refuses more than 64 staged changes", () => {
    const many = Array.from({ length: 64 }, (_, i) => join(`n${i}`));
    const full = stage(cluster("abc"), ...many);
    expect(() => stageChange(full, join("x"))).toThrow(/at most 64 changes can be staged/);
  });
});

describe("clearStaged", () => {
  it("empties the staged set at revision + 1, which wins a merge over the set it cleared", () => {
    const staged = stage(cluster("abc"), join("d"), leave("a"));
    const cleared = clearStaged(staged);
    expect(cleared.staged).toEqual({ basedOn: 1, revision: 3, changes: [] });
    expect(mergeMetadata(staged, cleared).staged).toEqual(cleared.staged);
    expect(mergeMetadata(cleared, staged).staged).toEqual(cleared.staged);
  });
});

describe("commitStaged", () => {
  it("commits a join as a transition: the joiner joining, the old owners kept as previous", () => {
    const before = cluster("abc");
    const after = commitStaged(stage(before, join("d")), { basedOn: 1, revision: 1 });
    const { layout } = after;
    expect(layout.version).toBe(2);
    expect(states(layout)).toBe("a:valid b:valid c:valid d:joining");
    expect(layout.previousOwners).toEqual(before.layout.owners);
    expect(new Set(layout.owners)).toEqual(new Set(["a", "b", "c", "d"]));
    expect(after.progress).toEqual({ version: 2, done: [] });
    expect(after.staged).toEqual({ basedOn: 2, revision: 0, changes: [] });
  });

  it.each([
    ["a leave", [leave("a")], "a:leaving b:valid c:valid d:valid", "bcd"],
    ["a replace", [replace("a", "e")], "a:leaving b:valid c:valid d:valid e:joining", "bcde"],
    ["a force-remove", [forceRemove("a")], "a:removed b:valid c:valid d:valid", "bcd"],
    ["two changes", [leave("a"), join("e")], "a:leaving b:valid c:valid d:valid e:joining", "bcde"],
  ])("commits %s: states change and only joining or valid members own", (_, changes, want, own) => {
    const { layout } = commitStaged(stage(cluster("abcd"), ...changes));
    expect(states(layout)).toBe(want);
    expect([...new Set(layout.owners)].sort().join("")).toBe(own);
    expect(layout.previousOwners).toBeDefined();
  });

  it("claims from the current ring: a joiner takes its share and few others move", () => {
    const before = cluster("abcdefgh", 64, 3);
    const { layout } = commitStaged(stage(before, join("i")));
    const moved = layout.owners.filter((owner, p) => before.layout.owners[p] !== owner).length;
    expect(layout.owners.filter((owner) => owner === "i").length).toBeGreaterThanOrEqual(7);
    expect(moved).toBeLessThanOrEqual(Math.ceil(64 / 9) + 3);
  });

  it("settles at once when no partition's primaries change: a leaver that owned nothing", () => {
    // Q = 2 and three members: one of them owns no partition and is nobody's primary (n = 1).
    const before = cluster("abc", 2, 1);
    const idle = ["a", "b", "c"].find((node) => !before.layout.owners.includes(id(node)))!;
    const after = commitStaged(stage(before, leave(idle)));
    expect(after.layout.version).toBe(2);
    expect(after.layout.previousOwners).toBeUndefined();
    expect(states(after.layout)).toContain(`${idle}:removed`);
    expect(after.layout.owners).toEqual(before.layout.owners);
  });

  it("force-removes a node that died while joining: the transition goes on from its old owners", () => {
    const moving = commitStaged(stage(cluster("abc"), join("d")));
    const next = commitStaged(stageChange(moving, forceRemove("d")));
    expect(next.layout.version).toBe(3);
    expect(next.layout.members.find((member) => member.node === "d")?.state).toBe("removed");
    expect(next.layout.owners).not.toContain("d");
    // Back to three members: either nothing moves from the old owners any more, or it does
    // from them (never from d, which held nothing the old owners lack).
    const source = moving.layout.previousOwners;
    expect(next.layout.previousOwners ?? source).toEqual(source);
    expect(next.progress).toEqual({ version: 3, done: [] });
  });

  it.each([
    ["nothing staged", cluster("abc"), undefined, /nothing is staged to commit/],
    [
      "a plan shown for another revision",
      stage(cluster("abc"), join("d"), join("e")),
      { basedOn: 1, revision: 1 },
      /the plan changed since it was shown: it was for layout\/revision 1\/1, now 1\/2/,
    ],
    [
      "a plan shown for another layout",
      stage(cluster("abc"), join("d")),
      { basedOn: 0, revision: 1 },
      /the plan changed since it was shown/,
    ],
    [
      "every member leaving",
      stage(cluster("ab"), leave("a"), leave("b")),
      undefined,
      /leave no joining or valid member to own partitions/,
    ],
    [
      "every member force-removed",
      stage(cluster("a"), forceRemove("a")),
      undefined,
      /leave no joining or valid member to own partitions/,
    ],
    [
      "a change a concurrent commit made invalid",
      { ...cluster("abc"), staged: { basedOn: 1, revision: 1, changes: [join("a")] } },
      undefined,
      /cannot join a: it is already a member/,
    ],
  ])("refuses %s", (_, metadata, expected, message) => {
    expect(() => commitStaged(metadata, expected)).toThrow(LayoutError);
    expect(() => commitStaged(metadata, expected)).toThrow(message);
  });
});

describe("ringsOf and movingPartitions", () => {
  it("gives only the current ring, over the owning members, when nothing is moving", () => {
    const { layout } = cluster("cab");
    expect(ringsOf(layout)).toEqual({
      current: { partitionCount: 16, owners: layout.owners, nodes: ["a", "b", "c"] },
    });
    expect(movingPartitions(layout)).toEqual([]);
  });

  it.each([
    ["a join", [join("e")], "abcd", "abcde"],
    ["a leave", [leave("a")], "abcd", "bcd"],
    ["a replace", [replace("a", "e")], "abcd", "bcde"],
    ["a force-remove", [forceRemove("a")], "abcd", "bcd"],
  ])("during %s gives the previous ring over the old owning members", (_, changes, was, is) => {
    const { layout } = commitStaged(stage(cluster("abcd"), ...changes));
    const { current, previous } = ringsOf(layout);
    expect(current.nodes.join("")).toBe(is);
    expect(previous!.nodes.join("")).toBe(was);
    expect(previous!.owners).toEqual(layout.previousOwners);
    // The oracle: preferenceList's primaries for n = targetN, compared as sets.
    const want = layout.owners.flatMap((_, p) =>
      primaries(previous!, p, 3).join() === primaries(current, p, 3).join() ? [] : [p],
    );
    expect(movingPartitions(layout)).toEqual(want);
    expect(want.length).toBeGreaterThan(0);
  });

  it.each([
    ["a leave", leave, "abcd", 2, 3],
    ["a force-remove", forceRemove, "abc", 1, 2],
  ])(
    "with Q < targetN, counts %s of a primary that owns nothing as moving",
    (_, change, letters, partitionCount, targetN) => {
      // Fewer partitions than targetN: the first non-owner, sorted, is a primary everywhere.
      const before = cluster(letters, partitionCount, targetN);
      const idle = [...letters].find((node) => !before.layout.owners.includes(id(node)))!;
      const { layout } = commitStaged(stage(before, change(idle)));
      expect(ringsOf(layout).previous!.nodes.join("")).toBe(letters);
      expect(movingPartitions(layout)).toEqual([...before.layout.owners.keys()]);
    },
  );

  it("moves every partition when a join grows the primaries of all of them (S < targetN)", () => {
    const { layout } = commitStaged(stage(cluster("ab", 8, 3), join("c")));
    expect(movingPartitions(layout)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe("markTransferred and retireIfComplete", () => {
  const moving = commitStaged(stage(cluster("abc"), join("d")));
  const partitions = movingPartitions(moving.layout);

  it("adds partitions to the progress of the current version: sorted, distinct, idempotent", () => {
    const once = markTransferred(moving, [5, 1, 5]);
    expect(once.progress).toEqual({ version: 2, done: [1, 5] });
    expect(markTransferred(once, [3, 1]).progress).toEqual({ version: 2, done: [1, 3, 5] });
    expect(markTransferred(once, [1]).progress).toEqual(once.progress);
  });

  it.each([[-1], [16], [1.5]])("refuses partition %s", (p) => {
    expect(() => markTransferred(moving, [p])).toThrow(`partition ${p} is not in 0..15`);
  });

  it("returns the metadata itself until every moving partition is done", () => {
    expect(retireIfComplete(cluster("abc"))).toEqual(cluster("abc"));
    expect(retireIfComplete(moving)).toBe(moving);
    const allButOne = markTransferred(moving, partitions.slice(1));
    expect(retireIfComplete(allButOne)).toBe(allButOne);
  });

  it("retires a complete transition: version + 1, same owners, states settled, fresh progress", () => {
    const retired = retireIfComplete(markTransferred(moving, partitions));
    expect(retired.layout).toEqual({
      version: 3,
      partitionCount: 16,
      targetN: 3,
      members: moving.layout.members.map((member) => ({ ...member, state: "valid" })),
      owners: moving.layout.owners,
    });
    expect(retired.progress).toEqual({ version: 3, done: [] });
    expect(retired.staged).toEqual({ basedOn: 3, revision: 0, changes: [] });
    const leaving = commitStaged(stage(cluster("abcd"), leave("a")));
    const left = finished(leaving);
    expect(states(left.layout)).toBe("a:removed b:valid c:valid d:valid");
  });

  it("waits for every leaving member to mark itself drained (no hint left)", () => {
    const two = commitStaged(stage(cluster("abcde"), leave("a"), replace("b", "f")));
    expect(leavingMembers(two.layout)).toEqual(["a", "b"]);
    const moved = markTransferred(two, movingPartitions(two.layout));
    expect(retireIfComplete(moved)).toBe(moved);
    const one = markDrained(moved, id("b"));
    expect(one.progress.drained).toEqual(["b"]);
    expect(undrained(one)).toEqual(["a"]);
    expect(retireIfComplete(one)).toBe(one);
    // Only a leaving member of the change under way can be marked, and only once.
    expect(markDrained(one, id("c"))).toBe(one);
    expect(markDrained(one, id("b"))).toBe(one);
    expect(markDrained(cluster("abc"), id("a"))).toEqual(cluster("abc"));
    const both = markDrained(one, id("a"));
    expect(both.progress).toEqual({ version: 2, done: both.progress.done, drained: ["a", "b"] });
    expect(decodeMetadata(encodeMetadata(both))).toEqual(both);
    // What a peer or the disk sends is checked: only leaving members, sorted, at most once.
    const withDrained = (drained: string[]) =>
      new TextEncoder().encode(
        new TextDecoder()
          .decode(encodeMetadata(both))
          .replace('"drained":["a","b"]', `"drained":${JSON.stringify(drained)}`),
      );
    expect(() => decodeMetadata(withDrained(["a", "c"]))).toThrow("is not a leaving member");
    expect(() => decodeMetadata(withDrained(["b", "a"]))).toThrow("not sorted and distinct");
    expect(() => decodeMetadata(withDrained([]))).toThrow("progress.drained is empty");
    const retired = retireIfComplete(both);
    expect(states(retired.layout)).toBe("a:removed b:removed c:valid d:valid e:valid f:valid");
    expect(retired.progress).toEqual({ version: 3, done: [] });
  });

  it("merges drained marks of one version as a union, and drops them with their version", () => {
    const two = commitStaged(stage(cluster("abcde"), leave("a"), leave("b")));
    const [a, b] = [markDrained(two, id("a")), markDrained(two, id("b"))];
    expect(mergeMetadata(a, b).progress.drained).toEqual(["a", "b"]);
    const ahead = commitStaged(stage(finished(two), join("g")));
    expect(mergeMetadata(a, ahead).progress).toEqual(ahead.progress);
  });

  it("gives the same bytes on two nodes that marked the partitions in other orders", () => {
    const one = retireIfComplete(markTransferred(markTransferred(moving, [0]), partitions));
    const other = retireIfComplete(markTransferred(moving, [...partitions].reverse()));
    expect(bytes(one)).toBe(bytes(other));
  });

  it("carries a staged force-remove over to the retired version", () => {
    const staged = stageChange(markTransferred(moving, partitions), forceRemove("c"));
    const retired = retireIfComplete(staged);
    expect(retired.staged).toEqual({ basedOn: 3, revision: 1, changes: [forceRemove("c")] });
    expect(states(commitStaged(retired).layout)).toContain("c:removed");
  });
});

describe("mergeMetadata", () => {
  const base = cluster("abc");
  const withD = commitStaged(stage(base, join("d")));
  const withE = commitStaged(stage(base, join("e")));

  it("takes the greater layout by (version, digest), whichever side it is on", () => {
    expect(mergeMetadata(base, withD).layout).toBe(withD.layout);
    expect(mergeMetadata(withD, base).layout).toBe(withD.layout);
    const winner = compareLayouts(withD.layout, withE.layout) > 0 ? withD : withE;
    expect(bytes(mergeMetadata(withD, withE))).toBe(bytes(winner));
    expect(bytes(mergeMetadata(withE, withD))).toBe(bytes(winner));
  });

  it("unions the done partitions of one version and takes the higher version's otherwise", () => {
    const one = markTransferred(withD, [1, 7]);
    const two = markTransferred(withD, [3, 7]);
    expect(mergeMetadata(one, two).progress).toEqual({ version: 2, done: [1, 3, 7] });
    const partitions = movingPartitions(withD.layout);
    const retired = retireIfComplete(markTransferred(withD, partitions));
    expect(mergeMetadata(one, retired).progress).toEqual({ version: 3, done: [] });
  });

  it("keeps only the winner's progress when two layouts share a version (concurrent commits)", () => {
    const [d, e] = [markTransferred(withD, [1]), markTransferred(withE, [2])];
    const winner = compareLayouts(d.layout, e.layout) > 0 ? d : e;
    expect(mergeMetadata(d, e).progress).toEqual(winner.progress);
    expect(mergeMetadata(e, d).progress).toEqual(winner.progress);
  });

  it("takes the staged set of the greater (basedOn, revision, digest)", () => {
    const staged = stage(base, join("d"), join("e"));
    const other = stage(base, join("f"));
    expect(mergeMetadata(other, staged).staged).toBe(staged.staged);
    const rival = stage(base, join("g"), join("h"));
    expect(mergeMetadata(staged, rival).staged).toEqual(mergeMetadata(rival, staged).staged);
    // A commit starts a new base: what was staged on the old one is stale.
    expect(mergeMetadata(staged, withD).staged).toEqual({ basedOn: 2, revision: 0, changes: [] });
  });

  it("resets progress and staged sets of a version below the merged layout's", () => {
    const stale: ClusterMetadata = {
      layout: base.layout,
      progress: { version: 1, done: [2] },
      staged: { basedOn: 1, revision: 4, changes: [join("f")] },
      access: base.access,
    };
    const ahead: ClusterMetadata = { ...withD, progress: { version: 1, done: [3] } };
    const merged = mergeMetadata(stale, { ...ahead, staged: { ...stale.staged, revision: 5 } });
    expect(merged.layout).toBe(withD.layout);
    expect(merged.progress).toEqual({ version: 2, done: [] });
    expect(merged.staged).toEqual({ basedOn: 2, revision: 0, changes: [] });
  });

  it("is idempotent and refuses metadata of a cluster with another partition count", () => {
    expect(bytes(mergeMetadata(withD, withD))).toBe(bytes(withD));
    expect(() => mergeMetadata(base, cluster("abc", 32))).toThrow(
      /cannot merge layouts of 16 and 32 partitions/,
    );
  });
});
