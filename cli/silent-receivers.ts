// What `dkv cluster transfers` says of a receiver that does not answer: the partitions it
// gains in the change under way that are not yet marked transferred, from the layout any member
// holds. Each member reports its own incoming transfers, so without this a receiver that is
// down would vanish from the list, and what is left would look smaller than it is. Pure.

import type { ClusterMetadata } from "../node/core/layout.js";
import { movingPartitions, ringsOf } from "../node/core/layout.js";
import { primarySet } from "../node/core/cluster-plan.js";
import type { NodeId } from "../node/core/node-id.js";

/** A partition a silent receiver still has to get. */
export interface SilentTransfer {
  readonly to: NodeId;
  readonly partition: number;
}

/**
 * For each node of `silent`, ascending by node then partition: the moving partitions of which it
 * is a new primary (a primary after the change, not before) and that are not yet transferred.
 */
export function silentTransfers(
  metadata: ClusterMetadata,
  silent: ReadonlySet<NodeId>,
): SilentTransfer[] {
  const { layout, progress } = metadata;
  const { current, previous } = ringsOf(layout);
  if (previous === undefined || silent.size === 0) return [];
  const done = new Set(progress.version === layout.version ? progress.done : []);
  const found: SilentTransfer[] = [];
  for (const partition of movingPartitions(layout)) {
    if (done.has(partition)) continue;
    const before = primarySet(previous, partition, layout.targetN);
    for (const node of primarySet(current, partition, layout.targetN)) {
      if (silent.has(node) && !before.includes(node)) found.push({ to: node, partition });
    }
  }
  return found.sort((a, b) => (a.to === b.to ? a.partition - b.partition : a.to < b.to ? -1 : 1));
}
