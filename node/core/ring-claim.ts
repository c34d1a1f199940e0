// The claim algorithm behind ring.ts's claimRing: stripe an empty ring, fill unclaimed
// partitions, balance with few moves, then repair windows of targetN that repeat a node.
// Pure: no IO, clock or randomness; the same inputs always give the same owners.

import type { NodeId } from "./node-id.js";

/**
 * With at most fewViolations·targetN violations left after a join or leave, the repair also
 * runs a full search (`bestMove`): thorough, but it scores Q moves per violating partition per
 * round, too slow for a ring that has many.
 */
const fewViolations = 4;

/** Working state of one claim, in member indices; -1 marks an unclaimed partition. */
interface Claim {
  readonly n: number;
  readonly owners: number[];
  readonly previous: readonly number[];
  readonly counts: number[];
}

/** Partitions and their new owners: a swap has two entries, a hand-over one. */
type Move = readonly (readonly [partition: number, owner: number])[];

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

/**
 * Local search for spread; every move keeps the balance: a swap of two partitions' owners, or a
 * hand-over from a member at ceil(Q/S) to one at floor(Q/S). First, passes of clean moves (no
 * node lands within targetN-1 of itself), cheap enough for any ring. Then, for an empty ring or
 * when few violations are left, the best move of a full search per round. Each move lowers
 * (violations, same-node pairs), so this ends; Q rounds bound it regardless.
 */
function repairViolations(claim: Claim, thorough: boolean): void {
  const { owners, n } = claim;
  for (let round = 0; round < owners.length; round++) {
    // Cheapest first: moves that cost no partition, then one, then two (a swap of two owners).
    if ([0, 1, 2].some((movedMax) => cleanPass(claim, movedMax))) continue;
    if (!thorough && countBad(owners, owners.keys(), n) > fewViolations * n) return;
    const move = bestMove(claim);
    if (move === undefined) return;
    applyMove(claim, move);
  }
}

/**
 * Fixes each partition that has its owner within targetN-1, in ring order, with the clean move
 * that moves the fewest partitions away from `previous` (then removes the most same-node pairs,
 * then comes first), if that costs at most `movedMax` partitions. Returns whether any moved.
 */
function cleanPass(claim: Claim, movedMax: number): boolean {
  let changed = false;
  for (let i = 0; i < claim.owners.length; i++) {
    if (samePairs(claim, claim.owners[i]!, i) === 0) continue;
    let [best, bestKey] = [undefined as Move | undefined, [movedMax + 1]];
    for (const move of movesAt(claim, i, true)) {
      const pairs = move.reduce((sum, [p]) => sum + samePairs(claim, claim.owners[p]!, p), 0);
      const key = [movedBy(claim, move), -pairs];
      if (compareKeys(key, bestKey) < 0) [best, bestKey] = [move, key];
    }
    if (best !== undefined) {
      applyMove(claim, best);
      changed = true;
    }
  }
  return changed;
}

/**
 * The move of a full search that removes violations at the lowest cost in partitions moved
 * away from `previous` per violation removed (ties: more removed, then lower partitions).
 */
function bestMove(claim: Claim): Move | undefined {
  let [best, bestKey] = [undefined as Move | undefined, [Infinity]];
  for (let i = 0; i < claim.owners.length; i++) {
    if (samePairs(claim, claim.owners[i]!, i) === 0) continue;
    for (const move of movesAt(claim, i, false)) {
      const [violations, moved] = scoreMove(claim, move);
      const key = [moved / -violations, violations];
      if (violations < 0 && compareKeys(key, bestKey) < 0) [best, bestKey] = [move, key];
    }
  }
  return best;
}

/**
 * The moves that keep the balance and take partition i from its owner: swaps with every other
 * partition and, when Q mod S ≠ 0 and the owner is at ceil(Q/S), hand-overs to each member at
 * floor(Q/S). `clean` keeps only those that put no node within targetN-1 of itself.
 */
function* movesAt(claim: Claim, i: number, clean: boolean): Generator<Move> {
  const { owners, counts } = claim;
  const owner = owners[i]!;
  for (let j = 0; j < owners.length; j++) {
    const other = owners[j]!;
    if (other === owner) continue;
    if (!clean || (fitsAt(claim, other, i, j) && fitsAt(claim, owner, j, i))) {
      yield [
        [i, other],
        [j, owner],
      ];
    }
  }
  const floor = Math.floor(owners.length / counts.length);
  if (owners.length % counts.length === 0 || counts[owner] === floor) return;
  for (let member = 0; member < counts.length; member++) {
    if (counts[member] === floor && (!clean || fitsAt(claim, member, i, -1))) yield [[i, member]];
  }
}

/** How many more partitions than now would be away from their `previous` owner after `move`. */
function movedBy(claim: Claim, move: Move): number {
  const { owners, previous } = claim;
  return move.reduce(
    (sum, [p, owner]) => sum + Number(owner !== previous[p]) - Number(owners[p] !== previous[p]),
    0,
  );
}

/** True when `member` owns no partition within targetN-1 of p, not counting `except`. */
function fitsAt(claim: Claim, member: number, p: number, except: number): boolean {
  const { owners, n } = claim;
  const q = owners.length;
  for (let d = 1; d < n; d++) {
    const [after, before] = [(p + d) % q, (p - d + q) % q];
    if (after !== except && owners[after] === member) return false;
    if (before !== except && owners[before] === member) return false;
  }
  return true;
}

/** [change in violations, `movedBy`] if `move` were applied. */
function scoreMove(claim: Claim, move: Move): [number, number] {
  const { owners, n } = claim;
  const starts = new Set(
    move.flatMap(([p]) =>
      Array.from({ length: n }, (_, d) => (p - d + owners.length) % owners.length),
    ),
  );
  const moved = movedBy(claim, move);
  const before = countBad(owners, starts, n);
  const undo: Move = move.map(([p]) => [p, owners[p]!]);
  applyMove(claim, move);
  const after = countBad(owners, starts, n);
  applyMove(claim, undo);
  return [after - before, moved];
}

function applyMove(claim: Claim, move: Move): void {
  for (const [p, owner] of move) {
    claim.counts[claim.owners[p]!]! -= 1;
    [claim.owners[p], claim.counts[owner]] = [owner, claim.counts[owner]! + 1];
  }
}

/** How many other partitions within targetN-1 of p (either side) `member` owns. */
function samePairs(claim: Claim, member: number, p: number): number {
  const q = claim.owners.length;
  let pairs = 0;
  for (let d = 1; d < claim.n; d++) {
    if (claim.owners[(p + d) % q] === member) pairs += 1;
    if (claim.owners[(((p - d) % q) + q) % q] === member) pairs += 1;
  }
  return pairs;
}

/** Lexicographic order of equal-length number tuples. */
function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** How many of the windows starting at `starts` repeat an owner. */
function countBad(owners: readonly unknown[], starts: Iterable<number>, n: number): number {
  let bad = 0;
  for (const start of starts) if (windowRepeats(owners, start, n)) bad += 1;
  return bad;
}

/** True when partitions start..start+n-1 (cyclic) do not have n distinct owners. */
export function windowRepeats(owners: readonly unknown[], start: number, n: number): boolean {
  if (n > owners.length) return true;
  for (let i = 1; i < n; i++) {
    const owner = owners[(start + i) % owners.length];
    for (let j = 0; j < i; j++) if (owners[(start + j) % owners.length] === owner) return true;
  }
  return false;
}
