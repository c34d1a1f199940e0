// Goal: the per-partition trees stay equal to a rebuild from storage whatever the writes were,
// including writes made while the start-up rebuild is running, and are ready only once built.
// Method: real Replicas over memory storage, hooked to PartitionTrees through onWrite; fast-check
// for arbitrary histories of puts, deletes (tombstones), merges and removals.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { PartitionTrees } from "../../../../node/anti-entropy/partition-trees.js";
import type { StorageEntry } from "../../../../node/storage/storage.js";
import { keyHash, partitionOf } from "../../../../node/core/key-hash.js";
import { leafCount, leafOf } from "../../../../node/core/merkle-tree.js";
import { EMPTY_DVV_SET, update, type DvvSet } from "../../../../node/core/dvv.js";
import { EMPTY_CONTEXT } from "../../../../node/core/causal-context.js";
import { PARTITIONS, makeSide, replicate, write, type Side } from "./aae-test-helpers.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const noPause = (): Promise<void> => Promise.resolve();

async function rebuilt(side: Side): Promise<PartitionTrees> {
  const trees = new PartitionTrees(PARTITIONS);
  await trees.rebuild(side.storage.entries(), { chunkEntries: 3, pause: noPause });
  return trees;
}

/** Everything observable of the trees, as one comparable value. */
function summary(trees: PartitionTrees): unknown[] {
  const parts: unknown[] = [trees.keyCount];
  for (let partition = 0; partition < trees.partitionCount; partition++) {
    parts.push(trees.root(partition), Buffer.from(trees.branchHashes(partition)).toString("hex"));
    for (let leaf = 0; leaf < leafCount(trees.shape); leaf++) {
      const ids = trees.leafIds(partition, leaf);
      if (ids.length > 0) parts.push(leaf, ids.map((id) => [id, trees.versionOfId(id)]).sort());
    }
  }
  return parts;
}

function expectSameTrees(a: PartitionTrees, b: PartitionTrees): void {
  expect(summary(a)).toEqual(summary(b));
}

describe("PartitionTrees", () => {
  it("indexes a written key in its partition and leaf", async () => {
    const side = await makeSide("n1");
    await write(side, "k", "v");
    const hash = keyHash("b", bytes("k"));
    const partition = partitionOf(hash, PARTITIONS);
    const keys = side.trees.leafKeys(partition, leafOf(hash, side.trees.shape));
    expect(keys.map((entry) => Buffer.from(entry.key).toString())).toEqual(["k"]);
    expect(keys[0]!.version).toBe(side.trees.versionOf("b", bytes("k")));
    expect(side.trees.partitionKeyCount(partition)).toBe(1);
    expect(side.trees.root(partition)).not.toBe(0n);
  });

  it("changes a key's version hash on every write and forgets a removed key", async () => {
    const side = await makeSide("n1");
    const first = await write(side, "k", "v1");
    const before = side.trees.versionOf("b", bytes("k"));
    await write(side, "k", "v2", { context: first.context });
    expect(side.trees.versionOf("b", bytes("k"))).not.toBe(before);
    side.trees.apply("b", bytes("k"), undefined);
    expect(side.trees.versionOf("b", bytes("k"))).toBeUndefined();
    expect(side.trees.keyCount).toBe(0);
    for (let partition = 0; partition < PARTITIONS; partition++)
      expect(side.trees.root(partition)).toBe(0n);
  });

  it.each([
    { partitions: PARTITIONS, shape: undefined },
    { partitions: 4096, shape: { branchCount: 2, leavesPerBranch: 2 } },
  ])(
    "reuses removed keys' slots and grows past its first 1,024 keys as a fresh index would ($partitions partitions), and a snapshot of it restores the same",
    ({ partitions, shape }) => {
      // 3,000 keys (the slots start at 1,024 and double), every other one removed, 1,000 new
      // ones written into the freed slots, a third of the rest written again: the same trees as
      // applying only the final objects to fresh trees, and as restoring its snapshot entries.
      const objectOf = (text: string): DvvSet =>
        update(EMPTY_DVV_SET, EMPTY_CONTEXT, "n1.1", {
          value: bytes(text),
          contentType: "",
          metadata: {},
          lastModifiedMs: 1,
          deleted: false,
        }).object;
      const make = (): PartitionTrees => new PartitionTrees(partitions, shape);
      const incremental = make();
      incremental.markReady();
      const final = new Map<string, DvvSet>();
      const write = (key: string, object: DvvSet | undefined): void => {
        incremental.apply("b", bytes(key), object);
        if (object === undefined) final.delete(key);
        else final.set(key, object);
      };
      for (let index = 0; index < 3000; index++) write(`k${index}`, objectOf(`v${index}`));
      for (let index = 0; index < 3000; index += 2) write(`k${index}`, undefined);
      for (let index = 3000; index < 4000; index++) write(`k${index}`, objectOf(`v${index}`));
      for (let index = 1; index < 4000; index += 3) {
        if (final.has(`k${index}`)) write(`k${index}`, objectOf(`again${index}`));
      }
      const fresh = make();
      fresh.markReady();
      for (const [key, object] of final) fresh.apply("b", bytes(key), object);
      expect(incremental.keyCount).toBe(final.size);
      expectSameTrees(incremental, fresh);
      const restored = make();
      incremental.forEachKey((id, high, low, partition, leaf) => {
        expect(restored.restoreKey(id, high, low, partition, leaf)).toBe(true);
      });
      restored.markReady();
      expectSameTrees(restored, fresh);
    },
  );

  it("is not ready until a rebuild finishes, and a stopped rebuild leaves it not ready", async () => {
    const side = await makeSide("n1");
    await write(side, "a", "1");
    const stopped = new PartitionTrees(PARTITIONS);
    await stopped.rebuild(side.storage.entries(), {
      chunkEntries: 1,
      pause: noPause,
      stopped: () => true,
    });
    expect(stopped.ready).toBe(false);
    const trees = new PartitionTrees(PARTITIONS);
    expect(trees.ready).toBe(false);
    const report = await trees.rebuild(side.storage.entries(), { chunkEntries: 1, pause: noPause });
    expect(trees.ready).toBe(true);
    expect(report).toEqual({ entries: 1, unreadable: 0, superseded: 0 });
  });

  it("pauses between chunks of the rebuild", async () => {
    const side = await makeSide("n1");
    for (let index = 0; index < 10; index++) await write(side, `k${index}`, "v");
    let pauses = 0;
    const trees = new PartitionTrees(PARTITIONS);
    await trees.rebuild(side.storage.entries(), {
      chunkEntries: 3,
      pause: async () => {
        pauses += 1;
      },
    });
    expect(pauses).toBe(3);
  });

  it("keeps writes made during the rebuild instead of the older copies the scan reads", async () => {
    const side = await makeSide("n1");
    const old = await write(side, "k", "old");
    await write(side, "other", "x");
    // The scan hands out the stored copies one at a time; between them, "k" is overwritten
    // and a new key is written, with the listener feeding the trees being rebuilt.
    const snapshot: StorageEntry[] = [];
    for await (const entry of side.storage.entries()) snapshot.push(entry);
    const trees = new PartitionTrees(PARTITIONS);
    side.replica.onWrite((bucket, key, _before, after) => trees.apply(bucket, key, after));
    async function* slowScan(): AsyncIterable<StorageEntry> {
      for (const entry of snapshot) {
        await write(side, "k", "new", { context: old.context });
        await write(side, "fresh", "y");
        yield entry;
      }
    }
    const report = await trees.rebuild(slowScan(), { chunkEntries: 1, pause: noPause });
    expect(report.superseded).toBe(1);
    expectSameTrees(trees, await rebuilt(side));
  });

  it("leaves out entries that do not decode, so exchanges repair them", async () => {
    const side = await makeSide("n1");
    await write(side, "good", "v");
    await side.storage.put("b", bytes("bad"), new Uint8Array([9, 9, 9]), { durable: false });
    const trees = new PartitionTrees(PARTITIONS);
    const report = await trees.rebuild(side.storage.entries(), {
      chunkEntries: 10,
      pause: noPause,
    });
    expect(report.unreadable).toBe(1);
    expect(trees.keyCount).toBe(1);
  });

  type Op =
    | { kind: "put"; key: number; withContext: boolean; deleted: boolean; at: number }
    | { kind: "merge"; key: number; from: number }
    | { kind: "remove"; key: number };

  const op = fc.oneof(
    fc.record({
      kind: fc.constant("put" as const),
      key: fc.integer({ min: 0, max: 12 }),
      withContext: fc.boolean(),
      deleted: fc.boolean(),
      at: fc.integer({ min: 0, max: 1 }),
    }),
    fc.record({
      kind: fc.constant("merge" as const),
      key: fc.integer({ min: 0, max: 12 }),
      from: fc.integer({ min: 0, max: 1 }),
    }),
    fc.record({ kind: fc.constant("remove" as const), key: fc.integer({ min: 0, max: 12 }) }),
  );

  test.prop([fc.array(op, { maxLength: 40 })], { numRuns: 100 })(
    "incremental maintenance equals a rebuild after any history of puts, deletes and merges",
    async (ops) => {
      const sides = [await makeSide("n1"), await makeSide("n2")];
      for (const step of ops) {
        const key = `k${step.key}`;
        if (step.kind === "put") {
          const side = sides[step.at]!;
          const stored = await side.replica.get("b", bytes(key));
          const context = step.withContext ? stored?.context : undefined;
          await write(side, key, `v${ops.indexOf(step)}`, {
            deleted: step.deleted,
            ...(context ? { context } : {}),
          });
        } else if (step.kind === "merge") {
          const [from, to] = step.from === 0 ? [sides[0]!, sides[1]!] : [sides[1]!, sides[0]!];
          if ((await from.replica.get("b", bytes(key))) !== undefined)
            await replicate(from, to, key);
        } else {
          // Removal (a future reap): storage and trees forget the key.
          for (const side of sides) {
            await side.storage.remove("b", bytes(key), { durable: false });
            side.trees.apply("b", bytes(key), undefined);
          }
        }
      }
      for (const side of sides) expectSameTrees(side.trees, await rebuilt(side));
    },
  );
});
