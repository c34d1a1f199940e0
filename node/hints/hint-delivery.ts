// The sending side of hinted handoff (DESIGN §5): when the failure detector sees a primary up
// again, send the hints held for it in batches, throttled in bytes per second; on each durable
// acknowledgement retire those hints, and with a key's last hint this node's fallback copy.
// Delivery resumes from the durable hint store after a crash of either side. The primary is
// reached through a HandoffPort (Handoff.Deliver over gRPC in production: handoff-client.ts)
// and all time comes from the injected clock.

import type { NodeId } from "../core/node-id.js";
import type { DvvSet } from "../core/dvv.js";
import { encodeObject } from "../core/object-codec.js";
import type { Clock } from "../clock.js";
import type { Replica } from "../replica.js";
import type { Logger } from "../logger.js";
import { KeyQueue } from "../key-queue.js";
import { hintId, type Hint, type HintStore } from "./hint-store.js";

/** One hint on its way to its primary: the sender's id for it and the object's bytes. */
export interface HandoffItem {
  readonly id: number;
  readonly bucket: string;
  readonly key: Uint8Array;
  /** The encoded object (object-codec.ts) this node holds for the key. */
  readonly object: Uint8Array;
}

/** One delivery conversation with a primary: batches go out and are acknowledged in order. */
export interface HandoffStream {
  /**
   * Sends one batch. Resolves with the ids the primary acknowledged: it acknowledges a hint
   * only once its object is merged there and durable (handoff-server.ts). Rejects when the
   * conversation breaks. HintDelivery bounds the wait (ackTimeoutMs).
   */
  send(target: NodeId, items: readonly HandoffItem[]): Promise<readonly number[]>;
  /** Closes the conversation after its last acknowledgement. */
  end(): void;
  /** Abandons the conversation (it failed, or an acknowledgement is overdue). */
  cancel(): void;
}

/** How hint delivery reaches primaries. */
export interface HandoffPort {
  /** Opens a conversation with `target`, or undefined when it cannot be called now. */
  open(target: NodeId): HandoffStream | undefined;
}

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
  /**
   * Test-only breakage, never set in production: the simulation's `hint-early-delete` mutation,
   * which deletes a batch's hints (and fallback copies) once it is sent, before the primary's
   * durable acknowledgement, to show that the simulation catches the writes this loses.
   */
  readonly deleteBeforeAck: boolean;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  checkIntervalMs: 500,
  batchHintsMax: 128,
  batchBytesMax: 4 * 1024 * 1024,
  bytesPerSecond: 1024 * 1024,
  ackTimeoutMs: 10_000,
  deleteBeforeAck: false,
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
  readonly #view: { upNodes(): ReadonlySet<NodeId> };
  readonly #replica: Replica;
  readonly #hints: HintStore;
  readonly #port: HandoffPort;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #options: DeliveryOptions;
  readonly #active = new Set<NodeId>();
  /** Retirements of one key, one at a time: deliveries to two primaries may end together. */
  readonly #retiring = new KeyQueue();
  readonly #isPrimaryOf: (bucket: string, key: Uint8Array) => boolean;
  readonly #membership:
    | {
        isMember(node: NodeId): boolean;
        primariesOf(bucket: string, key: Uint8Array): readonly NodeId[];
        readonly self: NodeId;
      }
    | undefined;
  #cancelTimer: (() => void) | undefined;
  #closed = false;
  readonly stats: DeliveryStats = {
    delivered: 0,
    deliveredBytes: 0,
    copiesRemoved: 0,
    failures: 0,
  };

  constructor(options: {
    /** Who the failure detector believes up (ClusterView in production). */
    readonly view: { upNodes(): ReadonlySet<NodeId> };
    readonly replica: Replica;
    readonly hints: HintStore;
    /** Reaches primaries (GrpcHandoffPort in production). */
    readonly port: HandoffPort;
    /** The check interval, the throttle and the acknowledgement deadline. */
    readonly clock: Clock;
    readonly logger: Logger;
    readonly delivery?: Partial<DeliveryOptions>;
    /** Whether this node is a primary of the key: then its copy is kept after handoff. */
    readonly isPrimaryOf: (bucket: string, key: Uint8Array) => boolean;
    /**
     * Membership: hints for a node removed from the cluster go to a current primary of their
     * key instead (or are dropped when this node is one). Absent: members never change.
     */
    readonly membership?: {
      isMember(node: NodeId): boolean;
      primariesOf(bucket: string, key: Uint8Array): readonly NodeId[];
      readonly self: NodeId;
    };
  }) {
    this.#isPrimaryOf = options.isPrimaryOf;
    this.#membership = options.membership;
    this.#view = options.view;
    this.#replica = options.replica;
    this.#hints = options.hints;
    this.#port = options.port;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#options = { ...DEFAULT_DELIVERY, ...options.delivery };
  }

  /** Looks for primaries to deliver to every checkInterval, from one interval on. */
  start(): void {
    if (this.#closed) return;
    this.#cancelTimer = this.#clock.setTimer(this.#options.checkIntervalMs, () => {
      this.#tick();
      this.start();
    });
  }

  close(): void {
    this.#closed = true;
    this.#cancelTimer?.();
  }

  #tick(): void {
    const up = this.#view.upNodes();
    for (const target of this.#hints.targets()) {
      if (this.#active.has(target)) continue;
      if (this.#membership !== undefined && !this.#membership.isMember(target)) {
        this.#active.add(target);
        this.#rehome(target)
          .catch((error: unknown) =>
            this.#logger.warn({ target, err: error }, "re-homing hints of a removed node failed"),
          )
          .finally(() => this.#active.delete(target));
        continue;
      }
      if (!up.has(target)) continue;
      this.#active.add(target);
      this.deliver(target)
        .catch((error: unknown) => {
          this.stats.failures += 1;
          this.#logger.info({ target, err: error }, "hint delivery interrupted; will resume");
        })
        .finally(() => this.#active.delete(target));
    }
  }

  /**
   * Delivers every hint pending for `target` over one conversation; resolves at once when the
   * port cannot reach it, rejects if the conversation breaks.
   */
  async deliver(target: NodeId): Promise<void> {
    const stream = this.#port.open(target);
    if (stream === undefined) return;
    const pending = this.#hints.totals(target);
    this.#logger.info(
      { target, hints: pending.count, bytes: pending.bytes },
      "hint delivery started",
    );
    try {
      for (;;) {
        if (this.#closed) return;
        const hints = this.#hints.batch(target, this.#options.batchHintsMax);
        if (hints.length === 0) break;
        const startedMs = this.#clock.monotonicMs();
        const sent = await this.#sendBatch(stream, target, hints);
        const budgetMs = (sent * 1000) / this.#options.bytesPerSecond;
        const waitMs = budgetMs - (this.#clock.monotonicMs() - startedMs);
        if (waitMs > 0) await this.#clock.sleep(waitMs);
      }
      this.#logger.info({ target, delivered: this.stats.delivered }, "hint delivery finished");
      stream.end();
    } catch (error) {
      stream.cancel();
      throw error;
    }
  }

  /** Re-homes `hint` when its target is no longer a primary of its key; true when it did. */
  async #rehomedIfNotPrimary(hint: Hint): Promise<boolean> {
    const membership = this.#membership;
    if (membership === undefined) return false;
    const primaries = membership.primariesOf(hint.bucket, hint.key);
    if (primaries.includes(hint.target)) return false;
    await this.#rehomeOne(hint, primaries);
    return true;
  }

  /** Moves one hint to the first current primary, or drops it when this node is a primary. */
  async #rehomeOne(hint: Hint, primaries: readonly NodeId[]): Promise<"moved" | "dropped"> {
    const membership = this.#membership!;
    const to = primaries.find((node) => node !== membership.self && membership.isMember(node));
    const moved = !primaries.includes(membership.self) && to !== undefined;
    if (moved) await this.#hints.add(to, hint.bucket, hint.key, hint.bytes, { rehome: true });
    await this.#hints.remove([hint]);
    return moved ? "moved" : "dropped";
  }

  /**
   * The hints of a node that left the cluster: each moves to the first current primary of its
   * key (the copy here is then handed off to it), or is dropped when this node is a primary
   * (its copy is a primary copy now). A copy never stays hinted for a node that will not return.
   */
  async #rehome(target: NodeId): Promise<void> {
    const membership = this.#membership;
    if (membership === undefined) return;
    let [moved, dropped] = [0, 0];
    for (;;) {
      const hints = this.#hints.batch(target, this.#options.batchHintsMax);
      if (hints.length === 0 || this.#closed) break;
      for (const hint of hints) {
        const outcome = await this.#rehomeOne(hint, membership.primariesOf(hint.bucket, hint.key));
        if (outcome === "moved") moved += 1;
        else dropped += 1;
      }
    }
    this.#logger.info({ target, moved, dropped }, "hints of a removed node re-homed");
  }

  /** Sends one batch and waits for its acknowledgement; returns the object bytes sent. */
  async #sendBatch(stream: HandoffStream, target: NodeId, hints: readonly Hint[]): Promise<number> {
    const sent = new Map<number, { hint: Hint; object: DvvSet }>();
    const items: HandoffItem[] = [];
    let bytes = 0;
    for (const hint of hints) {
      // A membership change since the hint was written may have made the target no primary
      // of the key: the copy goes to a current primary instead, never to a node that would
      // drop it (or keep it where no read looks).
      if (await this.#rehomedIfNotPrimary(hint)) continue;
      // In the key's turn: a fallback write records its hint before it stores the copy, so a
      // plain read could come between the two, find no copy, and drop the hint of a copy that
      // lands a moment later, which then no hint accounts for (never handed off).
      const object = await this.#replica.getSettled(hint.bucket, hint.key);
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
    // The rule of handoff: a hint is deleted only once the primary's acknowledgement names it,
    // and the primary acknowledges only what it has made durable. Until then (and when the
    // acknowledgement never comes) every hint of the batch stays, to be sent again.
    const acknowledgement = stream.send(target, items);
    let ackedIds: readonly number[];
    if (this.#options.deleteBeforeAck) {
      acknowledgement.catch(() => undefined);
      ackedIds = items.map((item) => item.id);
    } else {
      ackedIds = await this.#withTimeout(
        acknowledgement,
        this.#options.ackTimeoutMs,
        `hint ack from ${target}`,
      );
    }
    // The hints go concurrently, so each engine's group commit covers their writes with one
    // fsync instead of one each.
    const acked = ackedHints(sent, ackedIds);
    const outcomes = await Promise.all(acked.map(({ hint, object }) => this.#retire(hint, object)));
    this.stats.delivered += acked.length;
    this.stats.copiesRemoved += outcomes.filter((outcome) => outcome === "copy-removed").length;
    this.stats.deliveredBytes += bytes;
    return bytes;
  }

  /**
   * Retires a hint whose primary acknowledged `object` durably. The rule it keeps: a copy on a
   * node that is no primary of its key always has a hint, on disk, until the copy is gone; a
   * copy no hint accounts for is never handed off, and no reaper or anti-entropy exchange sees
   * it, so it would serve a deleted and reaped key's value to a sloppy read (whose read repair
   * writes it back to the primaries) or keep a write the primaries never received.
   * - This node is a primary of the key, or the key has another hint: the hint goes and the
   *   copy stays (a primary copy, or one the other hint still accounts for).
   * - The key's last hint: the copy goes first, then the hint, so a crash in between leaves a
   *   hint for a missing copy, which the next delivery drops. A copy that changed since it was
   *   sent keeps its hint, so that it is sent again as it is now.
   */
  #retire(hint: Hint, object: DvvSet): Promise<"kept" | "hint-removed" | "copy-removed"> {
    const { bucket, key } = hint;
    return this.#retiring.run(hintId(bucket, key), async () => {
      if (this.#isPrimary(bucket, key) || this.#hints.isHintedBesides(hint)) {
        await this.#hints.remove([hint]);
        return "hint-removed";
      }
      const copyRemoved = await this.#replica.removeIfUnchanged(bucket, key, object);
      if (!copyRemoved && (await this.#replica.get(bucket, key)) !== undefined) return "kept";
      await this.#hints.remove([hint]);
      return copyRemoved ? "copy-removed" : "hint-removed";
    });
  }

  /** `promise`, or a rejection naming `what` once `timeoutMs` pass on the clock first. */
  #withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const cancel = this.#clock.setTimer(timeoutMs, () =>
        reject(new Error(`${what} timed out after ${timeoutMs} ms`)),
      );
      promise.then(
        (value) => {
          cancel();
          resolve(value);
        },
        (error: unknown) => {
          cancel();
          reject(error as Error);
        },
      );
    });
  }

  #isPrimary(bucket: string, key: Uint8Array): boolean {
    return this.#isPrimaryOf(bucket, key);
  }
}

/**
 * The sent hints an acknowledgement names: only these may be deleted. Ids it names that were
 * not sent in the batch (a confused peer) are ignored.
 */
export function ackedHints<T>(sent: ReadonlyMap<number, T>, ackedIds: readonly number[]): T[] {
  return ackedIds.map((id) => sent.get(Number(id))).filter((entry) => entry !== undefined);
}
