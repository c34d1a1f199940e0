// The ring: Q equal partitions of the SHA-1 space and the node claiming each (Dynamo §6.2,
// strategy 3), and the claim that balances them, keeps every targetN consecutive partitions on
// distinct nodes and moves few partitions when members change (its algorithm: ring-claim.ts).
// Pure: no IO, clock or randomness; the same inputs always give the same ring.

import type { NodeId } from "./node-id.js";
import { isValidNodeId } from "./node-id.js";
import { claimOwners } from "./ring-claim.js";
import { windowRepeats } from "./ring-claim-repair.js";

/**
 * Who claims each of the Q equal partitions. Partition p holds the hashes
 * [p·2^160/Q, (p+1)·2^160/Q) (`partitionOf` in key-hash.ts); p+1, p+2, ... (mod Q) follow it
 * clockwise.
 */
export interface Ring {
  /** Q, a power of two in 1..4096, fixed when the cluster is created. */
  readonly partitionCount: number;
  /** `owners[p]` is the node claiming partition p; length Q. */
  readonly owners: readonly NodeId[];
  /** The distinct members, sorted; a member owns nothing only when there are more than Q. */
  readonly nodes: readonly NodeId[];
}

/** Largest Q: the ring is gossiped whole, so it stays small (Riak allows 8..1024). */
const partitionCountMax = 4096;

/** Largest targetN the claim accepts; replication factors are small (Dynamo runs N = 3). */
const targetNMax = 16;

/** True when `q` is a power of two in 1..4096, the partition counts a ring may have. */
export function isValidPartitionCount(q: number): boolean {
  return Number.isInteger(q) && q >= 1 && q <= partitionCountMax && (q & (q - 1)) === 0;
}

/**
 * Claims the Q partitions for `nodes`: Dynamo's strategy 3 (§6.2), equal fixed partitions of
 * which each node claims whole ones, rather than random tokens.
 *
 * Guarantees (S = number of distinct nodes):
 * - balance: every member owns floor(Q/S) or ceil(Q/S) partitions;
 * - spread: a "violation" is a partition p whose targetN consecutive partitions p..p+targetN-1
 *   repeat a node (`claimViolations`). Zero violations needs every member's partitions targetN
 *   apart, so ceil(Q/S)·targetN ≤ Q; a claim without `previous` has none exactly then (checked
 *   for targetN ≤ 7 and Q ≤ 4096; a few rings with targetN ≥ 8 keep some). S = targetN not
 *   dividing Q leaves targetN-1; S < targetN leaves all Q. The table is pinned in ring.test.ts;
 * - movement: with `previous`, a joining node takes about Q/S partitions from members above their
 *   share, and a leaving node's partitions go to members below theirs (Riak's claim v2 moves the
 *   same way); beyond that only swaps that remove violations move partitions;
 * - never worse than starting over: violations(claim with previous) ≤ violations(claim without).
 *   When the moves above leave more violations than a fresh claim has, the fresh claim is taken
 *   whole, as Riak falls back to re-striping the ring when claim v2 cannot meet target_n_val;
 * - determinism: the ring depends on the SET of nodes (order and duplicates are ignored), Q,
 *   targetN and `previous`, nothing else.
 *
 * Cost: O(Q²) in the worst case, milliseconds at Q = 256 and up to about a second at Q = 4096
 * with a large targetN; meant for membership changes, never for a request path.
 *
 * Throws on programmer errors: no nodes, a bad node id, Q not a power of two in 1..4096,
 * targetN outside 1..16, or a `previous` ring with another Q.
 */
export function claimRing(options: {
  nodes: readonly NodeId[];
  partitionCount: number;
  targetN: number;
  previous?: Ring;
}): Ring {
  const { partitionCount: q, targetN: n, previous } = options;
  if (!isValidPartitionCount(q)) throw new Error(`partition count must be 2^k in 1..4096: ${q}`);
  if (!(Number.isInteger(n) && n >= 1 && n <= targetNMax)) {
    throw new Error(`targetN must be an integer in 1..${targetNMax}, got ${n}`);
  }
  if (options.nodes.length === 0) throw new Error("a ring needs at least one node");
  for (const node of options.nodes) {
    if (!isValidNodeId(node)) throw new Error(`invalid node id ${JSON.stringify(node)}`);
  }
  if (previous !== undefined && previous.owners.length !== q) {
    throw new Error(`previous ring has ${previous.owners.length} partitions, not ${q}`);
  }
  // The default sort compares UTF-16 code units: the same order on every machine.
  const members = [...new Set(options.nodes)].sort();
  const owners = claimOwners(members, q, n, previous?.owners);
  return Object.freeze({
    partitionCount: q,
    owners: Object.freeze(owners.map((member) => members[member]!)),
    nodes: Object.freeze(members),
  });
}

/** The partitions `node` owns, ascending; empty when it owns none or is not a member. */
export function partitionsOwnedBy(ring: Ring, node: NodeId): number[] {
  return ring.owners.flatMap((owner, p) => (owner === node ? [p] : []));
}

/**
 * Partitions p, ascending, whose targetN consecutive partitions p..p+targetN-1 (cyclic) do not
 * have targetN distinct owners (Riak's "tail violations"). A key hashed into p still gets
 * distinct replicas, because the preference list walks on to later partitions, but their load
 * lands on other nodes than the claim meant. Empty for targetN = 1; all partitions when targetN
 * exceeds Q or the number of members.
 */
export function claimViolations(ring: Ring, targetN: number): number[] {
  if (!(Number.isInteger(targetN) && targetN >= 1)) throw new Error(`bad targetN: ${targetN}`);
  return ring.owners.flatMap((_, p) => (windowRepeats(ring.owners, p, targetN) ? [p] : []));
}
