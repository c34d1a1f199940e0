// Read-repair planning: after a get has heard from every target (or its deadline passed),
// decides which primaries to send the merged object to (DESIGN §4; Riak's riak_kv_get_core
// final_action). Pure: the shell fires the repairs without waiting for them.

import type { ReadReply } from "./get-quorum.js";

/** A node's name; the shell passes NodeIds, which are strings. */
type NodeName = string;

/** What to repair: the merged object, and the primaries to write it to (in reply order). */
export interface RepairPlan<T> {
  readonly object: T | undefined;
  readonly targets: readonly NodeName[];
}

/**
 * Plans read repair from every reply a get received (GetQuorum.replies()).
 *
 * Merges every found object; then names every PRIMARY that answered not-found or with an
 * object not `same` as the merge, in reply order — Riak's final_action marks these as
 * `notfound` and `outofdate`. Never named:
 * - fallbacks: writing to them would create copies that hinted handoff and anti-entropy then
 *   have to chase (DESIGN §4; Riak 3.0.13's read_repair_primaryonly);
 * - replicas that returned an error: their state is unknown, and anti-entropy will reach them;
 * - anyone when nothing was found: a missing key needs no repair.
 *
 * `merge` must be commutative, associative and idempotent (the DVV sync), so the plan does
 * not depend on reply order; `same` must be an equivalence.
 */
export function planReadRepair<T>(args: {
  readonly replies: readonly {
    readonly node: NodeName;
    readonly primary: boolean;
    readonly reply: ReadReply<T>;
  }[];
  readonly merge: (a: T, b: T) => T;
  readonly same: (a: T, b: T) => boolean;
}): RepairPlan<T> {
  const nodes = new Set<NodeName>();
  let merged: T | undefined = undefined;
  for (const { node, reply } of args.replies) {
    // GetQuorum never records a node twice; a duplicate means the caller built the list.
    if (nodes.has(node)) throw new Error(`planReadRepair: two replies from ${node}`);
    nodes.add(node);
    if (!reply.ok || reply.object === undefined) continue;
    merged = merged === undefined ? reply.object : args.merge(merged, reply.object);
  }
  if (merged === undefined) return { object: undefined, targets: [] };

  const targets: NodeName[] = [];
  for (const { node, primary, reply } of args.replies) {
    if (!primary || !reply.ok) continue;
    if (reply.object === undefined || !args.same(reply.object, merged)) targets.push(node);
  }
  return { object: merged, targets };
}
