// The second way a put is acknowledged while a membership change moves its partition: by the
// old and the new primary sets' own members. Pure: a function of the replies so far.

import type { QuorumConfig } from "./quorum-options.js";

/**
 * The primaries of a write while a membership change moves its partition: `sets` holds the old
 * primaries and the new ones, `asked` the quorum the client asked for. Besides the widened
 * counts (acks from any w + widenBy targets, quorum-options.ts's widenQuorum), a write is
 * acknowledged as soon as, in every set, at least max(w, pw) of its own members acked and dw
 * of them durably: exactly the guarantee the widening buys (w old and w new primaries hold the
 * write), reached without waiting for the slowest extra node. It fails only when neither rule
 * can be met any more.
 */
export interface TransitionGroups {
  readonly sets: readonly (readonly string[])[];
  readonly asked: Pick<QuorumConfig, "w" | "dw" | "pw">;
}

/**
 * Whether the acks of the sets' own members meet the asked-for quorum in every set ("met"),
 * can still meet it counting every pending member as a durable ack ("reachable"), or cannot.
 * A member that is no target (down, a fallback stands in) counts as no ack: a fallback's hinted
 * copy is not a primary's.
 */
export function transitionGroupsState(
  groups: TransitionGroups,
  replies: ReadonlyMap<string, "ack" | "durable" | "failed">,
  isPending: (node: string) => boolean,
): "met" | "reachable" | "unreachable" {
  const { asked, sets } = groups;
  const acksNeeded = Math.max(asked.w, asked.pw);
  let met = true;
  for (const set of sets) {
    let acks = 0;
    let durable = 0;
    let silent = 0;
    for (const node of set) {
      const reply = replies.get(node);
      if (reply === "ack" || reply === "durable") acks += 1;
      if (reply === "durable") durable += 1;
      if (reply === undefined && isPending(node)) silent += 1;
    }
    if (acks + silent < acksNeeded || durable + silent < asked.dw) return "unreachable";
    if (acks < acksNeeded || durable < asked.dw) met = false;
  }
  return met ? "met" : "reachable";
}

/**
 * Which targets a put must ask to sync before they answer: those whose durable acks dw still
 * needs beyond the coordinator's own copy (`self`, durable or not). Outside a change, dw beyond
 * the local copy. During one, with every target a primary of one of the sets, per set (the group
 * rule above): a set that `self` belongs to, its copy durable, has one of its dw, and `node`
 * syncs when a set it belongs to needs more; the widened counts cannot acknowledge a put the
 * group rule cannot (a set short of w acks leaves the targets short of w + widenBy). With a
 * fallback among the targets they can, and every node syncs as the widened `dw` asks. Asking by
 * the widened dw alone made every replica sync during a change: five times a replica's fsyncs
 * (strace), and each write waiting for them.
 */
export function mustSync(
  groups: TransitionGroups | undefined,
  dw: number,
  self: string,
  selfDurable: boolean,
  targets: readonly { readonly node: string }[],
): (node: string) => boolean {
  const widened = dw > (selfDurable ? 1 : 0);
  if (groups === undefined) return () => widened;
  const inSet = (member: string): boolean => groups.sets.some((set) => set.includes(member));
  if (!targets.every((target) => inSet(target.node))) return () => widened;
  const short = groups.sets.filter(
    (set) => groups.asked.dw > (selfDurable && set.includes(self) ? 1 : 0),
  );
  return (node) => short.some((set) => set.includes(node));
}
