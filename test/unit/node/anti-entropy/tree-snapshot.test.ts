// Goal: a snapshot of the trees restores trees equal to a rebuild from the same storage, keys
// written since the start win over it, and a snapshot that does not check in any way (another
// storage state, damage, another geometry) is refused whole, with the reason, before anything
// is restored.
// Method: real Replicas over memory storage (aae-test-helpers), fast-check histories of puts,
// deletes and concurrent writes; the snapshot built from the trees, then opened and read in
// small chunks into fresh trees.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { PartitionTrees } from "../../../../node/anti-entropy/partition-trees.js";
import {
  SnapshotBuilder,
  openSnapshot,
  type SnapshotFacts,
  type SnapshotHeader,
  type SnapshotVisitor,
} from "../../../../node/anti-entropy/tree-snapshot.js";
import { leafCount } from "../../../../node/core/merkle-tree.js";
import { PARTITIONS, makeSide, write, type Side } from "./aae-test-helpers.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const noPause = (): Promise<void> => Promise.resolve();
const HEADER: SnapshotFacts = {
  partitionCount: PARTITIONS,
  shape: { branchCount: 32, leavesPerBranch: 32 },
  state: "log-v1 1:4096,17:300",
  builtAtMs: 1_796_000_000_000.5,
};

async function rebuilt(side: Side): Promise<PartitionTrees> {
  const trees = new PartitionTrees(PARTITIONS);
  await trees.rebuild(side.storage.entries(), { chunkEntries: 3, pause: noPause });
  return trees;
}

/** Everything observable of the trees, as one comparable value. */
function summary(trees: PartitionTrees): unknown[] {
  const parts: unknown[] = [trees.ready, trees.keyCount];
  for (let partition = 0; partition < PARTITIONS; partition++) {
    parts.push(trees.root(partition), Buffer.from(trees.branchHashes(partition)).toString("hex"));
    for (let leaf = 0; leaf < leafCount(trees.shape); leaf++) {
      const ids = trees.leafIds(partition, leaf);
      if (ids.length > 0) parts.push(leaf, ids.map((id) => [id, trees.versionOfId(id)]).sort());
    }
  }
  return parts;
}

function snapshotOf(trees: PartitionTrees, tombstones: [string, number, number][] = []): Buffer {
  const builder = new SnapshotBuilder(HEADER);
  trees.forEachKey((id, high, low, partition, leaf) => builder.key(id, high, low, partition, leaf));
  for (const [id, partition, sinceMs] of tombstones) builder.tombstone(id, partition, sinceMs);
  return builder.finish();
}

/** Reads a snapshot into `trees` `chunk` entries at a time; what it found besides the keys. */
function restore(
  bytes: Buffer,
  trees: PartitionTrees,
  chunk: number,
): { superseded: number; tombstones: [string, number, number][]; chunks: number } {
  const opened = openSnapshot(bytes, HEADER);
  if (!opened.ok) throw new Error(opened.reason);
  const found = { superseded: 0, tombstones: [] as [string, number, number][], chunks: 1 };
  const visitor: SnapshotVisitor = {
    key: (id, high, low, partition, leaf) => {
      if (!trees.restoreKey(id, high, low, partition, leaf)) found.superseded += 1;
    },
    tombstone: (id, partition, sinceMs) => found.tombstones.push([id, partition, sinceMs]),
  };
  expect(opened.reader.builtAtMs).toBe(HEADER.builtAtMs);
  while (opened.reader.next(chunk, visitor)) found.chunks += 1;
  trees.markReady();
  return found;
}

const historyArbitrary = fc.array(
  fc.record({
    key: fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h"),
    value: fc.string({ maxLength: 3 }),
    deleted: fc.boolean(),
    blind: fc.boolean(),
  }),
  { minLength: 1, maxLength: 40 },
);

describe("tree snapshots", () => {
  test.prop([historyArbitrary, fc.integer({ min: 1, max: 7 })], { numRuns: 40 })(
    "a snapshot restores the trees a rebuild from the same storage makes",
    async (history, chunk) => {
      const side = await makeSide("n1");
      for (const step of history) {
        // A blind write beside an earlier one leaves siblings; otherwise it supersedes it.
        const before = step.blind ? undefined : await side.replica.get("b", bytes(step.key));
        await write(side, step.key, step.value, {
          deleted: step.deleted,
          ...(before === undefined ? {} : { context: before.context }),
        });
      }
      const restored = new PartitionTrees(PARTITIONS);
      restore(snapshotOf(side.trees), restored, chunk);
      expect(summary(restored)).toEqual(summary(await rebuilt(side)));
    },
  );

  it("keys written or removed since the start win over the snapshot's copies", async () => {
    const side = await makeSide("n1");
    for (const key of ["a", "b", "c"]) await write(side, key, "old");
    const snapshot = snapshotOf(side.trees);
    const later = new PartitionTrees(PARTITIONS);
    const newer = await write(side, "a", "new", {
      context: (await side.replica.get("b", bytes("a")))!.context,
    });
    later.apply("b", bytes("a"), newer);
    later.apply("b", bytes("b"), undefined);
    expect(later.writtenBeforeReady("1:ba")).toBe(true);

    const found = restore(snapshot, later, 2);

    expect(found.superseded).toBe(2);
    expect(later.versionOf("b", bytes("a"))).toBe(side.trees.versionOf("b", bytes("a")));
    expect(later.versionOf("b", bytes("b"))).toBeUndefined();
    expect(later.versionOf("b", bytes("c"))).toBe(side.trees.versionOf("b", bytes("c")));
    expect(later.writtenBeforeReady("1:ba")).toBe(false);
  });

  it("carries the tombstone index: id, partition and time", async () => {
    const side = await makeSide("n1");
    await write(side, "a", "x");
    const tombstones: [string, number, number][] = [
      ["1:bgone", 3, 1_796_000_000_123],
      ["3:büřgone\u00ff", 7, 0],
    ];
    const found = restore(snapshotOf(side.trees, tombstones), new PartitionTrees(PARTITIONS), 1);
    expect(found.tombstones).toEqual(tombstones);
    expect(found.chunks).toBe(3);
  });

  it("refuses a snapshot that does not check, whole and with the reason", async () => {
    const side = await makeSide("n1");
    for (const key of ["a", "b", "c", "d"]) await write(side, key, "v");
    const good = snapshotOf(side.trees);
    const flipped = Buffer.from(good);
    flipped[60] = flipped[60]! ^ 0x01;
    const cases: [string, Buffer, Partial<SnapshotHeader>, string][] = [
      ["another storage state", good, { state: "log-v1 1:4096,17:301" }, "the storage changed"],
      ["a flipped byte", flipped, {}, "checksum mismatch"],
      ["cut short", good.subarray(0, good.length - 9), {}, "checksum mismatch"],
      ["another partition count", good, { partitionCount: 16 }, "another shape or partition"],
      ["another tree shape", good, { shape: { branchCount: 16, leavesPerBranch: 64 } }, "shape"],
      ["not a snapshot", Buffer.alloc(64), {}, "not a snapshot"],
      ["empty", Buffer.alloc(0), {}, "too short"],
    ];
    for (const [name, snapshot, expected, reason] of cases) {
      const opened = openSnapshot(snapshot, { ...HEADER, ...expected });
      expect(opened.ok, name).toBe(false);
      if (!opened.ok) expect(opened.reason, name).toContain(reason);
    }
  });

  it("refuses an entry outside the trees even under a good checksum", () => {
    const builder = new SnapshotBuilder(HEADER);
    builder.key("1:ba", 1, 2, PARTITIONS, 0);
    const opened = openSnapshot(builder.finish(), HEADER);
    expect(opened).toEqual({ ok: false, reason: `partition ${PARTITIONS} out of range` });
    const leafBuilder = new SnapshotBuilder(HEADER);
    leafBuilder.key("1:ba", 1, 2, 0, 1024);
    expect(openSnapshot(leafBuilder.finish(), HEADER)).toEqual({
      ok: false,
      reason: "leaf 1024 out of range",
    });
  });
});
