// Goal: the hint store keeps hints durably per primary, bounds them in bytes, and never deletes
// a hint that was renewed while its delivery was in flight, from memory or from disk.
// Method: a HintStore over the real log engine in a temp dir, reopened to check durability.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { HintStore } from "../../../../node/hints/hint-store.js";
import { LogStorage } from "../../../../node/storage/log-storage.js";
import { nodeId } from "../../../../node/core/node-id.js";

let dir: string;
const n2 = nodeId("n2");
const n3 = nodeId("n3");
const key = (text: string): Uint8Array => Buffer.from(text);

async function open(bytesMaxPerTarget = 1000): Promise<HintStore> {
  const store = new HintStore(new LogStorage({ dir }), { bytesMaxPerTarget });
  await store.open();
  return store;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "dkv-hints-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("HintStore", () => {
  it("counts hints and bytes per primary and lists them oldest first", async () => {
    const store = await open();
    await store.add(n3, "b", key("k1"), 100);
    await store.add(n3, "b", key("k2"), 50);
    await store.add(n2, "b", key("k1"), 10);
    expect(store.totals(n3)).toEqual({ count: 2, bytes: 150 });
    expect(store.totals(n2)).toEqual({ count: 1, bytes: 10 });
    expect(store.batch(n3, 10).map((hint) => Buffer.from(hint.key).toString())).toEqual([
      "k1",
      "k2",
    ]);
    expect(store.targets().sort()).toEqual(["n2", "n3"]);
    await store.close();
  });

  it("keeps hints across a restart", async () => {
    const first = await open();
    await first.add(n3, "b", key("k1"), 100);
    await first.add(n3, "other", key("k2"), 20);
    await first.close();
    const second = await open();
    expect(second.totals(n3)).toEqual({ count: 2, bytes: 120 });
    expect(second.isHinted("other", key("k2"))).toBe(true);
    await second.remove(second.batch(n3, 10));
    await second.close();
    const third = await open();
    expect(third.totals(n3)).toEqual({ count: 0, bytes: 0 });
    await third.close();
  });

  it("bounds the bytes held for one primary", async () => {
    const store = await open(150);
    await store.add(n3, "b", key("k1"), 100);
    expect(store.hasRoom(n3, 50)).toBe(true);
    expect(store.hasRoom(n3, 51)).toBe(false);
    expect(store.hasRoom(n2, 150)).toBe(true);
    await store.close();
  });

  it("does not delete a hint renewed while its delivery was in flight", async () => {
    const store = await open();
    await store.add(n3, "b", key("k1"), 100);
    const inFlight = store.batch(n3, 10);
    await store.add(n3, "b", key("k1"), 120);
    expect(await store.remove(inFlight)).toEqual([]);
    expect(store.totals(n3)).toEqual({ count: 1, bytes: 120 });
    expect(await store.remove(store.batch(n3, 10))).toHaveLength(1);
    expect(store.isHinted("b", key("k1"))).toBe(false);
    await store.close();
  });

  it("does not delete a renewed hint from disk when its renewal and the removal overlap", async () => {
    // A fallback write re-hints a key for the same primary while the delivery of its previous
    // hint is being acknowledged: the removal of the old hint must not take the new one's
    // record with it, or a crash leaves the new write's copy with no hint to hand it off.
    const store = await open();
    await store.add(n3, "b", key("k1"), 100);
    const delivered = store.batch(n3, 10);
    const renewal = store.add(n3, "b", key("k1"), 120);
    const removal = store.remove(delivered);
    await renewal;
    expect(await removal).toEqual([]);
    expect(store.totals(n3)).toEqual({ count: 1, bytes: 120 });
    await store.close();
    const reopened = await open();
    expect(reopened.totals(n3)).toEqual({ count: 1, bytes: 120 });
    await reopened.close();
  });
});
