// The end of an ownership transfer on the node that lost partitions: once the membership change
// retired here (or a force-remove committed mid-transition took from it partitions it was
// gaining), and a grace period has passed (so that every coordinator has heard of the change
// and reads no longer come here), this node removes its copies of the partitions it no longer
// replicates. A copy left behind would be harmful, not only wasted:
// if the partition came back to this node in a later change, an old copy of a key deleted and
// reaped meanwhile would bring the key back. Copies held as a fallback (with a hint) stay until
// their handoff; a copy is removed only if unchanged since it was read, as a handed-off one.
//
// Keys written with an n above the layout's targetN may have extra copies outside the primaries
// this loop computes; those are dropped too, as anti-entropy and reaping also ignore them.

import type { Clock } from "../clock.js";
import { yieldTo } from "../clock.js";
import type { NodeId } from "../core/node-id.js";
import type { Logger } from "../logger.js";
import type { Ring } from "../core/ring.js";
import type { Layout } from "../core/layout.js";
import { partitionOfKey } from "../core/key-hash.js";
import { decodeObject } from "../core/object-decode.js";
import { primarySet } from "../core/cluster-plan.js";
import type { Replica } from "../replica.js";
import type { HintStore } from "../hints/hint-store.js";
import type { MembershipView } from "./membership-view.js";

/** How long after a retirement lost partitions are dropped, by default. */
export const DROP_GRACE_MS_DEFAULT = 60_000;

/** Keys looked at between two yields to the event loop. */
const KEYS_PER_SLICE = 256;

/** What one drop pass did. */
export interface DropReport {
  readonly partitions: readonly number[];
  readonly removed: number;
  readonly kept: number;
}

/** Drops the copies of partitions this node lost, after each retirement. */
export class DropLoop {
  readonly #view: MembershipView;
  readonly #replica: Replica;
  readonly #hints: Pick<HintStore, "isHinted">;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #graceMs: number;
  readonly #unsubscribe: () => void;
  readonly #timers = new Set<() => void>();
  #work: Promise<unknown> = Promise.resolve();
  #closed = false;
  #pending = 0;
  /** Partitions a stray copy arrived in since their drop, waiting for the next one. */
  readonly #strays = new Set<number>();
  /** Per partition, 1 when this node replicates it under the current claim or the previous. */
  #replicated: Uint8Array;
  /** Totals, for status and tests. */
  readonly stats = { passes: 0, removed: 0 };

  constructor(options: {
    readonly view: MembershipView;
    readonly replica: Replica;
    readonly hints: Pick<HintStore, "isHinted">;
    readonly clock: Clock;
    readonly logger: Logger;
    readonly graceMs?: number;
  }) {
    this.#view = options.view;
    this.#replica = options.replica;
    this.#hints = options.hints;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#graceMs = options.graceMs ?? DROP_GRACE_MS_DEFAULT;
    this.#replicated = this.#replicatedPartitions();
    this.#unsubscribe = options.view.onLayoutChange((layout, before) => {
      this.#replicated = this.#replicatedPartitions();
      this.#layoutChanged(layout, before);
    });
    options.replica.onWrite((bucket, key) => this.#stored(bucket, key));
    // A node that restarts after a change retired (within the grace period, or while it was
    // down) hears of no retirement: its handed-over copies are dropped from here instead. So
    // are those of an earlier change when it restarts during the next one (sim seed 477): what
    // it replicates under neither the current claim nor the one data moves from. What it loses
    // in the change under way is dropped when that change retires (#layoutChanged).
    const { layout } = options.view;
    if (layout.version > 1) {
      const previous = options.view.previousRing;
      const self = options.view.self;
      const all = Array.from({ length: layout.partitionCount }, (_, p) => p);
      const losing = (p: number): boolean =>
        previous !== undefined && primarySet(previous, p, layout.targetN).includes(self);
      this.#dropAfterGrace(
        layout,
        this.#lostFrom(all).filter((p) => !losing(p)),
      );
    }
  }

  #layoutChanged(layout: Layout, before: Layout): void {
    // What this node lost is what it replicated before, under either claim, and replicates
    // under neither claim of the new layout: at a retirement (or a layout that moved past a
    // whole change while this node did not look: gossip brought the commit and the retirement
    // at once), what the new claim leaves out. A commit that starts a transition loses nothing
    // (data moves from the claim before). But a force-remove committed mid-transition moves data
    // from that transition's old claim again (layout-merge.ts), so a node that was a new owner
    // under the claim it replaces held copies (dual writes, transfers) that no claim covers any
    // more: unless dropped, they would stay for good, unseen by anti-entropy and reaping, and
    // bring back a key deleted meanwhile if the partition came back here (sim seed 2465).
    const n = layout.targetN;
    const self = this.#view.self;
    const replicates = (of: Layout, p: number): boolean =>
      claimsOf(of).some((ring) => primarySet(ring, p, n).includes(self));
    const lost: number[] = [];
    for (let p = 0; p < layout.partitionCount; p++) {
      if (replicates(before, p) && !replicates(layout, p)) lost.push(p);
    }
    this.#dropAfterGrace(layout, lost);
  }

  /**
   * Every copy this node stores comes here. One in a partition it replicates under neither the
   * current claim nor the one data moves from, arriving after that partition's drop (a read
   * repair or a write from a coordinator that had not heard of the change yet), would stay for
   * good, unseen by anti-entropy and reaping: the primaries reaped the key's tombstone while
   * this node kept the value (sim seed 40799). Its partition is dropped again after the grace
   * period, and counts as pending until then, so no tombstone is reaped meanwhile. A fallback's
   * copy comes here too; the drop keeps it while its hint waits (its handoff removes it).
   */
  #stored(bucket: string, key: Uint8Array): void {
    if (this.#closed) return;
    const partition = partitionOfKey(bucket, key, this.#replicated.length);
    if (this.#replicated[partition] === 1 || this.#strays.has(partition)) return;
    this.#strays.add(partition);
    this.#dropAfterGrace(this.#view.layout, [partition], () => this.#strays.delete(partition));
  }

  /** What #replicated holds, for the view's layout now. */
  #replicatedPartitions(): Uint8Array {
    const { ring, previousRing, self, layout } = this.#view;
    const rings = previousRing === undefined ? [ring] : [ring, previousRing];
    return Uint8Array.from({ length: ring.partitionCount }, (_, partition) =>
      rings.some((of) => primarySet(of, partition, layout.targetN).includes(self)) ? 1 : 0,
    );
  }

  /** The partitions of `held` this node does not replicate under the current ring. */
  #lostFrom(held: readonly number[]): number[] {
    const current: Ring = this.#view.ring;
    const self = this.#view.self;
    const n = this.#view.layout.targetN;
    return held.filter((p) => !primarySet(current, p, n).includes(self));
  }

  /**
   * Partitions handed over and not dropped yet. While any node holds such copies, no tombstone
   * may be reaped anywhere: if a later change gave the partition back to that node, its old
   * copy of a key deleted meanwhile would bring the key back (the reaper asks every member).
   */
  get pending(): number {
    return this.#pending;
  }

  #dropAfterGrace(layout: Layout, lost: readonly number[], done?: () => void): void {
    if (lost.length === 0) return;
    this.#pending += lost.length;
    this.#logger.info(
      { partitions: lost, graceMs: this.#graceMs, version: layout.version },
      "partitions handed over; local copies are dropped after the grace period",
    );
    const cancel = this.#clock.setTimer(this.#graceMs, () => {
      this.#timers.delete(cancel);
      this.#work = this.#work
        .then(() => this.drop(new Set(lost)))
        .catch((error: unknown) =>
          this.#logger.error({ err: error }, "dropping handed-over partitions failed"),
        )
        .finally(() => {
          this.#pending -= lost.length;
          done?.();
        });
    });
    this.#timers.add(cancel);
  }

  /**
   * Removes this node's copies in `partitions` unless this node is (again) a primary of them
   * under the current ring or the one data moves from, or holds them as a fallback.
   */
  async drop(partitions: ReadonlySet<number>): Promise<DropReport> {
    const { ring } = this.#view;
    // #replicated follows every layout change, so it answers for the rings of now.
    const still = new Set([...partitions].filter((p) => this.#replicated[p] !== 1));
    let [removed, kept, seen] = [0, 0, 0];
    for await (const entry of this.#replica.storage.entries()) {
      if (this.#closed) break;
      if (++seen % KEYS_PER_SLICE === 0) await yieldTo(this.#clock);
      if (!still.has(partitionOfKey(entry.bucket, entry.key, ring.partitionCount))) continue;
      if (this.#hints.isHinted(entry.bucket, entry.key)) {
        kept += 1;
        continue;
      }
      const decoded = decodeObject(entry.object);
      if (!decoded.ok) {
        kept += 1;
        continue;
      }
      const gone = await this.#replica.removeIfUnchanged(entry.bucket, entry.key, decoded.object);
      if (gone) removed += 1;
      else kept += 1;
    }
    this.stats.passes += 1;
    this.stats.removed += removed;
    const report = { partitions: [...still].sort((a, b) => a - b), removed, kept };
    this.#logger.info(report, "handed-over partitions dropped");
    return report;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    for (const cancel of this.#timers) cancel();
    this.#timers.clear();
    await this.#work.catch(() => undefined);
  }
}

/** The claims of a layout: its own, and while its data moves, the one it moves from. */
function claimsOf(layout: Layout): Ring[] {
  const claims = [ringOf(layout.owners, layout)];
  if (layout.previousOwners !== undefined) claims.push(ringOf(layout.previousOwners, layout));
  return claims;
}

function ringOf(owners: readonly NodeId[], layout: Layout): Ring {
  return {
    partitionCount: layout.partitionCount,
    owners,
    nodes: [...new Set(owners)].sort(),
  };
}
