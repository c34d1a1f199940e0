// Goal: a node's anti-entropy trees and tombstone index survive a clean stop: the next start
// loads them from the snapshot instead of reading every object, they equal a rebuild from the
// storage, and a write made before they are ready wins; when the storage changed after the stop
// the start rebuilds instead, as it does once the trees' last full build is older than the
// expiry (restores keep that time). A snapshot is used at most once.
// Method: the log engine in a temporary directory, a Replica and an AntiEntropy of one node (no
// peers, so no exchange runs) on the system clock, stopped and started as start-node.ts does:
// anti-entropy closed, storage closed, then saveSnapshot().

import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AntiEntropy } from "../../../../node/anti-entropy/anti-entropy.js";
import { PartitionTrees } from "../../../../node/anti-entropy/partition-trees.js";
import {
  TREE_SNAPSHOT_FILE,
  treeSnapshotFile,
} from "../../../../node/anti-entropy/tree-snapshot-file.js";
import { claimRing } from "../../../../node/core/ring.js";
import { nodeId } from "../../../../node/core/node-id.js";
import { EMPTY_CONTEXT, type CausalContext } from "../../../../node/core/causal-context.js";
import { Replica } from "../../../../node/replica.js";
import { SYSTEM_CLOCK } from "../../../../node/clock.js";
import { silentLogger } from "../../../../node/logger.js";
import type { LogStorage } from "../../../../node/storage/log-storage.js";
import {
  bytes,
  logStorageFixture,
  makeTempDir,
  removeDir,
} from "../storage/storage-test-helpers.js";

const n1 = nodeId("n1");
const PARTITIONS = 8;
const KEYS = 300;

interface Node {
  readonly storage: LogStorage;
  readonly replica: Replica;
  readonly antiEntropy: AntiEntropy;
}

describe("anti-entropy snapshots across a clean stop", () => {
  const log = logStorageFixture();
  let snapshotDir = "";
  beforeEach(async () => {
    snapshotDir = await makeTempDir("dkv-snapshot-");
  });
  afterEach(async () => {
    await removeDir(snapshotDir);
  });
  const snapshotPath = (): string => path.join(snapshotDir, TREE_SNAPSHOT_FILE);

  /** A node over the log in the test's directory; `before` runs before anti-entropy starts. */
  async function startNode(
    before?: (node: Node) => Promise<void>,
    treeExpiryMs = 3_600_000,
  ): Promise<Node> {
    const storage = await log.start();
    const replica = new Replica(storage, "n1.t");
    const antiEntropy = new AntiEntropy({
      view: {
        self: n1,
        ring: claimRing({ nodes: [n1], partitionCount: PARTITIONS, targetN: 1 }),
        upNodes: () => new Set([n1]),
        droppedPeers: () => [],
      },
      replica,
      primariesOf: () => [n1],
      logger: silentLogger(),
      exchanges: { open: () => Promise.reject(new Error("no peers")) } as never,
      reaps: {} as never,
      clock: SYSTEM_CLOCK,
      hints: { targets: () => [], totals: () => ({ count: 0, bytes: 0 }) },
      options: { rebuildChunkEntries: 16, treeExpiryMs },
      reap: { graceMs: 3_600_000, intervalMs: 3_600_000 },
      snapshots: treeSnapshotFile(snapshotDir),
    });
    replica.onWrite(antiEntropy.writeListener);
    replica.onRemove(antiEntropy.removeListener);
    const node = { storage, replica, antiEntropy };
    await before?.(node);
    antiEntropy.start();
    while (!antiEntropy.trees.ready) await new Promise((resolve) => setTimeout(resolve, 5));
    return node;
  }

  /** The stop of start-node.ts: anti-entropy, then storage, then the snapshot. */
  async function stopNode(node: Node): Promise<void> {
    await node.antiEntropy.close();
    await log.closeAll();
    await node.antiEntropy.saveSnapshot();
  }

  async function put(node: Node, key: string, deleted = false): Promise<void> {
    const context: CausalContext =
      (await node.replica.get("b", bytes(key)))?.context ?? EMPTY_CONTEXT;
    const version = { value: bytes(deleted ? "" : key), contentType: "", metadata: {} };
    await node.replica.coordinate(
      "b",
      bytes(key),
      context,
      { ...version, lastModifiedMs: Date.now(), deleted },
      { durable: false, check: () => undefined },
    );
  }

  /** The trees a rebuild from the node's storage makes, summarised. */
  async function rebuiltRoots(node: Node): Promise<unknown[]> {
    const trees = new PartitionTrees(PARTITIONS);
    await trees.rebuild(node.storage.entries(), { chunkEntries: 64, pause: async () => {} });
    return rootsOf(trees);
  }

  const rootsOf = (trees: PartitionTrees): unknown[] => [
    trees.keyCount,
    ...Array.from({ length: PARTITIONS }, (_, p) => trees.root(p)),
  ];

  it("loads the trees and tombstones the last stop kept, without reading the objects", async () => {
    const first = await startNode();
    for (let index = 0; index < KEYS; index++) await put(first, `k${index}`);
    await put(first, "k7", true);
    await put(first, "k8", true);
    expect(first.antiEntropy.reaper.count).toBe(2);
    const kept = rootsOf(first.antiEntropy.trees);
    await stopNode(first);
    expect(existsSync(snapshotPath())).toBe(true);

    // A write before the trees are ready, as a request served during the start would be.
    const second = await startNode((node) => put(node, "k9"));

    expect(second.storage.stats().details.scanWindows).toBe(0);
    expect(existsSync(snapshotPath())).toBe(false);
    expect(second.antiEntropy.reaper.count).toBe(2);
    expect(second.antiEntropy.trees.keyCount).toBe(KEYS);
    expect(rootsOf(second.antiEntropy.trees)).not.toEqual(kept);
    expect(rootsOf(second.antiEntropy.trees)).toEqual(await rebuiltRoots(second));
    await second.antiEntropy.close();
  });

  it("rebuilds from storage when the storage changed after the stop", async () => {
    const first = await startNode();
    for (let index = 0; index < 50; index++) await put(first, `k${index}`);
    await stopNode(first);
    // Written by something else between the stop and the start (no snapshot kept of it).
    const storage = await log.start();
    await new Replica(storage, "n1.other").coordinate(
      "b",
      bytes("intruder"),
      EMPTY_CONTEXT,
      { value: bytes("x"), contentType: "", metadata: {}, lastModifiedMs: 1, deleted: false },
      { durable: true, check: () => undefined },
    );
    await log.closeAll();

    const second = await startNode();

    expect(second.storage.stats().details.scanWindows).toBeGreaterThan(0);
    expect(existsSync(snapshotPath())).toBe(false);
    expect(second.antiEntropy.trees.keyCount).toBe(51);
    expect(rootsOf(second.antiEntropy.trees)).toEqual(await rebuiltRoots(second));
    await second.antiEntropy.close();
  });

  it("rebuilds, reading every object, once the trees' last build is older than the expiry", async () => {
    const first = await startNode();
    for (let index = 0; index < 20; index++) await put(first, `k${index}`);
    await stopNode(first);
    await new Promise((resolve) => setTimeout(resolve, 40));
    const second = await startNode();
    expect(second.storage.stats().details.scanWindows).toBe(0);
    await stopNode(second);

    // Restored trees keep the time of their last build: the first start's, over 40 ms ago,
    // though the second start loaded them only a moment ago.
    const third = await startNode(undefined, 30);

    expect(third.storage.stats().details.scanWindows).toBeGreaterThan(0);
    expect(rootsOf(third.antiEntropy.trees)).toEqual(await rebuiltRoots(third));
    await third.antiEntropy.close();
  });

  it("uses a snapshot once: a start after a crash rebuilds", async () => {
    const first = await startNode();
    for (let index = 0; index < 20; index++) await put(first, `k${index}`);
    await stopNode(first);
    const second = await startNode();
    expect(second.storage.stats().details.scanWindows).toBe(0);
    // A crash: no stop, so no snapshot; the storage is closed only to reopen it here.
    await second.antiEntropy.close();
    await log.closeAll();

    const third = await startNode();

    expect(third.storage.stats().details.scanWindows).toBeGreaterThan(0);
    expect(rootsOf(third.antiEntropy.trees)).toEqual(await rebuiltRoots(third));
    await third.antiEntropy.close();
  });
});
