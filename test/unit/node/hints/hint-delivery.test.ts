// Goal: a handoff batch stays within its byte bound (batchBytesMax), so a batch of large objects
// never approaches the internal message limit; hints left out of a batch wait for the next.
// Method: HintDelivery over a real Replica and HintStore on memory storage, and a fake Handoff
// stream that records every batch written and acknowledges all of it.

import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { HintDelivery } from "../../../../node/hints/hint-delivery.js";
import { HintStore } from "../../../../node/hints/hint-store.js";
import { Replica } from "../../../../node/replica.js";
import { MemoryStorage } from "../../../../node/storage/memory-storage.js";
import { EMPTY_CONTEXT } from "../../../../node/core/causal-context.js";
import { nodeId } from "../../../../node/core/node-id.js";
import { silentLogger } from "../../../../node/logger.js";
import type { ClusterView } from "../../../../node/cluster-view.js";

const accept = { durable: false, check: () => undefined } as const;

/** A Handoff.Deliver stream that acknowledges every batch at once. */
class FakeDeliverStream extends EventEmitter {
  readonly batches: { items: { id: number; object: Uint8Array }[] }[] = [];
  write(batch: { items: { id: number; object: Uint8Array }[] }): void {
    this.batches.push(batch);
    queueMicrotask(() => this.emit("data", { ids: batch.items.map((item) => item.id) }));
  }
  end(): void {}
  cancel(): void {}
}

describe("HintDelivery", () => {
  it("keeps every batch within batchBytesMax; the hints left out go in the next", async () => {
    const storage = new MemoryStorage();
    await storage.open();
    const replica = new Replica(storage, "n1.test");
    const hints = new HintStore(new MemoryStorage(), { bytesMaxPerTarget: 1024 * 1024 * 1024 });
    await hints.open();
    const target = nodeId("n2");
    for (let index = 0; index < 5; index++) {
      const key = Buffer.from(`k${index}`);
      const value = { value: new Uint8Array(1000), contentType: "", metadata: {} };
      const version = { ...value, lastModifiedMs: 1, deleted: false };
      await replica.coordinate("b", key, EMPTY_CONTEXT, version, accept);
      await hints.add(target, "b", key, 1000);
    }
    const stream = new FakeDeliverStream();
    const view = {
      peer: () => ({ handoff: { Deliver: () => stream } }),
    } as unknown as ClusterView;
    const delivery = new HintDelivery({
      view,
      replica,
      hints,
      logger: silentLogger(),
      isPrimaryOf: () => true,
      delivery: { batchBytesMax: 2500, bytesPerSecond: 1e12 },
    });
    await delivery.deliver(target);
    const sizes = stream.batches.map((batch) =>
      batch.items.reduce((bytes, item) => bytes + item.object.length, 0),
    );
    expect(stream.batches.map((batch) => batch.items.length)).toEqual([2, 2, 1]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2500);
    expect(hints.totals(target).count).toBe(0);
    expect(delivery.stats.delivered).toBe(5);
  });
});
