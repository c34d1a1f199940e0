// The plan of a membership transition (`dkv cluster plan`): which partitions change primaries
// between two rings, who sends each one's data to whom, how long that takes and what looks
// wrong. Pure: no IO, clock or randomness; a function of the two rings and plain inputs.

import type { NodeId } from "./node-id.js";
import { isValidPartitionCount, type Ring } from "./ring.js";

/** One partition whose primaries differ between the two rings (as sets). */
export interface PartitionMove {
  readonly partition: number;
  /** The old primaries, in ring-walk order. */
  readonly from: readonly NodeId[];
  /** The new primaries, in ring-walk order. */
  readonly to: readonly NodeId[];
  /** to \ from, in the order of `to`: the nodes that must receive the partition's data. */
  readonly gaining: readonly NodeId[];
  /** from \ to, in the order of `from`: the nodes that drop their copy after the transition. */
  readonly losing: readonly NodeId[];
  /** The old primary that sends the data; undefined when every old primary is unavailable. */
  readonly source: NodeId | undefined;
}

/** What one sender sends one receiver, summed over the partitions it sources for it. */
export interface PairTransfer {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly partitions: number;
  readonly keys: number;
  readonly bytes: number;
}

/** Partitions claimed by one node in the previous and the next ring. */
export interface Ownership {
  readonly node: NodeId;
  readonly before: number;
  readonly after: number;
}

/** Everything `dkv cluster plan` shows about a transition. */
export interface ClusterPlan {
  /** Moving partitions, ascending. */
  readonly moves: readonly PartitionMove[];
  /** One row per (sender, receiver) pair, sorted by sender then receiver. */
  readonly transfers: readonly PairTransfer[];
  /** The busiest sender's bytes over the throttle; undefined without stats or a throttle > 0. */
  readonly etaSeconds: number | undefined;
  /** Sentences for the operator, in a fixed order: node count, balance, lost partitions. */
  readonly warnings: readonly string[];
  /** Every member of either ring, sorted. */
  readonly ownership: readonly Ownership[];
}

/** What a transition plan is computed from. */
export interface PlanInput {
  readonly previous: Ring;
  readonly next: Ring;
  /** The replication factor: primaries per partition. */
  readonly n: number;
  /** Nodes that cannot serve as a source (force-removed, dead). */
  readonly unavailable?: ReadonlySet<NodeId>;
  /** Estimated keys/bytes per partition held by one replica (from the nodes' stats); absent → 0. */
  readonly partitionStats?: (partition: number) => { keys: number; bytes: number };
  /** Transfer throttle per sending node, bytes/s; absent or 0 → no ETA. */
  readonly bytesPerSecondPerSender?: number;
}

/**
 * Above this multiple of the mean partitions per owning node, the next ring is called unbalanced:
 * that node would serve half as much again as its peers. claimRing never comes near it.
 */
const ownershipSkewMax = 1.5;

/**
 * The primaries of `partition` for replication factor `n` with every ring node up: the first n
 * distinct owners met walking partitions clockwise from it, then members that own no partition,
 * sorted (only when S > Q). This is the walk of `preferenceList` (coordinator/core/
 * preference-list.ts), which node/ may not import; a property test pins that the two agree.
 * Throws when `partition` is not in 0..Q-1 or n is not a positive integer.
 */
export function primarySet(ring: Ring, partition: number, n: number): NodeId[] {
  const q = ring.owners.length;
  if (!(Number.isInteger(partition) && partition >= 0 && partition < q)) {
    throw new Error(`cluster plan: partition ${partition} is not in 0..${q - 1}`);
  }
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new Error(`cluster plan: n must be a positive integer, got ${n}`);
  }
  const seen = new Set<NodeId>();
  for (let step = 0; step < q && seen.size < n; step++)
    seen.add(ring.owners[(partition + step) % q]!);
  for (const node of ring.nodes) if (seen.size < n) seen.add(node);
  return [...seen];
}

/**
 * Plans the transition from `previous` to `next` (membership-design.md, "Transition"): partition
 * p moves when its primaries for n differ as sets; its gaining nodes (new \ old) need its data
 * from one source among the old primaries that are not `unavailable`.
 *
 * The source is chosen partition by partition, ascending: the available old primary that has
 * been asked to send the fewest bytes so far, then the fewest partition copies, then the
 * smallest id. Senders work in parallel, so spreading bytes shortens the ETA.
 *
 * Laws (checked in test/property/node/core/cluster-plan.property.test.ts):
 * - a partition is in `moves` exactly when its primary sets differ;
 * - gaining ∪ (from ∩ to) = to and losing ∪ (from ∩ to) = from, disjointly;
 * - the partitions over all transfers = the gaining nodes over all moves that have a source;
 * - planning a ring to itself gives no moves, no transfers and an ETA of 0 (given stats and
 *   a throttle);
 * - the same input gives the same plan.
 *
 * Cost: O(Q·(n + S)) for S members; fine for a command, never for a request path.
 * Throws on a bad input: rings of different Q, a ring whose owners do not number Q, n not a
 * positive integer, a negative or non-finite throttle, or stats that are not finite and ≥ 0.
 */
export function planTransition(input: PlanInput): ClusterPlan {
  checkInput(input);
  const { previous, next, n } = input;
  const unavailable = input.unavailable ?? new Set<NodeId>();
  const ledger: Ledger = { senders: new Map(), pairs: new Map() };
  const moves: PartitionMove[] = [];
  for (let p = 0; p < previous.owners.length; p++) {
    const from = primarySet(previous, p, n);
    const to = primarySet(next, p, n);
    const gaining = to.filter((node) => !from.includes(node));
    const losing = from.filter((node) => !to.includes(node));
    if (gaining.length === 0 && losing.length === 0) continue;
    const available = from.filter((node) => !unavailable.has(node));
    const source = leastLoaded(available, ledger.senders);
    if (source !== undefined) record(ledger, source, gaining, statsOf(input, p));
    moves.push(Object.freeze({ partition: p, from, to, gaining, losing, source }));
  }
  const lost = moves.filter((move) => move.source === undefined).map(lostWarning);
  const transfers = [...ledger.pairs.values()].sort(
    (a, b) => compareIds(a.from, b.from) || compareIds(a.to, b.to),
  );
  return Object.freeze({
    moves: Object.freeze(moves),
    transfers: Object.freeze(transfers.map((transfer) => Object.freeze({ ...transfer }))),
    etaSeconds: eta(input, ledger.senders),
    warnings: Object.freeze([...shapeWarnings(next, n), ...lost]),
    ownership: Object.freeze(ownership(previous, next)),
  });
}

/** What one sender has been booked to send so far: bytes, and partition copies. */
type Load = { readonly bytes: number; readonly copies: number };

/** The sends planned so far: each sender's load and each (sender, receiver) pair's sums. */
interface Ledger {
  readonly senders: Map<NodeId, Load>;
  readonly pairs: Map<string, { -readonly [K in keyof PairTransfer]: PairTransfer[K] }>;
}

const noTransfer = { partitions: 0, keys: 0, bytes: 0 } as const;

/** Books `source` sending one partition with `stats` to each of `gaining`. */
function record(
  ledger: Ledger,
  source: NodeId,
  gaining: readonly NodeId[],
  stats: { keys: number; bytes: number },
): void {
  const load = ledger.senders.get(source) ?? { bytes: 0, copies: 0 };
  ledger.senders.set(source, {
    bytes: load.bytes + stats.bytes * gaining.length,
    copies: load.copies + gaining.length,
  });
  for (const node of gaining) {
    // Node ids have no spaces, so "from to" names the pair uniquely.
    const key = `${source} ${node}`;
    const pair = ledger.pairs.get(key) ?? { from: source, to: node, ...noTransfer };
    ledger.pairs.set(key, pair);
    [pair.partitions, pair.keys, pair.bytes] = [
      pair.partitions + 1,
      pair.keys + stats.keys,
      pair.bytes + stats.bytes,
    ];
  }
}

function checkInput(input: PlanInput): void {
  const { previous, next, n, bytesPerSecondPerSender: rate } = input;
  for (const ring of [previous, next]) {
    const q = ring.partitionCount;
    if (!isValidPartitionCount(q) || ring.owners.length !== q) {
      throw new Error(
        `cluster plan: the ${ring === previous ? "previous" : "next"} ring is malformed: ` +
          `${ring.owners.length} owners for Q = ${q} (Q must be 2^k in 1..4096, one per partition)`,
      );
    }
  }
  if (previous.partitionCount !== next.partitionCount) {
    throw new Error(
      `cluster plan: the rings have different partition counts (${previous.partitionCount} ` +
        `before, ${next.partitionCount} after); Q is fixed when a cluster is created`,
    );
  }
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new Error(`cluster plan: n must be a positive integer, got ${n}`);
  }
  if (rate !== undefined && !(Number.isFinite(rate) && rate >= 0)) {
    throw new Error(
      `cluster plan: bytes per second per sender must be finite and ≥ 0, got ${rate}`,
    );
  }
}

/** The stats of one replica of `partition`, checked; zeros without a stats function. */
function statsOf(input: PlanInput, partition: number): { keys: number; bytes: number } {
  if (input.partitionStats === undefined) return { keys: 0, bytes: 0 };
  const { keys, bytes } = input.partitionStats(partition);
  if (![keys, bytes].every((value) => Number.isFinite(value) && value >= 0)) {
    throw new Error(
      `cluster plan: partition ${partition} has keys = ${keys}, bytes = ${bytes}; ` +
        `stats must be finite and ≥ 0`,
    );
  }
  return { keys, bytes };
}

/** The candidate with the fewest bytes to send, then fewest copies, then the smallest id. */
function leastLoaded(
  candidates: readonly NodeId[],
  senders: ReadonlyMap<NodeId, Load>,
): NodeId | undefined {
  let best: NodeId | undefined;
  let bestLoad = { bytes: 0, copies: 0 };
  for (const node of candidates) {
    const load = senders.get(node) ?? { bytes: 0, copies: 0 };
    const better =
      best === undefined ||
      load.bytes < bestLoad.bytes ||
      (load.bytes === bestLoad.bytes &&
        (load.copies < bestLoad.copies || (load.copies === bestLoad.copies && node < best)));
    if (better) [best, bestLoad] = [node, load];
  }
  return best;
}

/**
 * The busiest sender's bytes over the throttle: senders stream in parallel, receivers are not the
 * bottleneck in this estimate. Undefined without a throttle, or without stats (0 bytes would
 * claim an instant transition the plan knows nothing about).
 */
function eta(input: PlanInput, senders: ReadonlyMap<NodeId, Load>): number | undefined {
  const rate = input.bytesPerSecondPerSender;
  if (rate === undefined || rate === 0 || input.partitionStats === undefined) return undefined;
  let busiest = 0;
  for (const load of senders.values()) busiest = Math.max(busiest, load.bytes);
  return busiest / rate;
}

function lostWarning(move: PartitionMove): string {
  const from = move.from.join(", ");
  return `partition ${move.partition} has no surviving copy: its old primaries ${from} are all unavailable`;
}

/** Too few owners for distinct replicas, then nodes far above the mean, in node order. */
function shapeWarnings(next: Ring, n: number): string[] {
  const counts = ownedCounts(next);
  const owning = [...counts.keys()].sort(compareIds);
  const warnings: string[] = [];
  if (owning.length < n) {
    const who = owning.length === 1 ? "only 1 node owns" : `only ${owning.length} nodes own`;
    warnings.push(`${who} partitions; n=${n} needs ${n} for distinct replicas`);
  }
  const mean = next.owners.length / owning.length;
  for (const node of owning) {
    const count = counts.get(node)!;
    if (count > ownershipSkewMax * mean) {
      warnings.push(
        `node ${node} owns ${count} partitions, more than ${ownershipSkewMax}× ` +
          `the mean of ${Number(mean.toFixed(2))} per owning node`,
      );
    }
  }
  return warnings;
}

function ownership(previous: Ring, next: Ring): Ownership[] {
  const [before, after] = [ownedCounts(previous), ownedCounts(next)];
  const nodes = new Set([...previous.nodes, ...next.nodes, ...before.keys(), ...after.keys()]);
  return [...nodes].sort(compareIds).map((node) => {
    return Object.freeze({ node, before: before.get(node) ?? 0, after: after.get(node) ?? 0 });
  });
}

function ownedCounts(ring: Ring): Map<NodeId, number> {
  const counts = new Map<NodeId, number>();
  for (const owner of ring.owners) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  return counts;
}

/** Code-unit order, as claimRing sorts members: the same on every machine. */
function compareIds(a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
