// Who compares with whom, and which partitions: every pair of replicas of a partition is
// compared once per interval, by exactly one of the two, with the work spread evenly over the
// nodes. Pure functions; the timer loop lives in anti-entropy.ts.

import type { NodeId } from "../core/node-id.js";

/** The primaries of a partition (the preference list's first n distinct owners). */
export type PrimariesOf = (partition: number) => readonly NodeId[];

/**
 * The peers `self` opens exchanges with. With the k distinct nodes in sorted order and self at
 * index i, self opens towards i+1 … i+⌊(k−1)/2⌋ (mod k), and for even k also towards i+k/2
 * when i < k/2. Laws: every unordered pair of distinct nodes is opened by exactly one of the
 * two; every node opens ⌊(k−1)/2⌋ or ⌈(k−1)/2⌉ exchanges. Empty when self is not a node.
 */
export function exchangePeers(self: NodeId, nodes: readonly NodeId[]): NodeId[] {
  const sorted = [...new Set(nodes)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const k = sorted.length;
  const i = sorted.indexOf(self);
  if (i < 0 || k < 2) return [];
  const peers: NodeId[] = [];
  for (let distance = 1; distance <= Math.floor((k - 1) / 2); distance++) {
    peers.push(sorted[(i + distance) % k]!);
  }
  if (k % 2 === 0 && i < k / 2) peers.push(sorted[i + k / 2]!);
  return peers;
}

/** The partitions whose primaries include every one of `nodes`, ascending. */
export function partitionsReplicatedBy(
  partitionCount: number,
  primariesOf: PrimariesOf,
  nodes: readonly NodeId[],
): number[] {
  const partitions: number[] = [];
  for (let partition = 0; partition < partitionCount; partition++) {
    const primaries = primariesOf(partition);
    if (nodes.every((node) => primaries.includes(node))) partitions.push(partition);
  }
  return partitions;
}

/**
 * The time from one exchange this node opens to the next: the interval divided among its
 * peers, so that it visits each once per interval.
 */
export function exchangeSpacingMs(intervalMs: number, peerCount: number): number {
  return intervalMs / Math.max(1, peerCount);
}
