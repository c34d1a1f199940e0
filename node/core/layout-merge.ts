// How cluster metadata changes: an operator stages membership changes and commits them as the
// next layout, and copies gossiped between nodes merge into one (the laws are on mergeMetadata).
// Pure: no IO, clock or randomness; equal inputs give equal bytes on every node.

import { assert } from "./assert.js";
import {
  type ClusterMetadata,
  type Layout,
  type LayoutMember,
  type MemberState,
  type Staged,
  type StagedChange,
  type TransferProgress,
  LayoutError,
  byNode,
  checkChangeShape,
  isOwning,
  layoutMembersMax,
  nodesOf,
  partitionsChanged,
  ringsOf,
  settled,
  stagedChangesMax,
  startOf,
} from "./layout.js";
import { canonicalChange, layoutDigest, stagedDigest } from "./layout-codec.js";
import type { NodeId } from "./node-id.js";
import { claimRing } from "./ring.js";
import { mergeAccess } from "./access.js";
import { unionOfProgress } from "./layout-progress.js";

/**
 * Merges two copies of the cluster metadata, then normalises:
 * - layout: the greater by (version, digest) (`compareLayouts`);
 * - progress: that of the copy with the greater layout; of two copies of one layout, the union of
 *   `done` and of `drained`. (The design notes merge progress by version alone, but concurrent commits make two
 *   layouts of one version, and a partition moved for one has not moved for the other. Ordering
 *   (layout, progress) lexicographically is still a semilattice: layouts are totally ordered.)
 * - staged: the greater by (basedOn, revision, digest); commitStaged checks it against the
 *   layout again, since it may have been staged on another layout of the same version;
 * - access: per user, the greater record (mergeAccess in access.ts); independent of the layout;
 * - normalise: progress of a version below the merged layout's becomes {layout.version, []};
 *   staged with basedOn below it becomes {basedOn: layout.version, revision: 0, changes: []}.
 *
 * Laws, on normalised metadata (what every function here returns and decodeMetadata accepts),
 * equality meaning equal canonical bytes: commutative, associative, idempotent. Normalising
 * keeps them because it maps every value below the layout's version to the least value at that
 * version, which a later merge at that version or above absorbs the same way. Checked by
 * test/property/node/core/layout.property.test.ts over metadata from random histories.
 *
 * Throws a LayoutError when the partition counts differ: the copies are of different clusters.
 */
export function mergeMetadata(a: ClusterMetadata, b: ClusterMetadata): ClusterMetadata {
  const [q, other] = [a.layout.partitionCount, b.layout.partitionCount];
  if (q !== other) {
    throw new LayoutError(`cannot merge layouts of ${q} and ${other} partitions: other clusters`);
  }
  const order = compareLayouts(a.layout, b.layout);
  const layout = order >= 0 ? a.layout : b.layout;
  const progress =
    order === 0 ? mergeProgress(a.progress, b.progress) : order > 0 ? a.progress : b.progress;
  const staged = compareStaged(a.staged, b.staged) >= 0 ? a.staged : b.staged;
  const { version } = layout;
  return {
    layout,
    progress: progress.version < version ? { version, done: [] } : progress,
    staged: staged.basedOn < version ? { basedOn: version, revision: 0, changes: [] } : staged,
    access: mergeAccess(a.access, b.access),
  };
}

/** Orders layouts by (version, digest); 0 only for the same layout (equal canonical bytes). */
export function compareLayouts(a: Layout, b: Layout): -1 | 0 | 1 {
  if (a.version !== b.version) return a.version < b.version ? -1 : 1;
  return compareText(layoutDigest(a), layoutDigest(b));
}

function compareStaged(a: Staged, b: Staged): -1 | 0 | 1 {
  if (a.basedOn !== b.basedOn) return a.basedOn < b.basedOn ? -1 : 1;
  if (a.revision !== b.revision) return a.revision < b.revision ? -1 : 1;
  return compareText(stagedDigest(a), stagedDigest(b));
}

function mergeProgress(a: TransferProgress, b: TransferProgress): TransferProgress {
  if (a.version !== b.version) return a.version > b.version ? a : b;
  return unionOfProgress(a, b);
}

function compareText(a: string, b: string): -1 | 0 | 1 {
  return a === b ? 0 : a < b ? -1 : 1;
}

/**
 * Stages `change` for the next commit: revision + 1, based on the current layout version.
 * Refuses (LayoutError) a malformed change, a node already named in a staged change, more than
 * stagedChangesMax changes, and what `checkAgainst` refuses.
 */
export function stageChange(metadata: ClusterMetadata, change: StagedChange): ClusterMetadata {
  const { layout, staged } = metadata;
  assert(staged.basedOn === layout.version, "layout: stageChange expects normalised metadata");
  checkChangeShape(change);
  if (staged.changes.length >= stagedChangesMax) {
    throw new LayoutError(`at most ${stagedChangesMax} changes can be staged at once`);
  }
  // A replacement that started with `dkv serve --join` has its join staged already: the
  // replace takes that join's place (Riak's `cluster replace` of a node that joined).
  const kept = staged.changes.filter(
    (other) => !(change.kind === "replace" && other.kind === "join" && other.node === change.by),
  );
  const touched = new Set(kept.flatMap(nodesOf));
  const again = nodesOf(change).find((node) => touched.has(node));
  if (again !== undefined) {
    throw new LayoutError(`${again} is already in a staged change; clear the staged changes first`);
  }
  checkAgainst(layout, change);
  const changes = [...kept, canonicalChange(change)];
  const next = { basedOn: layout.version, revision: staged.revision + 1, changes };
  return { ...metadata, staged: next };
}

/** Drops every staged change, as revision + 1: the empty set then wins a merge over the old one. */
export function clearStaged(metadata: ClusterMetadata): ClusterMetadata {
  const { layout, staged } = metadata;
  const next = { basedOn: layout.version, revision: staged.revision + 1, changes: [] };
  return { ...metadata, staged: next };
}

/**
 * Commits the staged changes as layout version + 1: join → joining, leave → leaving, replace →
 * the old member leaving and `by` joining, force-remove → removed at once. The owners are
 * claimed over the joining and valid members from the current ring (few moves); the current
 * owners become previousOwners, unless no partition's primaries change from the current ring to
 * the new one (the owners staying the same is one case): then the new states settle at once
 * (joining → valid, leaving → removed) and no transition starts. Progress and staged start empty.
 *
 * `expected` is the (basedOn, revision) of the staged set the operator was shown. Refuses
 * (LayoutError): nothing staged; `expected` differs; a transition still under way (unless every
 * change is a force-remove: then the transition goes on from its old owners); a change no
 * longer valid against this layout (a concurrent commit got there first); no joining or valid
 * member left to own partitions.
 */
export function commitStaged(
  metadata: ClusterMetadata,
  expected?: { readonly basedOn: number; readonly revision: number },
): ClusterMetadata {
  const { layout, staged } = metadata;
  assert(staged.basedOn === layout.version, "layout: commitStaged expects normalised metadata");
  if (staged.changes.length === 0) throw new LayoutError("nothing is staged to commit");
  const shown = expected ?? staged;
  if (shown.basedOn !== staged.basedOn || shown.revision !== staged.revision) {
    const [was, now] = [shown, staged].map((set) => `${set.basedOn}/${set.revision}`);
    throw new LayoutError(
      `the plan changed since it was shown: it was for layout/revision ${was}, now ${now}; ` +
        "check the changes again with dkv cluster plan",
    );
  }
  // A node that died during a transition can be force-removed from it: the new claim leaves it
  // out and data still moves from the transition's old owners, which hold what was acknowledged.
  const midway = layout.previousOwners;
  if (midway !== undefined && staged.changes.some((change) => change.kind !== "force-remove")) {
    throw new LayoutError(
      `layout ${layout.version} is still moving partitions; commit once its transition completes`,
    );
  }
  for (const change of staged.changes) checkAgainst(layout, change);
  const members = applyChanges(layout.members, staged.changes);
  const owning = members.filter((member) => isOwning(member.state)).map((member) => member.node);
  if (owning.length === 0) {
    throw new LayoutError("the staged changes leave no joining or valid member to own partitions");
  }
  const { partitionCount, targetN } = layout;
  const previous = ringsOf(layout).current;
  const { owners } = claimRing({ nodes: owning, partitionCount, targetN, previous });
  const next = { version: layout.version + 1, partitionCount, targetN, members, owners };
  const from = midway ?? layout.owners;
  const source = midway === undefined ? previous : (ringsOf(layout).previous ?? previous);
  const moves = partitionsChanged(source, ringsOf(next).current, targetN).length > 0;
  return startOf(moves ? { ...next, previousOwners: from } : settled(next), metadata.access);
}

function applyChanges(
  members: readonly LayoutMember[],
  changes: readonly StagedChange[],
): LayoutMember[] {
  const byId = new Map(members.map((member) => [member.node, member]));
  const set = (node: NodeId, state: MemberState, address = byId.get(node)!.address): void => {
    byId.set(node, { node, address, state });
  };
  for (const change of changes) {
    if (change.kind === "join") set(change.node, "joining", change.address);
    if (change.kind === "leave") set(change.node, "leaving");
    if (change.kind === "force-remove") set(change.node, "removed");
    if (change.kind === "replace") {
      set(change.node, "leaving");
      set(change.by, "joining", change.address);
    }
  }
  if (byId.size > layoutMembersMax) {
    throw new LayoutError(`a layout lists at most ${layoutMembersMax} members, removed included`);
  }
  return [...byId.values()].sort(byNode);
}

/**
 * Throws a LayoutError when `change` cannot apply to `layout`: a join of a member that is not
 * removed; a leave, replace or force-remove of a node that is not a member or is removed; a
 * replace by a member that is not removed; anything but a force-remove during a transition.
 */
function checkAgainst(layout: Layout, change: StagedChange): void {
  const { kind, node } = change;
  if (kind !== "force-remove" && layout.previousOwners !== undefined) {
    throw new LayoutError(
      `cannot ${kind} ${node} while layout ${layout.version} is moving partitions; ` +
        "wait for its transition to complete (only force-remove is allowed meanwhile)",
    );
  }
  const state = (id: NodeId): MemberState | undefined =>
    layout.members.find((member) => member.node === id)?.state;
  const present = (id: NodeId): boolean => (state(id) ?? "removed") !== "removed";
  if (kind === "join" && present(node)) {
    throw new LayoutError(`cannot join ${node}: it is already a member (${state(node)})`);
  }
  if (kind !== "join" && !present(node)) {
    const why = state(node) === undefined ? "not a member" : "already removed";
    throw new LayoutError(`cannot ${kind} ${node}: it is ${why}`);
  }
  if (kind === "replace" && present(change.by)) {
    throw new LayoutError(
      `cannot replace ${node} by ${change.by}: ${change.by} is already a member (${state(change.by)})`,
    );
  }
}
