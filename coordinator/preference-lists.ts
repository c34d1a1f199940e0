// The preference lists a coordinator uses, computed from its view of the cluster and kept until
// the view changes: a pure function of (rings, up set, partition, n, sloppy, use), so a list is
// reused for every request to its partition until the view replaces its up set or its rings.
// While a membership change moves data, a write's list holds the old and the new primaries (its
// quorum grows by `widenBy`) and a read's the old ones, which hold every acknowledged write.

import type { NodeId } from "../node/core/node-id.js";
import type { Ring } from "../node/core/ring.js";
import { partitionOfKey } from "../node/core/key-hash.js";
import {
  preferenceList,
  transitionPreferenceList,
  type PreferenceList,
} from "./core/preference-list.js";

/** What the lists are computed from (the coordinator's view). */
export interface ListView {
  /** The ring data must be on (the current layout's). */
  readonly ring: Ring;
  /**
   * While data moves to `ring` after a membership change, the ring it moves from: reads use
   * it, writes reach both (transitionPreferenceList). Undefined otherwise.
   */
  readonly previousRing?: Ring | undefined;
  /** Never mutated: a change of the up set comes as a new set (the cache keys on it). */
  upNodes(): ReadonlySet<NodeId>;
}

/** A preference list; `widenBy` > 0 for a write to a partition whose primaries change. */
export type KeyPreferenceList = PreferenceList & {
  readonly widenBy?: number;
  /** With widenBy: the old primaries and the new ones (transitionPreferenceList). */
  readonly primarySets?: readonly (readonly NodeId[])[];
};

/** Lists kept at most (Q × the n values in use × 4 in practice). */
const LISTS_CACHED_MAX = 16_384;

/** The cache of one coordinator. */
export class PreferenceLists {
  readonly #view: ListView;
  readonly #sloppyAllowed: boolean;
  readonly #lists = new Map<number, KeyPreferenceList>();
  #up: ReadonlySet<NodeId> | undefined;
  #ring: Ring | undefined;

  constructor(view: ListView, sloppyAllowed: boolean) {
    this.#view = view;
    this.#sloppyAllowed = sloppyAllowed;
  }

  /** The list of (bucket, key) for n replicas; sloppy unless asked strict or hints are off. */
  of(
    bucket: string,
    key: Uint8Array,
    n: number,
    sloppy: boolean,
    use: "read" | "write",
  ): KeyPreferenceList {
    const { ring, previousRing } = this.#view;
    const partition = partitionOfKey(bucket, key, ring.partitionCount);
    const up = this.#view.upNodes();
    if (up !== this.#up || ring !== this.#ring || this.#lists.size >= LISTS_CACHED_MAX) {
      this.#lists.clear();
      this.#up = up;
      this.#ring = ring;
    }
    const allowSloppy = sloppy && this.#sloppyAllowed;
    const forWrite = previousRing !== undefined && use === "write";
    const slot =
      ((n * ring.partitionCount + partition) * 2 + (allowSloppy ? 1 : 0)) * 2 + (forWrite ? 1 : 0);
    let list = this.#lists.get(slot);
    if (list === undefined) {
      const options = { sloppy: allowSloppy };
      if (previousRing === undefined) list = preferenceList(ring, up, partition, n, options);
      else if (use === "read") list = preferenceList(previousRing, up, partition, n, options);
      else list = transitionPreferenceList(previousRing, ring, up, partition, n, options);
      this.#lists.set(slot, list);
    }
    return list;
  }
}

/**
 * Anti-entropy's primariesOf (start-node.ts, the simulation): a partition's primaries, and during a change the
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
