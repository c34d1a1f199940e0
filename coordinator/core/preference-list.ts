// Preference lists (DESIGN §3; Riak's get_apl_ann): the primaries of a key and the fallbacks
// that stand in for down primaries. Pure.

import type { NodeId } from "../../node/core/node-id.js";
import type { Ring } from "../../node/core/ring.js";

export type PreferenceEntry =
  | { readonly node: NodeId; readonly role: "primary" }
  | { readonly node: NodeId; readonly role: "fallback"; readonly standsInFor: NodeId };

export interface PreferenceList {
  readonly primaries: readonly NodeId[];
  readonly targets: readonly PreferenceEntry[];
  readonly spares: readonly NodeId[];
}

/** The preference list of the key in `partition`, walking distinct owners clockwise. */
export function preferenceList(
  ring: Ring,
  upNodes: ReadonlySet<NodeId>,
  partition: number,
  n: number,
  options: { readonly sloppy?: boolean } = {},
): PreferenceList {
  const walk: NodeId[] = [];
  for (let step = 0; step < ring.partitionCount; step++) {
    const owner = ring.owners[(partition + step) % ring.partitionCount];
    if (owner !== undefined && !walk.includes(owner)) walk.push(owner);
  }
  const primaries = walk.slice(0, n);
  const others = walk.slice(n).filter((node) => upNodes.has(node));
  const targets: PreferenceEntry[] = [];
  const sloppy = options.sloppy ?? true;
  for (const primary of primaries) {
    if (upNodes.has(primary)) targets.push({ node: primary, role: "primary" });
    else if (sloppy && others.length > 0) {
      targets.push({ node: others.shift() as NodeId, role: "fallback", standsInFor: primary });
    }
  }
  return { primaries, targets, spares: others };
}
