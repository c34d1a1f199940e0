// The last step of ring-claim.ts's claim: a local search of balance-keeping moves (swaps and
// hand-overs) that repairs windows of targetN partitions repeating a node, with the claim's
// working state and the window checks both steps use. Pure: no IO, clock or randomness.

/**
 * With at most fewViolations·targetN violations left after a join or leave, the repair also
 * runs a full search (`bestMove`): thorough, but it scores Q moves per violating partition per
 * round, too slow for a ring that has many.
 */
const fewViolations = 4;

/** Working state of one claim, in member indices; -1 marks an unclaimed partition. */
export interface Claim {
  readonly n: number;
  readonly owners: number[];
  readonly previous: readonly number[];
  readonly counts: number[];
}

/** Partitions and their new owners: a swap has two entries, a hand-over one. */
type Move = readonly (readonly [partition: number, owner: number])[];

/**
 * Local search for spread; every move keeps the balance: a swap of two partitions' owners, or a
 * hand-over from a member at ceil(Q/S) to one at floor(Q/S). First, passes of clean moves (no
 * node lands within targetN-1 of itself), cheap enough for any ring. Then, for an empty ring or
 * when few violations are left, the best move of a full search per round. Each move lowers
 * (violations, same-node pairs), so this ends; Q rounds bound it regardless.
 */
export function repairViolations(claim: Claim, thorough: boolean): void {
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

/** Gives each partition of `move` its new owner, keeping the counts. */
export function applyMove(claim: Claim, move: Move): void {
  for (const [p, owner] of move) {
    claim.counts[claim.owners[p]!]! -= 1;
    [claim.owners[p], claim.counts[owner]] = [owner, claim.counts[owner]! + 1];
  }
}

/** How many other partitions within targetN-1 of p (either side) `member` owns. */
export function samePairs(claim: Claim, member: number, p: number): number {
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
export function countBad(owners: readonly unknown[], starts: Iterable<number>, n: number): number {
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
