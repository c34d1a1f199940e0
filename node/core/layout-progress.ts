// The progress of a membership change and its retirement (membership design, issue 14). A change
// retires once every moving partition is marked transferred and every leaving member has marked
// itself drained: it holds no hint any more. Pure: no IO, clock or randomness.
//
// Why the hints: a node stands in for down primaries of keys it is no primary of, and the copy
// it keeps for one is acknowledged in that primary's place. The transfer moves partitions from
// their old primaries, so it never sees such a copy; a leaving node stopped once it is removed
// would take the copy, and the acknowledged write, with it (simulation seed 33245). Riak's
// leaving node likewise shuts down only after its fallback vnodes handed off.

import type { NodeId } from "./node-id.js";
import {
  LayoutError,
  movingPartitions,
  settled,
  startOf,
  type ClusterMetadata,
  type Layout,
  type TransferProgress,
} from "./layout.js";

/**
 * Adds `partitions` to the transfer progress of the current layout version (a union: marking
 * twice changes nothing). Throws a LayoutError for a partition outside 0..Q-1.
 */
export function markTransferred(
  metadata: ClusterMetadata,
  partitions: readonly number[],
): ClusterMetadata {
  const { layout } = metadata;
  for (const p of partitions) {
    if (!(Number.isInteger(p) && p >= 0 && p < layout.partitionCount)) {
      throw new LayoutError(`partition ${p} is not in 0..${layout.partitionCount - 1}`);
    }
  }
  const progress = progressOf(metadata);
  const done = [...new Set([...progress.done, ...partitions])].sort((a, b) => a - b);
  return { ...metadata, progress: { ...progress, done } };
}

/**
 * Records that `node`, a leaving member of the change under way, holds no hint any more (a
 * union, as markTransferred). Returns `metadata` itself when no change is under way or `node`
 * is not leaving in it: a mark made for one version does not carry to the next.
 */
export function markDrained(metadata: ClusterMetadata, node: NodeId): ClusterMetadata {
  const progress = progressOf(metadata);
  if (!leavingMembers(metadata.layout).includes(node)) return metadata;
  if (progress.drained?.includes(node) === true) return metadata;
  const drained = [...(progress.drained ?? []), node].sort();
  return { ...metadata, progress: { ...progress, drained } };
}

/** The union of two progresses of one version: partitions done and members drained. */
export function unionOfProgress(a: TransferProgress, b: TransferProgress): TransferProgress {
  const done = [...new Set([...a.done, ...b.done])].sort((x, y) => x - y);
  const drained = [...new Set([...(a.drained ?? []), ...(b.drained ?? [])])].sort();
  return drained.length === 0
    ? { version: a.version, done }
    : { version: a.version, done, drained };
}

/** Members leaving in the change under way (none without one), in layout order. */
export function leavingMembers(layout: Layout): NodeId[] {
  if (layout.previousOwners === undefined) return [];
  return layout.members.filter((member) => member.state === "leaving").map((m) => m.node);
}

/** Leaving members of the change under way that have not marked themselves drained. */
export function undrained(metadata: ClusterMetadata): NodeId[] {
  const drained = progressOf(metadata).drained ?? [];
  return leavingMembers(metadata.layout).filter((node) => !drained.includes(node));
}

/**
 * Ends a transition whose moving partitions are all marked transferred and whose leaving
 * members are all drained: layout version + 1 with the same owners, no previousOwners,
 * joining → valid and leaving → removed. A staged force-remove carries over to the new version.
 * Returns `metadata` itself when no transition is under way or something is not done yet.
 * Every node computing it from the same metadata gets the same bytes, so concurrent
 * retirements agree.
 */
export function retireIfComplete(metadata: ClusterMetadata): ClusterMetadata {
  const { layout, staged } = metadata;
  if (layout.previousOwners === undefined) return metadata;
  const done = new Set(progressOf(metadata).done);
  if (!movingPartitions(layout).every((p) => done.has(p))) return metadata;
  if (undrained(metadata).length > 0) return metadata;
  const next = startOf({ ...settled(layout), version: layout.version + 1 }, metadata.access);
  if (staged.changes.length === 0) return next;
  return { ...next, staged: { ...staged, basedOn: next.layout.version } };
}

/** The progress of the current layout version (empty when it is of another). */
function progressOf(metadata: ClusterMetadata): TransferProgress {
  const { layout, progress } = metadata;
  return progress.version === layout.version ? progress : { version: layout.version, done: [] };
}
