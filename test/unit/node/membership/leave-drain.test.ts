// Goal: a leaving node stands in for no primary, and its change retires only once it has handed
// off every hint it held (simulation seed 33245: a replaced node took a w=1 write in a down
// primary's place, the change retired, the node was stopped, and the write was gone).
// Method: a committed leave of a (a, b, c, d → b, c, d) with every moving partition already
// marked transferred, so that only a's hints hold the retirement; the TransferLoop of a (or of
// c, which stays) with a real HintStore over a MemoryStorage, whose hint writes the test can
// hold at a gate, and that of b, the claimant, which retires; time a ManualClock.

import { describe, expect, it } from "vitest";
import { KvError } from "../../../../node/core/errors.js";
import { movingPartitions } from "../../../../node/core/layout.js";
import { commitStaged } from "../../../../node/core/layout-merge.js";
import { markTransferred } from "../../../../node/core/layout-progress.js";
import type { NodeId } from "../../../../node/core/node-id.js";
import { HintStore } from "../../../../node/hints/hint-store.js";
import { silentLogger } from "../../../../node/logger.js";
import { MetadataStore } from "../../../../node/membership/metadata-store.js";
import { TransferLoop } from "../../../../node/membership/transfer-loop.js";
import { MemoryStorage } from "../../../../node/storage/memory-storage.js";
import { ManualClock } from "../manual-clock.js";
import { storeView } from "./store-view.js";
import { cluster, id, leave, stage } from "../core/layout-fixtures.js";

const KEY = new TextEncoder().encode("k");

/** A memory engine whose puts wait while `held` is set. */
class GatedStorage extends MemoryStorage {
  held: Promise<void> | undefined;
  override async put(...args: Parameters<MemoryStorage["put"]>): ReturnType<MemoryStorage["put"]> {
    await this.held;
    return super.put(...args);
  }
}

/**
 * `before` runs on the hint store before the loops are made: what the node took while it did
 * not know yet that it was leaving.
 */
async function setup(
  self: NodeId,
  before: (hints: HintStore, storage: GatedStorage) => Promise<void> | void = () => undefined,
) {
  const clock = new ManualClock();
  const committed = commitStaged(stage(cluster("abcd", 16), leave("a")));
  const metadata = MetadataStore.inMemory(
    markTransferred(committed, movingPartitions(committed.layout)),
  );
  const up = new Set(["a", "b", "c", "d"].map(id));
  const viewOf = (node: NodeId) => storeView(metadata, node, up);
  const storage = new GatedStorage();
  const hints = new HintStore(storage, { bytesMaxPerTarget: 1 << 20 });
  await hints.open();
  await before(hints, storage);
  const loop = new TransferLoop({
    view: viewOf(self),
    metadata,
    exchange: () => Promise.reject(new Error("every partition is marked: nothing to confirm")),
    hints,
    clock,
    logger: silentLogger(),
  });
  // b, the claimant (the lowest valid member up), is the one that retires the change.
  const claimant = new TransferLoop({
    view: viewOf(id("b")),
    metadata,
    exchange: () => Promise.reject(new Error("every partition is marked: nothing to confirm")),
    clock,
    logger: silentLogger(),
  });
  claimant.start();
  const stateOf = (node: string): string | undefined =>
    metadata.current.layout.members.find((member) => member.node === node)?.state;
  const close = () => Promise.all([loop.close(), claimant.close()]);
  return { clock, metadata, hints, storage, loop, stateOf, close };
}

describe("a leaving node's hints", () => {
  it("hold its change until they are handed off; new stand-ins are refused meanwhile", async () => {
    const { clock, metadata, hints, loop, stateOf, close } = await setup(id("a"), (store) =>
      store.add(id("b"), "bucket", KEY, 10),
    );
    loop.start();
    await clock.advance(3_000);
    // Every partition moved, but a still holds a copy in b's place: the change waits.
    expect(metadata.current.layout.previousOwners).toBeDefined();
    expect(metadata.current.progress.drained).toBeUndefined();
    expect(stateOf("a")).toBe("leaving");
    const refused = await hints.add(id("c"), "bucket", KEY, 10).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KvError);
    expect((refused as KvError).code).toBe("overloaded");
    expect((refused as KvError).message).toBe(
      "node a is leaving the cluster and stands in for no other node",
    );
    expect(hints.pendingCount()).toBe(1);
    // Re-homing a copy it holds already (its primary left) is no new stand-in.
    await hints.add(id("c"), "bucket", KEY, 10, { rehome: true });
    await hints.remove(hints.batch(id("c"), 10));

    // Handed off: a marks itself drained, and the change retires.
    await hints.remove(hints.batch(id("b"), 10));
    await clock.advance(2_000);
    expect(stateOf("a")).toBe("removed");
    expect(metadata.current.layout.previousOwners).toBeUndefined();
    await close();
  });

  it("counts a hint still being written, taken before the node knew it was leaving", async () => {
    let open: () => void = () => undefined;
    let adding: Promise<void> = Promise.resolve();
    const { clock, metadata, hints, storage, loop, close } = await setup(id("a"), (store, disk) => {
      disk.held = new Promise<void>((resolve) => (open = resolve));
      adding = store.add(id("b"), "bucket", KEY, 10);
    });
    loop.start();
    await clock.advance(3_000);
    expect(hints.pendingCount()).toBe(0);
    expect(hints.isEmpty()).toBe(false);
    expect(metadata.current.layout.previousOwners).toBeDefined();
    storage.held = undefined;
    open();
    await adding;
    await clock.advance(2_000);
    expect(metadata.current.layout.previousOwners).toBeDefined();
    await hints.remove(hints.batch(id("b"), 10));
    await clock.advance(2_000);
    expect(metadata.current.layout.previousOwners).toBeUndefined();
    await close();
  });

  it("are refused from the loop's construction on, before its first tick (a restart)", async () => {
    const { hints, close } = await setup(id("a"));
    // Not started: a node that restarts serves before its loop's first tick.
    const refused = await hints.add(id("b"), "bucket", KEY, 10).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KvError);
    expect(hints.isEmpty()).toBe(true);
    await close();
  });

  it("are no concern of a member that stays: it takes hints and marks nothing", async () => {
    const { clock, metadata, hints, loop, close } = await setup(id("c"));
    loop.start();
    await clock.advance(2_000);
    await hints.add(id("c"), "bucket", KEY, 10);
    expect(hints.pendingCount()).toBe(1);
    // Only a's mark is missing, and only a can make it.
    expect(metadata.current.layout.previousOwners).toBeDefined();
    expect(metadata.current.progress.drained).toBeUndefined();
    await close();
  });
});
