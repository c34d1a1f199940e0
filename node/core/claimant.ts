// The claimant (Riak's riak_core_claimant): the one node that applies staged membership changes
// and commits, so that two operators at two nodes land in one staged set and one commit wins by
// the revision check instead of by a gossip merge. Pure: a function of (layout, up nodes).

import type { Layout, MemberState } from "./layout.js";
import type { NodeId } from "./node-id.js";

/**
 * The claimant of `layout` as a node that believes `up` are alive: the lowest node id (UTF-16
 * order, as byNode sorts) among the valid members that are up; when no valid member is up, the
 * lowest up joining member; else none. Riak's claimant is the first valid member; joining ones
 * are the fallback because they hold the same metadata and outlive a transition that removes
 * every old member. Leaving and removed members are never claimant: they are on their way out.
 *
 * Laws (test/property/node/core/claimant.property.test.ts): the result is in `up` and is a
 * valid or joining member of `layout`; it depends on `up` only through the members it lists
 * (order of listing irrelevant); nodes with equal (layout, up) choose the same claimant; a valid
 * member that is up is chosen over every joining one; adding to `up` a node with a higher id
 * than the current claimant does not change it.
 */
export function claimantOf(layout: Layout, up: ReadonlySet<NodeId>): NodeId | undefined {
  return lowestUp(layout, up, "valid") ?? lowestUp(layout, up, "joining");
}

function lowestUp(layout: Layout, up: ReadonlySet<NodeId>, state: MemberState): NodeId | undefined {
  let lowest: NodeId | undefined;
  for (const member of layout.members) {
    if (member.state !== state || !up.has(member.node)) continue;
    if (lowest === undefined || member.node < lowest) lowest = member.node;
  }
  return lowest;
}

/** What a node does with a Stage, Clear, Plan or Commit it received. */
export type ClaimantRoute =
  /** This node is the claimant: it applies the call itself. */
  | { readonly kind: "apply" }
  /** Another node is the claimant: send the call there and return its answer. */
  | { readonly kind: "forward"; readonly claimant: NodeId; readonly address: string }
  /**
   * The call was forwarded already and this node is not the claimant in its own view: refuse,
   * naming who it thinks the claimant is, so a call is forwarded at most once and never loops.
   */
  | { readonly kind: "refuse-forwarded"; readonly claimant: NodeId | undefined }
  /** No valid or joining member is up: nothing can be applied anywhere. */
  | { readonly kind: "no-claimant" };

/**
 * Where a membership call received by `self` goes. `forwarded` is true when it came from
 * another node's forwarding (the dkv-forwarded header). A claimant without an address in the
 * layout cannot happen (members always carry one); it is treated as no claimant.
 */
export function routeMembershipCall(options: {
  readonly layout: Layout;
  readonly up: ReadonlySet<NodeId>;
  readonly self: NodeId;
  readonly forwarded: boolean;
}): ClaimantRoute {
  const { layout, up, self, forwarded } = options;
  const claimant = claimantOf(layout, up);
  if (claimant === self) return { kind: "apply" };
  if (forwarded) return { kind: "refuse-forwarded", claimant };
  if (claimant === undefined) return { kind: "no-claimant" };
  const address = layout.members.find((member) => member.node === claimant)?.address;
  return address === undefined ? { kind: "no-claimant" } : { kind: "forward", claimant, address };
}
