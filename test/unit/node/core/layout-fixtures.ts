// Fixtures of the layout tests (layout.test.ts, layout-codec.test.ts): clusters of single-letter
// nodes, staged changes, completed transitions, and readable forms of layouts.

import { preferenceList } from "../../../../coordinator/core/preference-list.js";
import {
  type ClusterMetadata,
  type Layout,
  type StagedChange,
  initialMetadata,
  movingPartitions,
} from "../../../../node/core/layout.js";
import {
  leavingMembers,
  markDrained,
  markTransferred,
  retireIfComplete,
} from "../../../../node/core/layout-progress.js";
import { encodeMetadata } from "../../../../node/core/layout-codec.js";
import { commitStaged, stageChange } from "../../../../node/core/layout-merge.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import type { Ring } from "../../../../node/core/ring.js";

export const id = (value: string): NodeId => nodeId(value);

/** A cluster of single-letter nodes, addressed `<letter>.test:7070`. */
export function cluster(letters: string, partitionCount = 16, targetN = 3): ClusterMetadata {
  const members = [...letters].map((letter) => ({ node: id(letter), address: address(letter) }));
  return initialMetadata({ members, partitionCount, targetN });
}

export function address(node: string): string {
  return `${node}.test:7070`;
}

export function join(node: string): StagedChange {
  return { kind: "join", node: id(node), address: address(node) };
}

export function leave(node: string): StagedChange {
  return { kind: "leave", node: id(node) };
}

export function forceRemove(node: string): StagedChange {
  return { kind: "force-remove", node: id(node) };
}

export function replace(node: string, by: string): StagedChange {
  return { kind: "replace", node: id(node), by: id(by), address: address(by) };
}

export function stage(metadata: ClusterMetadata, ...changes: StagedChange[]): ClusterMetadata {
  return changes.reduce(stageChange, metadata);
}

/** Commits `changes`, marks every moving partition transferred and retires. */
export function completed(metadata: ClusterMetadata, ...changes: StagedChange[]): ClusterMetadata {
  return finished(commitStaged(stage(metadata, ...changes)));
}

/**
 * Marks every moving partition of the change under way transferred and every leaving member
 * drained, and retires the change.
 */
export function finished(committed: ClusterMetadata): ClusterMetadata {
  const moved = markTransferred(committed, movingPartitions(committed.layout));
  return retireIfComplete(leavingMembers(committed.layout).reduce(markDrained, moved));
}

export function states(layout: Layout): string {
  return layout.members.map((member) => `${member.node}:${member.state}`).join(" ");
}

export function bytes(metadata: ClusterMetadata): string {
  return new TextDecoder().decode(encodeMetadata(metadata));
}

export function primaries(ring: Ring, partition: number, n: number): NodeId[] {
  return [...preferenceList(ring, new Set(), partition, n).primaries].sort();
}
