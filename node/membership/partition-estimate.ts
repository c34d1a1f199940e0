// What `dkv cluster plan` estimates a partition replica holds, from this node's storage stats.

import type { ClusterView } from "../cluster-view.js";
import type { Storage } from "../storage/storage.js";

/**
 * Keys and bytes of one partition replica, estimated as this node's store divided evenly over
 * the partitions it replicates (every key lives in n partitions' worth of primaries).
 */
export function partitionEstimate(
  storage: Storage,
  view: ClusterView,
): { keys: number; bytes: number } {
  const stats = storage.stats();
  const owners = Math.max(1, view.ring.nodes.length);
  const replicated = Math.max(
    1,
    Math.round((view.ring.partitionCount * Math.min(view.layout.targetN, owners)) / owners),
  );
  // The log engine says how many bytes its records take (live and dead); others say nothing.
  const details = (stats as { details?: Record<string, unknown> }).details ?? {};
  const counted = (name: string): number =>
    typeof details[name] === "number" ? (details[name] as number) : 0;
  const bytes = counted("activeBytes") + counted("frozenBytes") - counted("frozenDeadBytes");
  return { keys: Math.round(stats.keys / replicated), bytes: Math.round(bytes / replicated) };
}
