// The preference list of a partition: its primaries, the targets a request goes to (a down primary
// replaced by the next up node, Dynamo's sloppy quorum §4.6), and the spare fallbacks after them.
// Pure: a function of (ring, up nodes, partition, n), like riak_core_apl:get_apl_ann.

import type { NodeId } from "../../node/core/node-id.js";
import type { Ring } from "../../node/core/ring.js";

/** One replica target: a primary, or a fallback standing in for a down primary. */
export type PreferenceEntry =
  | { readonly node: NodeId; readonly role: "primary" }
  | { readonly node: NodeId; readonly role: "fallback"; readonly standsInFor: NodeId };

/** Who should hold a key, and who to send a request to. */
export interface PreferenceList {
  /**
   * The key's primaries: the first n DISTINCT owners met walking partitions clockwise from the
   * key's partition, whether up or not (fewer only when the ring has fewer than n nodes).
   */
  readonly primaries: readonly NodeId[];
  /**
   * In preference order: entry i is primaries[i] if it is up, else (sloppy only) the next up
   * non-primary node in ring-walk order standing in for it; a down primary with no fallback left
   * is omitted. With sloppy = false, only the up primaries.
   */
  readonly targets: readonly PreferenceEntry[];
  /** Up non-primary nodes, in ring-walk order, not already used as targets: the next fallbacks. */
  readonly spares: readonly NodeId[];
}

/**
 * The preference list of `partition` for replication factor `n` (Dynamo §4.3–4.6).
 *
 * The ring walk visits partitions partition, partition+1, ... (mod Q) and lists each owner the
 * first time it is met, then the members that own no partition (only when S > Q), sorted. The
 * first n nodes of that walk are the primaries; the rest are the fallbacks, in walk order.
 * Riak's `get_apl_ann` walks partitions (vnodes), so its primaries repeat a node where the claim
 * has a tail violation and a node may host two fallbacks; walking distinct nodes instead means
 * n replicas always sit on min(n, S) distinct nodes, whatever the claim.
 *
 * Laws (U = up members, P = primaries):
 * - P has min(n, S) distinct members, and is the same for every `upNodes`;
 * - targets name distinct nodes, in the order of P; every fallback is an up non-primary and
 *   stands in for a down primary, and fallbacks are taken in walk order;
 * - with sloppy (the default) targets.length = min(n, |U|); without, targets = the up primaries;
 * - targets ∪ spares = U ∪ (the up primaries), disjoint: spares are the up non-primaries left.
 *
 * `upNodes` entries that are not ring members are ignored. Throws when `partition` is not in
 * 0..Q-1 or n is not a positive integer.
 */
export function preferenceList(
  ring: Ring,
  upNodes: ReadonlySet<NodeId>,
  partition: number,
  n: number,
  options?: { readonly sloppy?: boolean },
): PreferenceList {
  const q = ring.owners.length;
  if (!(Number.isInteger(partition) && partition >= 0 && partition < q)) {
    throw new Error(`partition ${partition} is not in 0..${q - 1}`);
  }
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`n must be a positive integer, got ${n}`);
  const walk = ringWalk(ring, partition);
  const primaries = walk.slice(0, n);
  const fallbacks = walk.slice(primaries.length).filter((node) => upNodes.has(node));
  return listOf(primaries, fallbacks, upNodes, options?.sloppy ?? true);
}

/**
 * The list of `primaries` in order: each up primary, or (sloppy) the next up fallback standing
 * in for a down one; the fallbacks left over are the spares. `fallbacks` are up non-primaries.
 */
function listOf(
  primaries: readonly NodeId[],
  fallbacks: readonly NodeId[],
  upNodes: ReadonlySet<NodeId>,
  sloppy: boolean,
): PreferenceList {
  const targets: PreferenceEntry[] = [];
  let used = 0;
  for (const primary of primaries) {
    if (upNodes.has(primary)) {
      targets.push(Object.freeze({ node: primary, role: "primary" as const }));
    } else if (sloppy && used < fallbacks.length) {
      const node = fallbacks[used++]!;
      targets.push(Object.freeze({ node, role: "fallback" as const, standsInFor: primary }));
    }
  }
  return Object.freeze({
    primaries: Object.freeze([...primaries]),
    targets: Object.freeze(targets),
    spares: Object.freeze(fallbacks.slice(used)),
  });
}

/**
 * The preference list of a write while data moves from `previous` to `next` (a committed
 * membership change not yet retired): its primaries are the partition's old primaries followed
 * by the nodes that gain it in `next`, so a write reaches both sets; `gaining` says how many
 * were added. A write that needs w acks needs w + widenBy of this list, widenBy being the larger
 * of the gaining and the losing count: then at least w of the old primaries and at least w of
 * the new ones hold it, whichever nodes answered (Cassandra's "pending ranges" rule; Garage asks
 * a quorum of every live layout). `primarySets` names the old and the new primaries, so the
 * put quorum can also accept w acks from each set's own members (put-quorum.ts's
 * TransitionGroups). Fallbacks are taken in `previous`'s walk order, members of `next` only (a
 * leaving node takes no hints). Without a difference it is `preferenceList(previous)` without
 * the leaving nodes among its fallbacks.
 */
export function transitionPreferenceList(
  previous: Ring,
  next: Ring,
  upNodes: ReadonlySet<NodeId>,
  partition: number,
  n: number,
  options?: { readonly sloppy?: boolean },
): PreferenceList & {
  readonly gaining: number;
  readonly widenBy: number;
  readonly primarySets?: readonly (readonly NodeId[])[];
} {
  const before = preferenceList(previous, upNodes, partition, n, options);
  const after = ringWalk(next, partition).slice(0, n);
  const gaining = after.filter((node) => !before.primaries.includes(node));
  const losing = before.primaries.filter((node) => !after.includes(node)).length;
  const widenBy = Math.max(gaining.length, losing);
  // The old and the new primaries, each of which must hold w of an acknowledged write.
  const primarySets = widenBy === 0 ? undefined : Object.freeze([before.primaries, after]);
  const sets = primarySets === undefined ? {} : { primarySets };
  const primaries = [...before.primaries, ...gaining];
  const inList = new Set(primaries);
  // A node leaving the cluster stands in for no primary: what it took it must hand off before
  // the change can retire (layout-progress.ts), so only members of `next` are fallbacks.
  const staying = new Set(next.nodes);
  const walk = [...ringWalk(previous, partition), ...next.nodes];
  const fallbacks = [...new Set(walk)].filter(
    (node) => !inList.has(node) && upNodes.has(node) && staying.has(node),
  );
  const list = listOf(primaries, fallbacks, upNodes, options?.sloppy ?? true);
  return Object.freeze({ ...list, gaining: gaining.length, widenBy, ...sets });
}

/** Every member once: owners in clockwise order from `partition`, then non-owners, sorted. */
function ringWalk(ring: Ring, partition: number): NodeId[] {
  const q = ring.owners.length;
  const seen = new Set<NodeId>();
  for (let step = 0; step < q && seen.size < ring.nodes.length; step++) {
    seen.add(ring.owners[(partition + step) % q]!);
  }
  for (const node of ring.nodes) seen.add(node);
  return [...seen];
}
