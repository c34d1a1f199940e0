// Hint delivery in the simulation: a stand-in for node/hints/hint-delivery.ts, whose loop is
// bound to gRPC streams, setInterval and Date.now. It follows that file's steps on the real
// HintStore and Replica: batch the hints of an up primary, send the objects, and on the
// durable acknowledgement remove the hints and, where nothing newer arrived, the fallback copy.

import type { NodeId } from "../../node/core/node-id.js";
import type { DvvSet } from "../../node/core/dvv.js";
import type { Hint } from "../../node/hints/hint-store.js";
import type { SimProcess } from "./sim-process.js";
import type { WireHintItem } from "./sim-endpoint.js";

/** Hints per batch (DEFAULT_DELIVERY.batchHintsMax is 128; smaller batches interleave more). */
const BATCH_HINTS_MAX = 8;
/** Longest wait for one batch's acknowledgement (virtual ms). */
const ACK_TIMEOUT_MS = 2000;

/** Delivers the hints of one process, one stream per primary at a time. */
export class SimHandoff {
  readonly #process: SimProcess;
  readonly #active = new Set<NodeId>();
  readonly stats = { delivered: 0, copiesRemoved: 0, interrupted: 0 };

  constructor(process: SimProcess) {
    this.#process = process;
  }

  /** HintDelivery's tick: start delivery to every primary that is up and has hints. */
  tick(): void {
    const up = this.#process.upNodes();
    for (const target of this.#process.hints.targets()) {
      if (this.#active.has(target) || !up.has(target)) continue;
      this.#active.add(target);
      void this.#deliver(target).finally(() => this.#active.delete(target));
    }
  }

  /** True while a delivery is running. */
  get busy(): boolean {
    return this.#active.size > 0;
  }

  async #deliver(target: NodeId): Promise<void> {
    const hints = this.#process.hints;
    for (;;) {
      const batch = hints.batch(target, BATCH_HINTS_MAX);
      if (batch.length === 0) return;
      if (!(await this.#sendBatch(target, batch))) {
        this.stats.interrupted += 1;
        return;
      }
    }
  }

  /** Sends one batch and applies its acknowledgement; false when the stream broke. */
  async #sendBatch(target: NodeId, batch: readonly Hint[]): Promise<boolean> {
    const process = this.#process;
    const sent = new Map<number, { hint: Hint; object: DvvSet }>();
    const items: WireHintItem[] = [];
    for (const hint of batch) {
      const object = await process.replica.get(hint.bucket, hint.key);
      if (object === undefined) {
        await process.hints.remove([hint]);
        continue;
      }
      sent.set(hint.seq, { hint, object });
      items.push({ id: hint.seq, bucket: hint.bucket, key: hint.key, object });
    }
    if (items.length === 0) return true;
    const result = await process.network.call({
      from: process.self,
      fromIncarnation: process.incarnation,
      to: target,
      kind: "handoff",
      deadlineMs: process.clock.toVirtualMs(process.clock.nowMs() + ACK_TIMEOUT_MS),
      idempotent: true,
      handle: (endpoint) => endpoint.handoff(target, items),
    });
    if (!result.ok || !result.value.ok) return false;
    const acked = result.value.ids.map((id) => sent.get(id)).filter((entry) => entry !== undefined);
    const removed = await process.hints.remove(acked.map((entry) => entry.hint));
    for (const hint of removed) {
      const entry = sent.get(hint.seq);
      this.stats.delivered += 1;
      if (entry === undefined || process.hints.isHinted(hint.bucket, hint.key)) continue;
      if (process.coordinator.isPrimaryOf(hint.bucket, hint.key, process.bucket.n)) continue;
      if (await process.replica.removeIfUnchanged(hint.bucket, hint.key, entry.object)) {
        this.stats.copiesRemoved += 1;
      }
    }
    return true;
  }
}
