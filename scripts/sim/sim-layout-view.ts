// A simulated node's cluster metadata: the file it is kept in (on a simulated disk, where a write
// counts once its fsync completes and a crash before that keeps the previous file), and the view
// of it a node incarnation follows, as ClusterView follows production's MetadataStore: the rings
// of the current layout (and of the one data moves from), the members, and listeners told of
// every change of the layout.

import type { NodeId } from "../../node/core/node-id.js";
import type { Ring } from "../../node/core/ring.js";
import { ringsOf, type ClusterMetadata, type Layout } from "../../node/core/layout.js";
import { decodeMetadata, encodeMetadata } from "../../node/core/layout-codec.js";
import { MetadataStore, type MetadataPersist } from "../../node/membership/metadata-store.js";
import type { SeededRandom } from "../../node/core/seeded-random.js";
import type { SimScheduler } from "./sim-scheduler.js";
import {
  preferenceList,
  transitionPreferenceList,
} from "../../coordinator/core/preference-list.js";

/** `<data-dir>/cluster-metadata.json` of one simulated machine. */
export class SimMetadataFile {
  #durable: string | undefined;

  /** What the file holds (what a restart reads), or undefined before the first write. */
  get durable(): string | undefined {
    return this.#durable;
  }

  /** Writes `metadata` at once: the first layout, or the one fetched by a joining node. */
  create(metadata: ClusterMetadata): void {
    this.#durable = Buffer.from(encodeMetadata(metadata)).toString("utf8");
  }

  /**
   * The persist port of one incarnation: writeFileDurably's temporary file, fsync and rename take
   * one fsync's latency; a process that died meanwhile never finishes, and the file keeps its
   * previous content.
   */
  persistFor(options: {
    readonly scheduler: SimScheduler;
    readonly random: SeededRandom;
    readonly fsyncMs: readonly [number, number];
    readonly alive: () => boolean;
  }): MetadataPersist {
    const [min, max] = options.fsyncMs;
    return (json) =>
      new Promise((resolve) => {
        options.scheduler.after(options.random.range(min, max), () => {
          if (!options.alive()) return;
          this.#durable = json;
          resolve();
        });
      });
  }

  /** The store a starting incarnation opens over this file. */
  open(persist: MetadataPersist): MetadataStore {
    const json = this.#durable;
    if (json === undefined) throw new Error("a simulated node starts with no cluster metadata");
    return MetadataStore.inMemory(decodeMetadata(Buffer.from(json, "utf8")), persist);
  }
}

/** The layout one incarnation follows: rings and members, recomputed when the layout changes. */
export class SimLayoutView {
  readonly store: MetadataStore;
  #layout: Layout;
  #ring!: Ring;
  #previousRing: Ring | undefined;
  #ringNodes: readonly NodeId[] = [];
  #members: readonly NodeId[] = [];
  readonly #listeners = new Set<(layout: Layout, before: Layout) => void>();
  readonly #unsubscribe: () => void;

  /** `applied` runs after the rings and members follow a new layout, before the listeners. */
  constructor(store: MetadataStore, applied: () => void) {
    this.store = store;
    this.#layout = store.current.layout;
    this.#apply(this.#layout);
    this.#unsubscribe = store.onChange((after, before) => {
      if (after.layout === before.layout) return;
      const previous = this.#layout;
      this.#layout = after.layout;
      this.#apply(after.layout);
      applied();
      for (const listener of this.#listeners) listener(after.layout, previous);
    });
  }

  get layout(): Layout {
    return this.#layout;
  }

  get ring(): Ring {
    return this.#ring;
  }

  get previousRing(): Ring | undefined {
    return this.#previousRing;
  }

  /** The members that are not removed, sorted. */
  get members(): readonly NodeId[] {
    return this.#members;
  }

  /** ClusterView.transitionOf: the version whose data is still moving, else undefined. */
  transitionOf(): number | undefined {
    return this.#previousRing === undefined ? undefined : this.#layout.version;
  }

  /** ClusterView.ringNodes: the current ring's nodes and, in a transition, the previous'. */
  ringNodes(): readonly NodeId[] {
    return this.#ringNodes;
  }

  onLayoutChange(listener: (layout: Layout, before: Layout) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#unsubscribe();
  }

  #apply(layout: Layout): void {
    const rings = ringsOf(layout);
    this.#ring = rings.current;
    this.#previousRing = rings.previous;
    this.#ringNodes = [
      ...new Set([...rings.current.nodes, ...(rings.previous?.nodes ?? [])]),
    ].sort();
    this.#members = layout.members
      .filter((member) => member.state !== "removed")
      .map((member) => member.node)
      .sort();
  }
}

/**
 * start-node.ts's primariesOf for anti-entropy: a partition's primaries, and during a change the
 * union of its old and new ones (so exchanges carry it to its new primaries); remembered while
 * the up set and the ring stay the same objects.
 */
export function primariesFollowing(
  view: {
    readonly ring: Ring;
    readonly previousRing: Ring | undefined;
    upNodes(): ReadonlySet<NodeId>;
  },
  n: number,
): (partition: number) => readonly NodeId[] {
  let cache = {
    up: view.upNodes(),
    ring: view.ring,
    byPartition: new Map<number, readonly NodeId[]>(),
  };
  return (partition) => {
    const [up, ring, previous] = [view.upNodes(), view.ring, view.previousRing];
    if (up !== cache.up || ring !== cache.ring) cache = { up, ring, byPartition: new Map() };
    let found = cache.byPartition.get(partition);
    if (found === undefined) {
      found =
        previous === undefined
          ? preferenceList(ring, up, partition, n).primaries
          : transitionPreferenceList(previous, ring, up, partition, n).primaries;
      cache.byPartition.set(partition, found);
    }
    return found;
  };
}
