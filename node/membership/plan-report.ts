// What `dkv cluster plan` shows: the staged changes, the layout committing them would make,
// and the transition to it (node/core/cluster-plan.ts) — partitions that move, transfers per
// node pair with their estimated keys and bytes, an ETA and warnings. The CLI prints it as a
// table or, with --json, as it is.

import { ringsOf, type ClusterMetadata, type StagedChange } from "../core/layout.js";
import { commitStaged } from "../core/layout-merge.js";
import { planTransition, type ClusterPlan } from "../core/cluster-plan.js";
import type { NodeId } from "../core/node-id.js";

/** Keys and bytes one replica of one partition holds, estimated from this node's store. */
export interface PartitionEstimate {
  readonly keys: number;
  readonly bytes: number;
}

/** The plan as the Membership service sends it (PlanReply.plan_json). */
export interface PlanReport {
  readonly basedOn: number;
  readonly revision: number;
  readonly staged: readonly StagedChange[];
  readonly current: LayoutSummary;
  readonly next: LayoutSummary;
  readonly plan: ClusterPlan;
  readonly partitionEstimate: PartitionEstimate;
  readonly bytesPerSecondPerSender: number;
}

/** A layout in a few fields. */
export interface LayoutSummary {
  readonly version: number;
  readonly partitionCount: number;
  readonly members: readonly { node: NodeId; address: string; state: string }[];
  readonly inTransition: boolean;
}

/**
 * The plan of committing `metadata`'s staged changes. Throws the layout's refusal when there is
 * nothing to commit or the changes cannot be committed (LayoutError).
 */
export function planReport(
  metadata: ClusterMetadata,
  estimate: PartitionEstimate = { keys: 0, bytes: 0 },
  bytesPerSecondPerSender = 0,
): PlanReport {
  const next = commitStaged(metadata);
  // Mid-transition only a force-remove commits, and data still moves from the old owners.
  const rings = ringsOf(metadata.layout);
  const before = rings.previous ?? rings.current;
  const after = ringsOf(next.layout).current;
  const unavailable = new Set(
    metadata.staged.changes.flatMap((change) =>
      change.kind === "force-remove" ? [change.node] : [],
    ),
  );
  const plan = planTransition({
    previous: before,
    next: after,
    n: metadata.layout.targetN,
    unavailable,
    partitionStats: () => estimate,
    bytesPerSecondPerSender,
  });
  return {
    basedOn: metadata.staged.basedOn,
    revision: metadata.staged.revision,
    staged: metadata.staged.changes,
    current: summary(metadata),
    next: summary(next),
    plan,
    partitionEstimate: estimate,
    bytesPerSecondPerSender,
  };
}

function summary(metadata: ClusterMetadata): LayoutSummary {
  const { layout } = metadata;
  return {
    version: layout.version,
    partitionCount: layout.partitionCount,
    members: layout.members.map((member) => ({
      node: member.node,
      address: member.address,
      state: member.state,
    })),
    inTransition: layout.previousOwners !== undefined,
  };
}
