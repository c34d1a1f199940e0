// The sending side of hinted handoff (DESIGN §5): when the failure detector sees a primary up
// again, stream the hints held for it in batches over Handoff.Deliver, throttled in bytes per
// second; on each acknowledgement delete those hints and, where nothing newer arrived, this
// node's fallback copy. Delivery resumes from the durable hint store after a crash of either side.

import type { NodeId } from "../core/node-id.js";
import type { DvvSet } from "../core/dvv.js";
import { encodeObject } from "../core/object-codec.js";
import type { Replica } from "../replica.js";
import type { ClusterView } from "../cluster-view.js";
import type { Logger } from "../logger.js";
import type { Hint, HintStore } from "./hint-store.js";
import type { HintAck__Output } from "../../proto/generated/dkv/v1/HintAck.js";

/** Tunables of delivery; defaults in {@link DEFAULT_DELIVERY}. */
export interface DeliveryOptions {
  /** How often to look for primaries that are up and have hints. */
  readonly checkIntervalMs: number;
  /** Hints per batch on the stream. */
  readonly batchHintsMax: number;
  /**
   * Object bytes per batch: a batch stops before the hint that would pass it (one larger object
   * goes alone), so a batch stays well inside the internal message limit.
   */
  readonly batchBytesMax: number;
  /** Throttle: object bytes sent per second per target, so foreground traffic keeps its share. */
  readonly bytesPerSecond: number;
  /** Longest wait for one batch's acknowledgement. */
  readonly ackTimeoutMs: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  checkIntervalMs: 500,
  batchHintsMax: 128,
  batchBytesMax: 4 * 1024 * 1024,
  bytesPerSecond: 1024 * 1024,
  ackTimeoutMs: 10_000,
};

/** Delivery counters, for status and metrics. */
export interface DeliveryStats {
  delivered: number;
  deliveredBytes: number;
  copiesRemoved: number;
  failures: number;
}

/** Hands hints off to their primaries. */
export class HintDelivery {
  readonly #view: ClusterView;
  readonly #replica: Replica;
  readonly #hints: HintStore;
  readonly #logger: Logger;
  readonly #options: DeliveryOptions;
  readonly #active = new Set<NodeId>();
  readonly #isPrimaryOf: (bucket: string, key: Uint8Array) => boolean;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly stats: DeliveryStats = {
    delivered: 0,
    deliveredBytes: 0,
    copiesRemoved: 0,
    failures: 0,
  };

  constructor(options: {
    readonly view: ClusterView;
    readonly replica: Replica;
    readonly hints: HintStore;
    readonly logger: Logger;
    readonly delivery?: Partial<DeliveryOptions>;
    /** Whether this node is a primary of the key: then its copy is kept after handoff. */
    readonly isPrimaryOf: (bucket: string, key: Uint8Array) => boolean;
  }) {
    this.#isPrimaryOf = options.isPrimaryOf;
    this.#view = options.view;
    this.#replica = options.replica;
    this.#hints = options.hints;
    this.#logger = options.logger;
    this.#options = { ...DEFAULT_DELIVERY, ...options.delivery };
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), this.#options.checkIntervalMs);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  #tick(): void {
    const up = this.#view.upNodes();
    for (const target of this.#hints.targets()) {
      if (this.#active.has(target) || !up.has(target) || this.#view.peer(target) === undefined) {
        continue;
      }
      this.#active.add(target);
      this.deliver(target)
        .catch((error: unknown) => {
          this.stats.failures += 1;
          this.#logger.info({ target, err: error }, "hint delivery interrupted; will resume");
        })
        .finally(() => this.#active.delete(target));
    }
  }

  /** Delivers every hint pending for `target` over one stream; rejects if the stream breaks. */
  async deliver(target: NodeId): Promise<void> {
    const peer = this.#view.peer(target);
    if (peer === undefined) return;
    const pending = this.#hints.totals(target);
    this.#logger.info(
      { target, hints: pending.count, bytes: pending.bytes },
      "hint delivery started",
    );
    const stream = peer.handoff.Deliver();
    const acks = ackReader(stream);
    try {
      for (;;) {
        if (this.#closed) return;
        const hints = this.#hints.batch(target, this.#options.batchHintsMax);
        if (hints.length === 0) break;
        const startedMs = Date.now();
        const sent = await this.#sendBatch(stream, target, hints, acks);
        const budgetMs = (sent * 1000) / this.#options.bytesPerSecond;
        const waitMs = budgetMs - (Date.now() - startedMs);
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
      this.#logger.info({ target, delivered: this.stats.delivered }, "hint delivery finished");
      stream.end();
    } catch (error) {
      stream.cancel();
      throw error;
    }
  }

  /** Sends one batch and waits for its acknowledgement; returns the object bytes sent. */
  async #sendBatch(
    stream: ReturnType<NonNullable<ReturnType<ClusterView["peer"]>>["handoff"]["Deliver"]>,
    target: NodeId,
    hints: readonly Hint[],
    acks: () => Promise<HintAck__Output>,
  ): Promise<number> {
    const sent = new Map<number, { hint: Hint; object: DvvSet }>();
    const items = [];
    let bytes = 0;
    for (const hint of hints) {
      const object = await this.#replica.get(hint.bucket, hint.key);
      if (object === undefined) {
        // Nothing left to hand off (the copy was lost or already removed): drop the hint.
        await this.#hints.remove([hint]);
        continue;
      }
      const encoded = encodeObject(object);
      // The rest wait for the next batch: they are not sent, so their hints stay.
      if (items.length > 0 && bytes + encoded.length > this.#options.batchBytesMax) break;
      bytes += encoded.length;
      sent.set(hint.seq, { hint, object });
      items.push({ id: hint.seq, bucket: hint.bucket, key: hint.key, object: encoded });
    }
    if (items.length === 0) return 0;
    stream.write({ target, items });
    const ack = await withTimeout(acks(), this.#options.ackTimeoutMs, `hint ack from ${target}`);
    const acked = ack.ids.map((id) => sent.get(Number(id))).filter((entry) => entry !== undefined);
    const removed = await this.#hints.remove(acked.map((entry) => entry.hint));
    // The copies go concurrently, so the engine's group commit covers them with one fsync
    // instead of one each.
    const copies: Promise<boolean>[] = [];
    for (const hint of removed) {
      const entry = sent.get(hint.seq);
      this.stats.delivered += 1;
      if (entry === undefined || this.#hints.isHinted(hint.bucket, hint.key)) continue;
      if (this.#isPrimary(hint.bucket, hint.key)) continue;
      copies.push(this.#replica.removeIfUnchanged(hint.bucket, hint.key, entry.object));
    }
    for (const copyRemoved of await Promise.all(copies)) {
      if (copyRemoved) this.stats.copiesRemoved += 1;
    }
    this.stats.deliveredBytes += bytes;
    return bytes;
  }

  #isPrimary(bucket: string, key: Uint8Array): boolean {
    return this.#isPrimaryOf(bucket, key);
  }
}

/** Reads acknowledgements in order from a stream; rejects when the stream fails or ends. */
function ackReader(stream: NodeJS.EventEmitter): () => Promise<HintAck__Output> {
  const queued: HintAck__Output[] = [];
  const waiting: { resolve: (ack: HintAck__Output) => void; reject: (error: Error) => void }[] = [];
  let failure: Error | undefined;
  stream.on("data", (ack: HintAck__Output) => {
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter.resolve(ack);
    else queued.push(ack);
  });
  const fail = (error: Error): void => {
    failure = error;
    for (const waiter of waiting.splice(0)) waiter.reject(error);
  };
  stream.on("error", fail);
  stream.on("end", () => fail(new Error("handoff stream ended")));
  return () => {
    const ack = queued.shift();
    if (ack !== undefined) return Promise.resolve(ack);
    if (failure !== undefined) return Promise.reject(failure);
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}
