// The layout a node follows, read from its MetadataStore and followed when it changes: the ring
// of the current layout and, while data moves, the ring it moves from; the members that are not
// removed; and listeners told of every change of the layout (not of staged changes or progress
// alone). ClusterView builds on it in production, the simulated process in the simulation.

import type { NodeId } from "../core/node-id.js";
import type { Ring } from "../core/ring.js";
import { ringsOf, type Layout } from "../core/layout.js";
import type { MetadataStore } from "./metadata-store.js";
import type { MembershipView } from "./membership-view.js";

/** The parts of a MembershipView that follow the layout alone. */
type MembershipViewParts = Pick<
  MembershipView,
  "ring" | "previousRing" | "layout" | "onLayoutChange"
>;

/** The layout a node follows: rings and members, recomputed when the layout changes. */
export class LayoutFollower implements MembershipViewParts {
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

  /** The layout version whose data is still moving to its new owners; else undefined. */
  transitionOf(): number | undefined {
    return this.#previousRing === undefined ? undefined : this.#layout.version;
  }

  /** Every node of the current ring and, during a transition, of the previous one; sorted. */
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
