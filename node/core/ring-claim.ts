// The claim algorithm behind ring.ts's claimRing: stripe an empty ring, fill unclaimed
// partitions, balance with few moves, then repair windows of targetN that repeat a node
// (ring-claim-repair.ts). Pure: no IO, clock or randomness; the same inputs always give the
// same owners.

import type { NodeId } from "./node-id.js";
import {
  type Claim,
  applyMove,
  countBad,
  repairViolations,
  samePairs,
} from "./ring-claim-repair.js";

/**
 * Claims the Q partitions for `members` (distinct and sorted), keeping every targetN consecutive
 * partitions on distinct members where it can; `claimRing` in ring.ts states the guarantees.
 * Returns each partition's owner as an index into `members`. With `previous` (the owners of the
 * previous ring, length Q) it moves few partitions, unless claiming afresh leaves fewer
 * violations. Expects valid inputs: ring.ts checks them.
 */
export function claimOwners(
  members: readonly NodeId[],
  q: number,
  n: number,
  previous?: readonly NodeId[],
): number[] {
  let owners = claimFrom(startClaim(members, q, n, previous));
  const violations = countBad(owners, owners.keys(), n);
  if (previous !== undefined && violations > 0) {
    const fresh = claimFrom(startClaim(members, q, n, undefined));
    if (countBad(fresh, fresh.keys(), n) < violations) owners = fresh;
  }
  return owners;
}

/** Starts from `previous` (partitions of members that left unclaimed) or from an empty ring. */
function startClaim(
  members: readonly NodeId[],
  q: number,
  n: number,
  previous?: readonly NodeId[],
): Claim {
  const index = new Map(members.map((member, i) => [member, i]));
  const owners = Array.from({ length: q }, (_, p) =>
    previous === undefined ? -1 : (index.get(previous[p]!) ?? -1),
  );
  const counts = members.map(() => 0);
  for (const owner of owners) if (owner >= 0) counts[owner]! += 1;
  return { n, owners, previous: [...owners], counts };
}

/** Deals, balances and repairs one claim; returns its owners. */
function claimFrom(claim: Claim): number[] {
  const empty = claim.owners.every((owner) => owner < 0);
  if (empty) stripe(claim);
  fillUnclaimed(claim);
  while (takeOnePartition(claim)) {
    // Each call moves one partition towards balance, so this ends within Q calls.
  }
  if (claim.n > 1 && claim.n <= Math.min(claim.owners.length, claim.counts.length)) {
    repairViolations(claim, empty);
  }
  return claim.owners;
}

/**
 * Deals an empty ring in laps of the members in index order. With Q = a·S + b (0 < b < S) the
 * a+1 laps have K = S - b slots too many, so members b..S-1 each sit out one lap. The skips are
 * cut into runs of at most S - targetN members, one run per lap in evenly spread laps, so a
 * window that jumps a run still spans at most S consecutive members of the lap order and repeats
 * nobody, provided at least targetN-1 members pass between two runs. With a lap to spare, or
 * b ≥ targetN-1, runs taken in ascending member order leave gaps of S and, at the wrap, b.
 * Otherwise runs taken in descending order leave gaps of S minus two run lengths. When neither
 * works (S ≤ targetN, or S near Q) the greedy fill deals the ring instead.
 */
function stripe(claim: Claim): void {
  const { owners, counts, n } = claim;
  const [q, s] = [owners.length, counts.length];
  const laps = Math.ceil(q / s);
  const skipped = laps * s - q;
  const runs = skipped === 0 ? 0 : Math.ceil(skipped / Math.max(s - n, 1));
  const ascending = runs < laps || s - skipped >= n - 1;
  const descending = s - 2 * Math.ceil(skipped / runs) >= n - 1;
  if (skipped > 0 && !(s > n && runs <= laps && (ascending || descending))) return;
  const offset = (run: number): number => Math.floor((run * skipped) / runs);
  for (let lap = 0, run = 0, p = 0; lap < laps; lap++) {
    let [skipFrom, skipTo] = [s, s];
    if (run < runs && Math.floor((run * laps) / runs) === lap) {
      if (ascending) {
        [skipFrom, skipTo] = [s - skipped + offset(run), s - skipped + offset(run + 1)];
      } else {
        [skipFrom, skipTo] = [s - offset(run + 1), s - offset(run)];
      }
      run += 1;
    }
    for (let member = 0; member < s; member++) {
      if (member < skipFrom || member >= skipTo) {
        [owners[p++], counts[member]] = [member, counts[member]! + 1];
      }
    }
  }
}

/**
 * Gives each unclaimed partition, in ring order, to a member that may still grow (below
 * floor(Q/S), or at it while fewer than Q mod S members hold ceil(Q/S), so who ends up with the
 * extra follows the geometry): the one with the fewest partitions within targetN-1 of it, then
 * the one owning fewest, then the one unseen for longest counter-clockwise. On an empty ring this
 * deals round-robin, the best there is for S = targetN. Some member may always grow while a
 * partition is unclaimed, since the shares add up to Q.
 */
function fillUnclaimed(claim: Claim): void {
  const { owners, counts, n } = claim;
  const [q, s] = [owners.length, counts.length];
  const [floor, extra] = [Math.floor(q / s), q % s];
  let atCeil = counts.filter((count) => count > floor).length;
  const lastSeen = counts.map(() => -2 * q);
  owners.forEach((owner, p) => owner >= 0 && (lastSeen[owner] = p - q));
  const near = counts.map(() => 0);
  const neighbours = (p: number): number[] =>
    Array.from({ length: n - 1 }, (_, i) => [
      owners[(p + i + 1) % q]!,
      owners[(p - i - 1 + q) % q]!,
    ]).flat();
  for (let p = 0; p < q; p++) {
    if (owners[p]! < 0) {
      for (const owner of neighbours(p)) if (owner >= 0) near[owner]! += 1;
      let [best, bestScore] = [-1, Infinity];
      for (let member = 0; member < s; member++) {
        const count = counts[member]!;
        if (!(count < floor || (count === floor && atCeil < extra))) continue;
        // (near, count, lastSeen) compared lexicographically, packed exactly into one number.
        const score = (near[member]! * (q + 1) + count) * 4 * q + lastSeen[member]! + 2 * q;
        if (score < bestScore) [best, bestScore] = [member, score];
      }
      for (const owner of neighbours(p)) if (owner >= 0) near[owner] = 0;
      if (best < 0) throw new Error("claim: an unclaimed partition but no member may grow");
      [owners[p], counts[best]] = [best, counts[best]! + 1];
      if (counts[best] === floor + 1) atCeil += 1;
    }
    lastSeen[owners[p]!] = p;
  }
}

/**
 * One balancing step once all is claimed: the smallest member takes a partition from a member
 * above ceil(Q/S), or if there is none from one above floor(Q/S) — taking only from members
 * over their share is what keeps a join near Q/S moves. It takes the partition where it adds the
 * fewest same-node pairs within targetN-1 (net of those the donor loses), then the farthest from
 * its own partitions up to the even spacing d = Q/ceil(Q/S), then the first: a joiner lays its
 * partitions about d apart. (Farthest with no cap places them like a binary subdivision, and the
 * last few halve gaps below targetN, which forced re-striping.) False when balanced.
 */
function takeOnePartition(claim: Claim): boolean {
  const { owners, counts } = claim;
  const [floor, ceil] = [
    Math.floor(owners.length / counts.length),
    Math.ceil(owners.length / counts.length),
  ];
  const smallest = counts.indexOf(Math.min(...counts));
  const over = counts.some((count) => count > ceil);
  if (!over && counts[smallest]! >= floor) return false;
  const distance = distanceToOwned(owners, smallest);
  const spacing = Math.floor(owners.length / ceil);
  let [best, bestScore] = [-1, Infinity];
  for (let p = 0; p < owners.length; p++) {
    const donor = owners[p]!;
    if (counts[donor]! <= (over ? ceil : floor)) continue;
    const pairs = samePairs(claim, smallest, p) - samePairs(claim, donor, p);
    // (pairs, -clipped distance) compared lexicographically, packed exactly into one number.
    const score = pairs * (owners.length + 1) - Math.min(distance[p]!, spacing);
    if (score < bestScore) [best, bestScore] = [p, score];
  }
  if (best < 0) throw new Error("claim: unbalanced but no member above its share");
  applyMove(claim, [[best, smallest]]);
  return true;
}

/** Cyclic distance from each partition to the nearest one `member` owns (Q if it owns none). */
function distanceToOwned(owners: readonly number[], member: number): number[] {
  const q = owners.length;
  const distance = owners.map(() => q);
  for (const direction of [1, -1]) {
    let last = -1;
    for (let step = 0; step < 2 * q; step++) {
      const p = direction > 0 ? step % q : q - 1 - (step % q);
      if (owners[p] === member) last = step;
      if (last >= 0) distance[p] = Math.min(distance[p]!, step - last);
    }
  }
  return distance;
}
