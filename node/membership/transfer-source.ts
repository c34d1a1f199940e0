// The sending side of ownership transfer: serves a node that gains a partition in the change
// under way the partition's objects, in the stream order of node/core/transfer-cursor.ts, from
// the cursor it names. Bounded: at most `streamsMax` streams at once (Riak's handoff
// concurrency), every stream's bytes paced by one token bucket of `bytesPerSecond` for the node,
// about one batch in memory per stream. Transport-free: transfer-server.ts is its gRPC adapter.

import { yieldTo, type Clock } from "../clock.js";
import { KvError } from "../core/errors.js";
import type { NodeId } from "../core/node-id.js";
import { leafCount } from "../core/merkle-tree.js";
import { planTransition, type PartitionMove } from "../core/cluster-plan.js";
import { idsAfter, type TransferCursor } from "../core/transfer-cursor.js";
import type { PartitionTrees } from "../anti-entropy/partition-trees.js";
import { TokenBucket } from "../anti-entropy/token-bucket.js";
import type { Replica } from "../replica.js";
import { parseStorageKeyString } from "../storage/storage-key.js";
import type { MembershipView } from "./membership-view.js";

/** One batch of a partition's stream. */
export interface TransferBatchOut {
  readonly objects: readonly { bucket: string; key: Uint8Array; object: Uint8Array }[];
  /** The cursor once these objects are stored. */
  readonly cursor: TransferCursor;
  readonly done: boolean;
  /** Keys after the cursor when the batch was made. */
  readonly keysLeft: number;
  readonly throttledMs: number;
}

/** Bounds of a batch: the anti-entropy repair message's. */
export const TRANSFER_BATCH_OBJECTS_MAX = 256;
export const TRANSFER_BATCH_BYTES_MAX = 1024 * 1024;
/** The smallest byte bound a low throttle makes a batch (about 16 objects of 1 KiB). */
export const TRANSFER_BATCH_BYTES_MIN = 16 * 1024;
/**
 * Objects read (source) or merged (receiver) between two yields to the event loop. Small reads
 * are synchronous and a merge resolves in microtasks, so a batch done in one go holds every
 * foreground request behind it; a yield every 16 objects bounds that hold to a fraction of a
 * millisecond's work per object times 16.
 */
export const TRANSFER_OBJECTS_PER_YIELD = 16;

/** A batch's byte bound at a throttle of `rate` bytes/s (0: unthrottled): 1/16 s of it. */
export function transferBatchBytes(rate: number): number {
  if (rate <= 0) return TRANSFER_BATCH_BYTES_MAX;
  return Math.min(
    TRANSFER_BATCH_BYTES_MAX,
    Math.max(TRANSFER_BATCH_BYTES_MIN, Math.floor(rate / 16)),
  );
}

/** The throttle's burst at both ends: one batch, never more than a second's bytes. */
export function transferBurstBytes(rate: number): number {
  return Math.min(rate, transferBatchBytes(rate));
}

/** Default bounds of a node's transfers (both ends). */
export const TRANSFER_DEFAULTS = Object.freeze({
  /** Streams at once, sending and receiving each (Riak's handoff_concurrency is 2). */
  streamsMax: 2,
  /** Bytes per second a node sends over all its streams, and receives; 0 = unthrottled. */
  bytesPerSecond: 1024 * 1024,
});

/** Counters of the sending side. */
export interface TransferSourceStats {
  active: number;
  keysSent: number;
  bytesSent: number;
  refusedBusy: number;
}

/** Serves the partitions this node holds to the nodes that gain them. */
export class TransferSource {
  readonly stats: TransferSourceStats = { active: 0, keysSent: 0, bytesSent: 0, refusedBusy: 0 };
  readonly #view: MembershipView;
  readonly #trees: PartitionTrees;
  readonly #replica: Pick<Replica, "getEncoded">;
  readonly #clock: Clock;
  readonly #streamsMax: number;
  readonly #bucket: TokenBucket | undefined;
  /**
   * A batch's bytes: at most 1/16 s at the throttle (64 KiB at 1 MiB/s), so the bytes arrive
   * evenly spread and each batch's storing and fsync at the receiver is a small step.
   */
  readonly #batchBytesMax: number;
  #moves: { version: number; byPartition: Map<number, PartitionMove> } | undefined;

  constructor(options: {
    readonly view: MembershipView;
    readonly trees: PartitionTrees;
    readonly replica: Pick<Replica, "getEncoded">;
    readonly clock: Clock;
    readonly streamsMax?: number;
    readonly bytesPerSecond?: number;
  }) {
    this.#view = options.view;
    this.#trees = options.trees;
    this.#replica = options.replica;
    this.#clock = options.clock;
    this.#streamsMax = options.streamsMax ?? TRANSFER_DEFAULTS.streamsMax;
    const rate = options.bytesPerSecond ?? TRANSFER_DEFAULTS.bytesPerSecond;
    this.#batchBytesMax = transferBatchBytes(rate);
    // A burst of one batch, never more than a second's bytes (at a low rate a batch is more):
    // with a second's burst, every stream sent a second's bytes at once when it started or
    // resumed after a pause, where the pace is meant to be even.
    this.#bucket =
      rate > 0 ? new TokenBucket(rate, transferBurstBytes(rate), options.clock) : undefined;
  }

  /**
   * The batches of `partition` after `cursor` for `from`. Throws a KvError before the first
   * batch when the request does not fit the change under way (precondition-failed), this node
   * is at its stream limit (overloaded) or its trees are rebuilding (unavailable).
   */
  async *batches(
    request: {
      readonly layoutVersion: number;
      readonly partition: number;
      readonly cursor: TransferCursor;
    },
    from: NodeId,
    signal: AbortSignal,
  ): AsyncGenerator<TransferBatchOut> {
    this.#check(request, from);
    if (this.stats.active >= this.#streamsMax) {
      this.stats.refusedBusy += 1;
      throw new KvError(
        "overloaded",
        `transfer limit: ${this.#view.self} already sends ${this.stats.active} partitions (at most ${this.#streamsMax})`,
      );
    }
    this.stats.active += 1;
    try {
      yield* this.#stream(request.partition, request.cursor, signal);
    } finally {
      this.stats.active -= 1;
    }
  }

  async *#stream(
    partition: number,
    from: TransferCursor,
    signal: AbortSignal,
  ): AsyncGenerator<TransferBatchOut> {
    const leaves = leafCount(this.#trees.shape);
    let objects: { bucket: string; key: Uint8Array; object: Uint8Array }[] = [];
    let bytes = 0;
    let cursor = from;
    let read = 0;
    for (let leaf = from.leaf; leaf < leaves; leaf++) {
      const ids = idsAfter(
        this.#trees.leafIds(partition, leaf),
        leaf === from.leaf ? from.afterId : undefined,
      );
      for (const [index, id] of ids.entries()) {
        if (signal.aborted) return;
        if ((read += 1) % TRANSFER_OBJECTS_PER_YIELD === 0) await yieldTo(this.#clock);
        const { bucket, key } = parseStorageKeyString(id);
        const encoded = await this.#replica.getEncoded(bucket, key);
        cursor = { leaf, afterId: id };
        // Gone since the leaf was listed (a handed-off copy removed): nothing to send.
        if (encoded === undefined) continue;
        objects.push({ bucket, key, object: encoded });
        bytes += encoded.length;
        if (objects.length >= TRANSFER_BATCH_OBJECTS_MAX || bytes >= this.#batchBytesMax) {
          const keysLeft = ids.length - index - 1 + this.#keysFrom(partition, leaf + 1);
          yield await this.#batch(objects, bytes, cursor, false, keysLeft, signal);
          objects = [];
          bytes = 0;
        }
      }
      cursor = { leaf: leaf + 1, afterId: undefined };
    }
    yield await this.#batch(objects, bytes, { leaf: leaves, afterId: undefined }, true, 0, signal);
  }

  async #batch(
    objects: { bucket: string; key: Uint8Array; object: Uint8Array }[],
    bytes: number,
    cursor: TransferCursor,
    done: boolean,
    keysLeft: number,
    signal: AbortSignal,
  ): Promise<TransferBatchOut> {
    const startedMs = this.#clock.monotonicMs();
    if (this.#bucket !== undefined && bytes > 0) await this.#bucket.take(bytes, signal);
    this.stats.keysSent += objects.length;
    this.stats.bytesSent += bytes;
    const throttledMs = Math.round(this.#clock.monotonicMs() - startedMs);
    return { objects, cursor, done, keysLeft, throttledMs };
  }

  /** Keys this node holds in `partition`'s leaves from `leaf` on. */
  #keysFrom(partition: number, leaf: number): number {
    let keys = 0;
    const leaves = leafCount(this.#trees.shape);
    for (let at = leaf; at < leaves; at++) keys += this.#trees.leafIds(partition, at).length;
    return keys;
  }

  #check(
    request: {
      readonly layoutVersion: number;
      readonly partition: number;
      readonly cursor: TransferCursor;
    },
    from: NodeId,
  ): void {
    const { layoutVersion, partition, cursor } = request;
    const view = this.#view;
    if (!this.#trees.ready) {
      throw new KvError(
        "unavailable",
        `transfer: ${view.self}'s anti-entropy trees are rebuilding`,
      );
    }
    if (layoutVersion !== view.layout.version) {
      throw new KvError(
        "precondition-failed",
        `transfer: ${view.self} follows layout version ${view.layout.version}, not ${layoutVersion}`,
      );
    }
    if (!(Number.isInteger(partition) && partition >= 0 && partition < view.ring.partitionCount)) {
      throw new KvError("invalid-argument", `transfer: partition ${partition} is not in the ring`);
    }
    const leaves = leafCount(this.#trees.shape);
    if (!(Number.isInteger(cursor.leaf) && cursor.leaf >= 0 && cursor.leaf <= leaves)) {
      throw new KvError("invalid-argument", `transfer: leaf ${cursor.leaf} is not in 0..${leaves}`);
    }
    const move = this.#moveOf(partition);
    if (move === undefined || !move.gaining.includes(from)) {
      throw new KvError(
        "precondition-failed",
        `transfer: ${from} gains no partition ${partition} in layout version ${layoutVersion}`,
      );
    }
    if (!move.from.includes(view.self)) {
      throw new KvError(
        "precondition-failed",
        `transfer: ${view.self} is no old primary of partition ${partition}`,
      );
    }
  }

  #moveOf(partition: number): PartitionMove | undefined {
    const { layout, previousRing, ring } = this.#view;
    if (previousRing === undefined) return undefined;
    if (this.#moves?.version !== layout.version) {
      const plan = planTransition({ previous: previousRing, next: ring, n: layout.targetN });
      this.#moves = {
        version: layout.version,
        byPartition: new Map(plan.moves.map((move) => [move.partition, move])),
      };
    }
    return this.#moves.byPartition.get(partition);
  }
}
