// The checks of what acknowledged writes superseded: every acknowledged write survives or was
// seen by a surviving write (no lost write), and nothing an acknowledged write saw comes back
// (no resurrection). Part of the one checker (checker.ts). Pure: no IO, clock or randomness.

import { contextCovers, dotKey } from "../../../node/core/causal-context.js";
import { valueTag, type RunHistory, type WriteRecord } from "./history.js";
import { short, type Report, type WriteIndex } from "./observations.js";

/**
 * No acknowledged write lost: starting from the final siblings, a write is accounted for when
 * an accounted write's context covers its dot (its writer saw it, or saw what superseded it).
 * What is acknowledged and not accounted for was lost. Indeterminate and failed writes are
 * never lost. Cost: each accounted write is compared with the writes still unaccounted, which
 * after the first few are almost none in a healthy run.
 *
 * A delete that may have happened (acknowledged or indeterminate) is accounted for by itself:
 * its tombstone is no sibling and may have been reaped, and what it superseded must stay gone
 * (checkResurrected). An acknowledged write that is gone is returned, not reported, when no
 * durable copy of it was promised: dw=0 (no disk had it when it was acknowledged), or dw ≤ 1
 * coordinated by a node force-removed since (its disk, the one sure copy, is gone for good).
 */
export function checkLostWrites(
  writes: readonly WriteRecord[],
  finalWrites: ReadonlyMap<string, readonly WriteRecord[]>,
  index: WriteIndex,
  report: Report,
  lostNodes: ReadonlySet<string> = new Set(),
): Set<WriteRecord> {
  const lostUndurable = new Set<WriteRecord>();
  // A delete that may have happened is a root: what it covered may be gone because of it.
  const deletesByKey = new Map<string, WriteRecord[]>();
  for (const write of writes) {
    if (write.deleted !== true || write.outcome === "fail") continue;
    deletesByKey.set(write.key, [...(deletesByKey.get(write.key) ?? []), write]);
  }
  const byKey = new Map<string, WriteRecord[]>();
  for (const write of writes) {
    if (index.dotOf(write) === undefined) continue;
    const list = byKey.get(write.key) ?? [];
    list.push(write);
    byKey.set(write.key, list);
  }
  for (const [key, candidates] of byKey) {
    const queue = [...(finalWrites.get(key) ?? []), ...(deletesByKey.get(key) ?? [])];
    const accounted = new Set<WriteRecord>(queue);
    let unaccounted = candidates.filter((write) => !accounted.has(write));
    for (let next = queue.pop(); next !== undefined && unaccounted.length > 0; next = queue.pop()) {
      const context = next.context;
      const still: WriteRecord[] = [];
      for (const write of unaccounted) {
        const dot = index.dotOf(write);
        if (dot !== undefined && contextCovers(context, dot)) {
          accounted.add(write);
          queue.push(write);
        } else still.push(write);
      }
      unaccounted = still;
    }
    for (const write of unaccounted) {
      if (write.outcome !== "ok") continue;
      if (!durablyPromised(write, index, lostNodes)) {
        lostUndurable.add(write);
        continue;
      }
      const dot = index.dotOf(write);
      report(
        "lost-write",
        `${key}: acknowledged ${short(write.value)} (dot ${dot === undefined ? "?" : dotKey(dot).replace("\u0000", ":")}) is gone and no surviving write saw it`,
      );
    }
  }
  return lostUndurable;
}

/**
 * Whether a durable copy of an acknowledged write is still promised: not for dw=0 (no disk had
 * it when it was acknowledged), nor when the disks sure to hold it may all be gone for good:
 * dw of them, the coordinator's and dw − 1 others, so a write whose coordinator was
 * force-removed with at least dw − 1 other nodes (simulation seed 1869: w=2, dw=2 on n2 and n3,
 * both force-removed). A delete's coordinator is not known (its reply carries no context, so no
 * dot): it is promised only while fewer than dw nodes have been force-removed.
 */
function durablyPromised(
  write: WriteRecord,
  index: WriteIndex,
  lostNodes: ReadonlySet<string>,
): boolean {
  if (write.durableRequired === false) return false;
  const durableCopies = write.durableCopies ?? 2;
  if (lostNodes.size < Math.max(1, durableCopies)) return true;
  const dot = index.dotOf(write);
  if (dot === undefined) return write.deleted !== true;
  return !lostNodes.has(dot.actor.slice(0, dot.actor.lastIndexOf(".")));
}

/**
 * Nothing superseded comes back: no final sibling's dot is covered by the context of an
 * acknowledged, durable write of its key. Such a write had seen the version, and every object
 * that holds the write (or what superseded it, or its reaped tombstone) excludes it; finding the
 * version again means a replica resurrected it (a tombstone reaped while a replica still had the
 * older version, a merge that dropped a context). Siblings beside their superseder are
 * siblings-not-concurrent instead. A write whose durable copy is no longer promised
 * (durablyPromised: dw=0, or every disk sure to hold it force-removed since) may be lost, and with it
 * its supersession: a delete whose one tombstone went with a force-removed node, say.
 */
export function checkResurrected(
  history: RunHistory,
  index: WriteIndex,
  report: Report,
  lostNodes: ReadonlySet<string> = new Set(),
): void {
  const superseders = new Map<string, WriteRecord[]>();
  for (const write of history.writes) {
    if (write.outcome !== "ok" || !durablyPromised(write, index, lostNodes)) continue;
    const list = superseders.get(write.key) ?? [];
    list.push(write);
    superseders.set(write.key, list);
  }
  for (const final of history.finals) {
    const candidates = superseders.get(final.key) ?? [];
    if (candidates.length === 0) continue;
    const present = new Set(final.siblings.map((sibling) => valueTag(sibling.value)));
    for (const sibling of final.siblings) {
      const write = index.byTag.get(valueTag(sibling.value));
      const dot = sibling.dot ?? (write === undefined ? undefined : index.dotOf(write));
      if (write === undefined || dot === undefined) continue;
      for (const later of candidates) {
        if (later === write || present.has(valueTag(later.value))) continue;
        if (!contextCovers(later.context, dot)) continue;
        const what = later.deleted === true ? "delete" : "write";
        report(
          "resurrected",
          `${final.key}: ${short(write.value)} is in the final siblings, but the acknowledged ${what} ${short(later.value)} had superseded it`,
          `${final.key}/${write.id}`,
        );
        break;
      }
    }
  }
}
