// Goal: a node drops its copies of the partitions it no longer replicates under any claim, after
// the grace period, and counts them pending meanwhile (the reaper waits for them): at the
// retirement of a change, and when a force-remove committed mid-transition takes away a
// partition it was gaining (sim seed 2465: such a copy stayed for good and outlived a delete).
// It keeps what it still replicates, under the new claim or the one data moves from.
// Method: DropLoop over a Replica on memory storage, a hand-driven view whose layout the test
// changes (Q = 4, n = 1, so each partition has one owner), on a ManualClock.

import { describe, expect, it } from "vitest";
import { DropLoop } from "../../../../node/membership/drop-loop.js";
import type { MembershipView } from "../../../../node/membership/membership-view.js";
import type { Layout, LayoutMember } from "../../../../node/core/layout.js";
import { ringsOf } from "../../../../node/core/layout.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { partitionOfKey } from "../../../../node/core/key-hash.js";
import { silentLogger } from "../../../../node/logger.js";
import { Replica } from "../../../../node/replica.js";
import { MemoryStorage } from "../../../../node/storage/memory-storage.js";
import { EMPTY_CONTEXT } from "../../../../node/core/causal-context.js";
import { textVersion, utf8 } from "../core/dvv-test-helpers.js";
import { ManualClock } from "../manual-clock.js";

const [a, b, c] = ["a", "b", "c"].map(nodeId) as [NodeId, NodeId, NodeId];
const GRACE_MS = 1_000;

function layout(
  version: number,
  owners: readonly NodeId[],
  previousOwners?: readonly NodeId[],
): Layout {
  const members: LayoutMember[] = [a, b, c].map((node) => ({
    node,
    address: `${node}:1`,
    state: "valid",
  }));
  const base = { version, partitionCount: 4, targetN: 1, members, owners };
  return previousOwners === undefined ? base : { ...base, previousOwners };
}

/** A view of node c whose layout the test sets; listeners hear every change. */
class TestView implements MembershipView {
  readonly self = c;
  #layout: Layout;
  readonly #listeners: ((layout: Layout, before: Layout) => void)[] = [];
  constructor(initial: Layout) {
    this.#layout = initial;
  }
  get layout(): Layout {
    return this.#layout;
  }
  get ring() {
    return ringsOf(this.#layout).current;
  }
  get previousRing() {
    return ringsOf(this.#layout).previous;
  }
  upNodes(): ReadonlySet<NodeId> {
    return new Set([a, b, c]);
  }
  onLayoutChange(listener: (layout: Layout, before: Layout) => void): () => void {
    this.#listeners.push(listener);
    return () => undefined;
  }
  set(next: Layout): void {
    const before = this.#layout;
    this.#layout = next;
    for (const listener of this.#listeners) listener(next, before);
  }
}

/** A key of the test's bucket in `partition` (of 4). */
function keyIn(partition: number): Uint8Array {
  for (let index = 0; ; index++) {
    const key = utf8(`k${index}`);
    if (partitionOfKey("b", key, 4) === partition) return key;
  }
}

async function nodeC(initial: Layout) {
  const clock = new ManualClock();
  const storage = new MemoryStorage();
  await storage.open();
  const replica = new Replica(storage, "c.test", undefined, { clock });
  const view = new TestView(initial);
  const drops = new DropLoop({
    view,
    replica,
    hints: { isHinted: () => false },
    clock,
    logger: silentLogger(),
    graceMs: GRACE_MS,
  });
  const write = async (partition: number): Promise<Uint8Array> => {
    const key = keyIn(partition);
    const check = (): void => undefined;
    await replica.coordinate("b", key, EMPTY_CONTEXT, textVersion("v"), {
      durable: true,
      check,
    });
    return key;
  };
  const holds = async (key: Uint8Array): Promise<boolean> =>
    (await replica.get("b", key)) !== undefined;
  return { clock, view, drops, write, holds };
}

describe("DropLoop", () => {
  it("drops what a force-remove mid-transition took from a gaining node, after the grace", async () => {
    const v1 = layout(1, [a, a, b, b]);
    const node = await nodeC(v1);
    // v2: c replaces a as the owner of partition 0 (a transition from v1) and gets writes.
    node.view.set(layout(2, [c, a, b, b], v1.owners));
    const gained = await node.write(0);
    // v3: a force-remove of b, committed mid-transition: data moves from v1's claim again, and
    // the new claim no longer gives c partition 0.
    node.view.set(layout(3, [a, a, a, a], v1.owners));
    expect(node.drops.pending).toBe(1);
    await node.clock.advance(GRACE_MS);
    expect(await node.holds(gained)).toBe(false);
    expect(node.drops.pending).toBe(0);
    // The retirement that follows finds nothing more to drop.
    node.view.set(layout(4, [a, a, a, a]));
    expect(node.drops.pending).toBe(0);
  });

  it("drops at a retirement what the new claim leaves out, and keeps what it still owns", async () => {
    const v1 = layout(1, [c, c, b, b]);
    const node = await nodeC(v1);
    const [lost, kept] = [await node.write(0), await node.write(1)];
    // A commit starts a transition: nothing is lost while data moves from v1.
    node.view.set(layout(2, [a, c, b, b], v1.owners));
    expect(node.drops.pending).toBe(0);
    node.view.set(layout(3, [a, c, b, b]));
    expect(node.drops.pending).toBe(1);
    await node.clock.advance(GRACE_MS);
    expect(await node.holds(lost)).toBe(false);
    expect(await node.holds(kept)).toBe(true);
  });

  it("drops a copy that arrives in a lost partition after its drop, and holds reaping until then", async () => {
    // Sim seed 40799: after c dropped partition 0, a read repair from a coordinator that had not
    // heard of the change stored a copy there; it stayed for good while the primaries reaped
    // the key's tombstone.
    const v1 = layout(1, [c, c, b, b]);
    const node = await nodeC(v1);
    node.view.set(layout(2, [a, c, b, b], v1.owners));
    node.view.set(layout(3, [a, c, b, b]));
    await node.clock.advance(GRACE_MS);
    expect(node.drops.pending).toBe(0);
    const late = await node.write(0);
    expect(node.drops.pending).toBe(1);
    // A second stray write in the same partition waits for the same drop.
    await node.write(0);
    expect(node.drops.pending).toBe(1);
    await node.clock.advance(GRACE_MS);
    expect(await node.holds(late)).toBe(false);
    expect(node.drops.pending).toBe(0);
    // A copy in a partition c replicates schedules nothing.
    const owned = await node.write(1);
    expect(node.drops.pending).toBe(0);
    await node.clock.advance(GRACE_MS);
    expect(await node.holds(owned)).toBe(true);
  });

  it("keeps a partition it still serves as an old owner while data moves from it", async () => {
    const v1 = layout(1, [c, a, b, b]);
    const node = await nodeC(v1);
    const old = await node.write(0);
    // Moving away from c; then a force-remove mid-transition: data still moves from v1 (c).
    node.view.set(layout(2, [a, a, b, b], v1.owners));
    node.view.set(layout(3, [a, a, a, a], v1.owners));
    await node.clock.advance(GRACE_MS);
    expect(node.drops.pending).toBe(0);
    expect(await node.holds(old)).toBe(true);
  });
});
