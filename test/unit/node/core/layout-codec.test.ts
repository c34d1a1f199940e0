// Goal: the canonical codec of the cluster metadata (node/core/layout-codec.ts): encoding round
// trips, every check of the decoder with the field it names, and the layout digest and order.

import { describe, expect, it } from "vitest";

import { LayoutError } from "../../../../node/core/layout.js";
import { markTransferred } from "../../../../node/core/layout-progress.js";
import {
  decodeMetadata,
  encodeMetadata,
  layoutDigest,
  metadataBytesMax,
} from "../../../../node/core/layout-codec.js";
import { commitStaged, compareLayouts, stageChange } from "../../../../node/core/layout-merge.js";

import {
  id,
  cluster,
  address,
  join,
  leave,
  forceRemove,
  replace,
  stage,
  bytes,
} from "./layout-fixtures.js";

describe("encodeMetadata and decodeMetadata", () => {
  // A transition with progress and a staged change, so that every field is present.
  const committed = commitStaged(stage(cluster("abc"), join("d")));
  const full = stageChange(markTransferred(committed, [4, 2]), forceRemove("d"));

  it("round-trips, and the bytes are canonical: JSON with a format and a fixed key order", () => {
    const encoded = encodeMetadata(full);
    expect(decodeMetadata(encoded)).toEqual(full);
    expect(encodeMetadata(decodeMetadata(encoded))).toEqual(encoded);
    expect(bytes(full)).toMatch(
      /^\{"format":1,"layout":\{"version":2,"partitionCount":16,"targetN":3,"members":\[\{"node":"a","address":"a\.test:7070","state":"valid"\}/,
    );
    expect(bytes(full)).toMatch(
      /"previousOwners":\[.*\]\},"progress":\{"version":2,"done":\[2,4\]\},"staged":\{"basedOn":2,"revision":1,"changes":\[\{"kind":"force-remove","node":"d"\}\]\}\}$/,
    );
  });

  it("writes a replace as kind, node, by, address", () => {
    const staged = stage(cluster("abc"), replace("a", "e"));
    expect(bytes(staged)).toContain(
      '"changes":[{"kind":"replace","node":"a","by":"e","address":"e.test:7070"}]',
    );
    expect(decodeMetadata(encodeMetadata(staged))).toEqual(staged);
  });

  it("refuses to encode metadata a peer would refuse", () => {
    const broken = { ...full, progress: { version: 2, done: [3, 1] } };
    expect(() => encodeMetadata(broken)).toThrow(/progress.done is not sorted and distinct/);
  });

  /** The bytes of `full` with the field at `path` (dots; numbers index arrays) set or deleted. */
  const edited = (path: string, value: unknown): Uint8Array => {
    const json: unknown = JSON.parse(bytes(full));
    const keys = path.split(".");
    const parent = keys
      .slice(0, -1)
      .reduce((at, key) => (at as Record<string, unknown>)[key], json);
    const record = parent as Record<string, unknown>;
    if (value === DELETE) delete record[keys.at(-1)!];
    else record[keys.at(-1)!] = value;
    return new TextEncoder().encode(JSON.stringify(json));
  };
  const DELETE = Symbol("delete");
  const text = (value: string): Uint8Array => new TextEncoder().encode(value);

  it.each<[string, Uint8Array, RegExp]>([
    ["more than the byte limit", new Uint8Array(metadataBytesMax + 1), /bytes, more than 2097152/],
    ["text that is not JSON", text("{"), /metadata is not UTF-8 JSON/],
    ["bytes that are not UTF-8", new Uint8Array([0x22, 0xff, 0x22]), /not UTF-8 JSON/],
    ["an array", text("[]"), /metadata: want an object, got \[\]/],
  ])("refuses %s", (_, encoded, message) => {
    expect(() => decodeMetadata(encoded)).toThrow(LayoutError);
    expect(() => decodeMetadata(encoded)).toThrow(message);
  });

  const { members, owners, previousOwners } = full.layout;
  const sixtyFive = Array.from({ length: 65 }, (_, i) => leave(`n${i}`));
  // prettier-ignore
  it.each<[string, unknown, RegExp]>([
    ["format",                   2,                       /metadata format 2 is not 1/],
    ["extra",                    1,                       /metadata: unknown field "extra"/],
    ["staged",                   DELETE,                  /metadata: missing field staged/],
    ["layout",                   [],                      /layout: want an object, got \[\]/],
    ["layout.version",           0,                       /layout.version: want an integer in 1\.\./],
    ["layout.version",           1.5,                     /layout.version: want an integer in 1\.\./],
    ["layout.version",           "2",                     /layout.version: want an integer .*got "2"/],
    ["layout.partitionCount",    48,                      /layout: partition count must be 2\^k/],
    ["layout.targetN",           17,                      /layout: targetN must be an integer in 1\.\.16/],
    ["layout.members.1.node",    "b b",                   /layout.members\[1\].node: invalid node id "b b"/],
    ["layout.members.0.address", "a:0",                   /layout.members\[0\].address: want host:port/],
    ["layout.members.0.state",   "gone",                  /members\[0\].state: want one of joining, valid, leaving, removed/],
    ["layout.members.0.zone",    "z",                     /layout.members\[0\]: unknown field "zone"/],
    ["layout.members",           [...members].reverse(),  /layout.members is not sorted by node, each once/],
    ["layout.members.1.node",    "a",                     /layout.members is not sorted by node, each once \(at a\)/],
    ["layout.owners",            owners.slice(1),         /layout.owners has 15 entries, not Q = 16/],
    ["layout.owners.3",          "x",                     /layout.owners\[3\]: x is not a joining, valid or leaving member/],
    ["layout.members.0.state",   "removed",               /layout.owners\[\d+\]: a is not a joining, valid or leaving member/],
    ["layout.previousOwners.0",  "x",                     /layout.previousOwners\[0\]: x is not a member/],
    ["layout.previousOwners",    [...previousOwners!, "a"], /layout.previousOwners has 17 entries, more than 16/],
    ["layout.previousOwners",    DELETE,                  /layout: d is joining but no transition is under way/],
    ["progress.version",         1,                       /progress.version is 1, not the layout version 2/],
    ["progress.done",            [4, 2],                  /progress.done is not sorted and distinct/],
    ["progress.done",            [2, 2],                  /progress.done is not sorted and distinct/],
    ["progress.done",            [16],                    /progress.done\[0\]: want an integer in 0\.\.15, got 16/],
    ["staged.basedOn",           1,                       /staged.basedOn is 1, not the layout version 2/],
    ["staged.revision",          -1,                      /staged.revision: want an integer in 0\.\./],
    ["staged.revision",          0,                       /staged.revision is 0 but changes are staged/],
    ["staged.changes.0.kind",    "evict",                 /changes\[0\].kind: want one of join, leave, replace, force-remove/],
    ["staged.changes.0.kind",    "join",                  /staged.changes\[0\]: missing field address/],
    ["staged.changes.0.by",      "e",                     /staged.changes\[0\]: unknown field "by"/],
    ["staged.changes.0.node",    "",                      /staged.changes\[0\]: invalid node id ""/],
    ["staged.changes.0",         replace("a", "a"),       /staged.changes\[0\]: cannot replace a by itself/],
    ["staged.changes.1",         leave("d"),              /staged.changes name d more than once/],
    ["staged.changes",           sixtyFive,               /staged.changes has 65 entries, more than 64/],
  ])("refuses %s = %j", (path, value, message) => {
    expect(() => decodeMetadata(edited(path, value))).toThrow(LayoutError);
    expect(() => decodeMetadata(edited(path, value))).toThrow(message);
  });
});

describe("layoutDigest and compareLayouts", () => {
  it("digests the canonical layout: 64 hex digits, equal for equal layouts", () => {
    const digest = layoutDigest(cluster("abc").layout);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(layoutDigest(cluster("cba").layout)).toBe(digest);
    const moved = cluster("abc", 16, 3).layout;
    expect(
      layoutDigest({ ...moved, members: moved.members.map((m) => ({ ...m, address: "x:1" })) }),
    ).not.toBe(digest);
  });

  it("orders by version, then digest; 0 only for the same layout", () => {
    const v1 = cluster("abc");
    const v2 = commitStaged(stage(v1, join("d")));
    expect(compareLayouts(v1.layout, v2.layout)).toBe(-1);
    expect(compareLayouts(v2.layout, v1.layout)).toBe(1);
    expect(compareLayouts(v2.layout, { ...v2.layout })).toBe(0);
    const other = commitStaged(stage(v1, join("e")));
    const order = compareLayouts(v2.layout, other.layout);
    expect(order).toBe(layoutDigest(v2.layout) < layoutDigest(other.layout) ? -1 : 1);
    expect(compareLayouts(other.layout, v2.layout)).toBe(-order);
  });
});
