// The ring: Q equal partitions of the SHA-1 space and the node claiming each one (Dynamo §6.2,
// strategy 3), and the claim algorithm that balances partitions, keeps every N consecutive
// partitions on distinct nodes and moves as few partitions as it can when members change.
// Pure: no IO, clock or randomness; the same inputs always give the same ring.

import type { NodeId } from "./node-id.js";
import { isValidNodeId } from "./node-id.js";

/**
 * Who claims each of the Q equal partitions. Partition p covers the hashes
 * [p·2^160/Q, (p+1)·2^160/Q) (see `partitionOf` in key-hash.ts); the partitions after p, wrapping
 * at Q, are its clockwise successors.
 */
export interface Ring {
  /** Q, a power of two in 1..4096, fixed when the cluster is created. */
  readonly partitionCount: number;
  /** `owners[p]` is the node claiming partition p; length Q. */
  readonly owners: readonly NodeId[];
  /** The distinct members, sorted; a member may own nothing when there are more nodes than Q. */
  readonly nodes: readonly NodeId[];
}

/** Largest Q: a ring is gossiped whole, so its size is bounded (Riak allows 8..1024). */
const partitionCountMax = 4096;

/** Largest targetN accepted by the claim; replication factors are small (Dynamo uses 3). */
const targetNMax = 16;

/** True when `q` is a power of two in 1..4096, the partition counts a ring may have. */
export function isValidPartitionCount(q: number): boolean {
  return Number.isInteger(q) && q >= 1 && q <= partitionCountMax && (q & (q - 1)) === 0;
}

/** Working state of one claim; owners and counts are in member indices, -1 = unclaimed. */
interface Claim {
  readonly n: number;
  readonly owners: number[];
  readonly previous: readonly number[];
  readonly counts: number[];
}

/**
 * Claims the Q partitions for `nodes` (Dynamo §6.2 strategy 3: equal partitions, each node takes
 * whole partitions) and returns a new ring.
 *
 * Guarantees:
 * - balanced: every member owns floor(Q/S) or ceil(Q/S) partitions (S = distinct members);
 * - spread: a partition whose targetN-window p..p+targetN-1 repeats a node is a "violation"
 *   (`claimViolations`); the claim drives their number down by local search and reaches zero in
 *   the cases listed in the tests (for instance whenever S ≥ targetN and Q mod S = 0, and for
 *   S ≥ targetN+1 with Q in 64..256). With S < targetN every window is a violation;
 * - movement: with `previous`, members keep their partitions unless balance or a violation needs
 *   them to move: a joining node takes about Q/S partitions from members above their share, a
 *   leaving node's partitions go to members below theirs (as Riak's claim v2 does), then only
 *   swaps that remove violations move anything else;
 * - deterministic: the result depends on the SET of nodes (order and duplicates are ignored),
 *   Q, targetN and `previous` only.
 *
 * Throws on programmer errors: no nodes, an invalid node id, Q not a power of two in 1..4096,
 * targetN outside 1..16, or a `previous` ring with another Q.
 */
export function claimRing(options: {
  nodes: readonly NodeId[];
  partitionCount: number;
  targetN: number;
  previous?: Ring;
}): Ring {
  const { partitionCount: q, targetN, previous } = options;
  if (!isValidPartitionCount(q)) throw new Error(`partition count must be 2^k in 1..4096: ${q}`);
  if (!(Number.isInteger(targetN) && targetN >= 1 && targetN <= targetNMax)) {
    throw new Error(`targetN must be an integer in 1..${targetNMax}, got ${targetN}`);
  }
  if (options.nodes.length === 0) throw new Error("a ring needs at least one node");
  for (const node of options.nodes) {
    if (!isValidNodeId(node)) throw new Error(`invalid node id ${JSON.stringify(node)}`);
  }
  if (previous !== undefined && previous.owners.length !== q) {
    throw new Error(`previous ring has ${previous.owners.length} partitions, not ${q}`);
  }
  const members = [...new Set(options.nodes)].sort(compareCodeUnits);
  const claim = startClaim(members, q, targetN, previous);
  if (previous === undefined) stripe(claim);
  fillUnclaimed(claim);
  while (claimOnePartition(claim)) {
    // Each call moves one partition towards balance; at most Q calls.
  }
  if (targetN > 1 && targetN <= Math.min(q, members.length)) repairViolations(claim);
  const owners = claim.owners.map((member) => members[member]!);
  return Object.freeze({
    partitionCount: q,
    owners: Object.freeze(owners),
    nodes: Object.freeze(members),
  });
}

/** Orders strings by UTF-16 code units, the same on every machine (unlike localeCompare). */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Starts from `previous`, with the partitions of members that left unclaimed (-1). */
function startClaim(
  members: readonly NodeId[],
  q: number,
  n: number,
  previous: Ring | undefined,
): Claim {
  const index = new Map(members.map((member, i) => [member, i]));
  const owners = Array.from({ length: q }, (_, p) => index.get(previous?.owners[p]!) ?? -1);
  const counts = members.map(() => 0);
  for (const owner of owners) if (owner >= 0) counts[owner]! += 1;
  return { n, owners, previous: [...owners], counts };
}

/**
 * Deals an empty ring in laps of the members in index order, so that any targetN partitions in a
 * row are on distinct members. With Q = a·S + b, a+1 laps hold K = S - b more slots than Q; each
 * member from b on sits out exactly one lap. Those skips are cut into runs of at most S - targetN
 * consecutive members, one run per lap in evenly spread laps: a window that jumps a run still
 * spans at most S members of the lap order, so it repeats nobody. This works when S > targetN
 * and either the runs fit in a laps, or they need all a+1 laps and b ≥ targetN-1 (the wrap from
 * the last run back to the first then still holds targetN-1 members). Otherwise (S ≤ targetN,
 * or tiny b with S near Q) it leaves the ring to the greedy fill.
 */
function stripe(claim: Claim): void {
  const { owners, counts, n } = claim;
  const [q, s] = [owners.length, counts.length];
  const laps = Math.ceil(q / s);
  const skipped = laps * s - q;
  const runs = skipped === 0 ? 0 : Math.ceil(skipped / Math.max(s - n, 1));
  const wrapFits = runs < laps || q - (laps - 1) * s >= n - 1;
  if (skipped > 0 && !(s > n && runs <= laps && wrapFits)) return;
  let p = 0;
  for (let lap = 0, run = 0; lap < laps; lap++) {
    let [skipFrom, skipTo] = [s, s];
    if (run < runs && Math.floor((run * laps) / runs) === lap) {
      skipFrom = s - skipped + Math.floor((run * skipped) / runs);
      skipTo = s - skipped + Math.floor(((run + 1) * skipped) / runs);
      run += 1;
    }
    for (let member = 0; member < s; member++) {
      if (member >= skipFrom && member < skipTo) continue;
      owners[p] = member;
      counts[member]! += 1;
      p += 1;
    }
  }
}

/**
 * [floor(Q/S), ceil(Q/S)] and whether a member at the floor may still grow: Q mod S members end
 * at the ceiling, and which ones is left open until the partitions are dealt, so that the choice
 * can follow the geometry instead of a fixed rule.
 */
function shares(claim: Claim): { floor: number; ceil: number; ceilFree: boolean } {
  const { counts } = claim;
  const floor = Math.floor(claim.owners.length / counts.length);
  const ceil = Math.ceil(claim.owners.length / counts.length);
  const atCeil = counts.filter((count) => count >= ceil).length;
  return { floor, ceil, ceilFree: atCeil < claim.owners.length % counts.length };
}

/**
 * Gives every unclaimed partition, in ring order, to a member that may grow: the one adding the
 * fewest same-node pairs within targetN-1, then the one owning fewest, then the one that owns
 * nothing for longest counter-clockwise. Dealing an empty ring this way goes round-robin, which
 * is what a ring with S = targetN needs; `stripe` handles the empty ring in the other cases.
 * Some member may always grow while a partition is unclaimed, because the shares sum to Q.
 */
function fillUnclaimed(claim: Claim): void {
  const { owners, counts } = claim;
  const q = owners.length;
  const lastSeen = counts.map(() => -2 * q);
  owners.forEach((owner, p) => {
    if (owner >= 0) lastSeen[owner] = p - q;
  });
  for (let p = 0; p < q; p++) {
    if (owners[p]! < 0) {
      const { floor, ceilFree } = shares(claim);
      let best = -1;
      let bestKey: readonly number[] = [];
      for (let member = 0; member < counts.length; member++) {
        const count = counts[member]!;
        if (!(count < floor || (count === floor && ceilFree))) continue;
        const key = [samePairs(claim, member, p), count, lastSeen[member]!];
        if (best < 0 || compareKeys(key, bestKey) < 0) [best, bestKey] = [member, key];
      }
      if (best < 0) throw new Error("claim: an unclaimed partition but no member may grow");
      owners[p] = best;
      counts[best]! += 1;
    }
    lastSeen[owners[p]!] = p;
  }
}

/**
 * One step of balancing once every partition is claimed: the smallest member takes a partition
 * from a member above ceil(Q/S), or, when there is none, from one above floor(Q/S). Taking only from members above their share is what keeps a join to about Q/S moves
 * (Riak's claim v2 takes the same way). The partition is the one where the receiver adds the
 * fewest same-node pairs (net of those the donor loses), then the one farthest from the
 * receiver's own partitions, so a joining node spreads around the ring. Returns false when
 * balanced.
 */
function claimOnePartition(claim: Claim): boolean {
  const { owners, counts } = claim;
  const { floor, ceil } = shares(claim);
  const smallest = counts.reduce((best, count, member) => (count < counts[best]! ? member : best), 0);
  const over = counts.some((count) => count > ceil);
  if (!over && counts[smallest]! >= floor) return false;
  const distance = distanceToOwned(owners, smallest);
  let best = -1;
  let bestKey: readonly number[] = [];
  for (let p = 0; p < owners.length; p++) {
    const donor = owners[p]!;
    if (!(counts[donor]! > (over ? ceil : floor))) continue;
    const pairs = samePairs(claim, smallest, p) - samePairs(claim, donor, p);
    const key = [pairs, -distance[p]!];
    if (best < 0 || compareKeys(key, bestKey) < 0) [best, bestKey] = [p, key];
  }
  if (best < 0) throw new Error("claim: unbalanced but no partition to move");
  applyMove(claim, [[best, smallest]]);
  return true;
}

/** Lexicographic order of equal-length number tuples. */
function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const difference = a[i]! - b[i]!;
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Cyclic distance from each partition to the nearest one `member` owns (Q when it owns none). */
function distanceToOwned(owners: readonly number[], member: number): number[] {
  const q = owners.length;
  const distance = owners.map(() => q);
  for (let pass = 0; pass < 2; pass++) {
    let last = -1;
    for (let step = 0; step < 2 * q; step++) {
      const p = pass === 0 ? step % q : (2 * q - 1 - step) % q;
      if (owners[p] === member) last = step;
      if (last >= 0) distance[p] = Math.min(distance[p]!, step - last);
    }
  }
  return distance;
}

/** How many other partitions within targetN-1 of p (either side) `member` owns. */
function samePairs(claim: Claim, member: number, p: number): number {
  const q = claim.owners.length;
  let pairs = 0;
  for (let d = 1; d < claim.n; d++) {
    if (claim.owners[(p + d) % q] === member) pairs += 1;
    if (claim.owners[(p - d + q * claim.n) % q] === member) pairs += 1;
  }
  return pairs;
}

/** A candidate change: partitions and their new owners. */
type Move = readonly (readonly [partition: number, owner: number])[];

/**
 * Local search for spread: while some targetN-window repeats a node, apply the single change
 * that removes the most violations, either a swap of two partitions' owners or (when Q mod S ≠ 0)
 * handing a partition from a member at ceil(Q/S) to one at floor(Q/S); both keep the balance.
 * Ties prefer changes that move fewer partitions away from `previous`, then lower partitions.
 * Stops at a local optimum; every applied change removes a violation, so at most Q rounds run.
 */
function repairViolations(claim: Claim): void {
  for (let round = 0; round < claim.owners.length; round++) {
    const move = bestRepair(claim);
    if (move === undefined) return;
    applyMove(claim, move);
  }
}

function bestRepair(claim: Claim): Move | undefined {
  const { owners, counts } = claim;
  const q = owners.length;
  const { floor } = shares(claim);
  let best: Move | undefined;
  let bestKey: readonly number[] = [];
  const consider = (move: Move): void => {
    const [violations, moved] = scoreMove(claim, move);
    const key = [moved / -violations, violations];
    if (violations < 0 && (best === undefined || compareKeys(key, bestKey) < 0)) {
      [best, bestKey] = [move, key];
    }
  };
  for (let i = 0; i < q; i++) {
    const owner = owners[i]!;
    if (samePairs(claim, owner, i) === 0) continue;
    for (let j = 0; j < q; j++) {
      if (owners[j] !== owner) consider([[i, owners[j]!], [j, owner]]);
    }
    if (counts[owner] === floor) continue;
    for (let member = 0; member < counts.length; member++) {
      if (counts[member] === floor) consider([[i, member]]);
    }
  }
  return best;
}

/** [change in violations, change in partitions away from `previous`] if `move` were applied. */
function scoreMove(claim: Claim, move: Move): [number, number] {
  const q = claim.owners.length;
  const starts = new Set<number>();
  for (const [p] of move) for (let d = 0; d < claim.n; d++) starts.add((p - d + q) % q);
  const moved = (): number => move.filter(([p]) => claim.owners[p] !== claim.previous[p]).length;
  const before = [countBad(claim.owners, starts, claim.n), moved()];
  const undo: Move = move.map(([p]) => [p, claim.owners[p]!]);
  applyMove(claim, move);
  const after = [countBad(claim.owners, starts, claim.n), moved()];
  applyMove(claim, undo);
  return [after[0]! - before[0]!, after[1]! - before[1]!];
}

function applyMove(claim: Claim, move: Move): void {
  for (const [p, owner] of move) {
    claim.counts[claim.owners[p]!]! -= 1;
    claim.owners[p] = owner;
    claim.counts[owner]! += 1;
  }
}

/** How many of the windows starting at `starts` repeat an owner. */
function countBad(owners: readonly unknown[], starts: Iterable<number>, n: number): number {
  let bad = 0;
  for (const start of starts) if (windowRepeats(owners, start, n)) bad += 1;
  return bad;
}

/** True when partitions start..start+n-1 (cyclic) do not have n distinct owners. */
function windowRepeats(owners: readonly unknown[], start: number, n: number): boolean {
  if (n > owners.length) return n > 1;
  const seen = new Set<unknown>();
  for (let d = 0; d < n; d++) seen.add(owners[(start + d) % owners.length]);
  return seen.size < n;
}

/** The partitions `node` owns, ascending; empty when it is not a member or owns none. */
export function partitionsOwnedBy(ring: Ring, node: NodeId): number[] {
  const owned: number[] = [];
  ring.owners.forEach((owner, p) => {
    if (owner === node) owned.push(p);
  });
  return owned;
}

/**
 * Partitions p, ascending, whose targetN consecutive partitions p..p+targetN-1 (cyclic) do not
 * have targetN distinct owners: a key hashed into such a p would have fewer than targetN distinct
 * nodes among the owners of its next targetN partitions (a "tail violation" in Riak's terms).
 * The preference list walks on to further partitions in that case, so keys still get distinct
 * replicas, but the load of those replicas falls on other nodes than the claim intended.
 * Empty when targetN = 1; every partition when targetN exceeds Q or the number of members.
 */
export function claimViolations(ring: Ring, targetN: number): number[] {
  if (!(Number.isInteger(targetN) && targetN >= 1)) throw new Error(`bad targetN: ${targetN}`);
  const violations: number[] = [];
  for (let p = 0; p < ring.owners.length; p++) {
    if (windowRepeats(ring.owners, p, targetN)) violations.push(p);
  }
  return violations;
}
