// Cluster metadata (membership design, issue 14): the committed layout, the transfer progress of
// its transition and the changes staged for the next commit; the rings of a transition, its
// moving partitions and its retirement. Pure: no IO, clock or randomness. Encoding:
// layout-codec.ts; staging, committing and merging gossiped copies: layout-merge.ts.

import type { NodeId } from "./node-id.js";
import { isValidNodeId } from "./node-id.js";
import { claimRing, isValidPartitionCount, type Ring } from "./ring.js";
import { LayoutError } from "./layout-error.js";
import { type Access, emptyAccess } from "./access.js";

export { LayoutError };

/** Joining and valid members own partitions in a new claim; leaving ones hand theirs over. */
export type MemberState = "joining" | "valid" | "leaving" | "removed";

/** One member of a layout; removed members stay listed so that a stale peer cannot revive them. */
export interface LayoutMember {
  readonly node: NodeId;
  /** The advertised host:port. */
  readonly address: string;
  readonly state: MemberState;
}

/** A committed layout version. Immutable; identified by (version, digest) (layout-codec.ts). */
export interface Layout {
  /** 1 for the first layout of a cluster; +1 per commit or retirement. */
  readonly version: number;
  /** Q, fixed per cluster. */
  readonly partitionCount: number;
  /** The claim's targetN (the bucket default n). */
  readonly targetN: number;
  /** Sorted by node id; removed members stay listed (state removed). */
  readonly members: readonly LayoutMember[];
  /** The claim of this version (length Q): where data must end up. */
  readonly owners: readonly NodeId[];
  /** The claim of the previous version, present while the transition from it is under way. */
  readonly previousOwners?: readonly NodeId[];
}

/**
 * How far the transition of one layout version got (layout-progress.ts): the partitions whose
 * new primaries confirmed they hold everything, and the leaving members that handed off every
 * hint they held.
 */
export interface TransferProgress {
  readonly version: number;
  /** Sorted, distinct; grows only. */
  readonly done: readonly number[];
  /** Leaving members with no hint left, sorted, distinct, grows only; absent when none. */
  readonly drained?: readonly NodeId[];
}

/** Changes waiting for `dkv cluster commit`. */
export interface Staged {
  /** The layout version they apply to. */
  readonly basedOn: number;
  /** +1 per staging command on top of this base; 0 only for the empty set a layout starts with. */
  readonly revision: number;
  /** In the order given; no node appears in two of them. */
  readonly changes: readonly StagedChange[];
}

/** One staged membership change; `address` of a replace is the address of `by`. */
export type StagedChange =
  | { readonly kind: "join"; readonly node: NodeId; readonly address: string }
  | { readonly kind: "leave"; readonly node: NodeId }
  | {
      readonly kind: "replace";
      readonly node: NodeId;
      readonly by: NodeId;
      readonly address: string;
    }
  | { readonly kind: "force-remove"; readonly node: NodeId };

/**
 * What a node knows of the cluster; four semilattices merged componentwise (layout-merge.ts).
 * Every function here returns it normalised: progress.version = staged.basedOn = layout.version.
 */
export interface ClusterMetadata {
  readonly layout: Layout;
  readonly progress: TransferProgress;
  readonly staged: Staged;
  /** Users, token hashes and grants (access.ts); independent of the layout. */
  readonly access: Access;
}

/** Most members a layout lists, removed ones included: the layout is gossiped whole. */
export const layoutMembersMax = 1024;
/** Most changes staged at once; a commit of more would be hard to review in a plan. */
export const stagedChangesMax = 64;
/** Largest targetN, as ring.ts's claim accepts. */
export const targetNMax = 16;
/** Longest host: a DNS name is at most 253 characters (RFC 1035). */
const hostLengthMax = 253;
const addressPattern = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([1-9][0-9]{0,4})$/;

/** True for host:port (IPv6 hosts in brackets), the port in 1..65535 without leading zeros. */
export function isValidAddress(value: string): boolean {
  const match = addressPattern.exec(value);
  return match !== null && match[1]!.length <= hostLengthMax && Number(match[2]) <= 65535;
}

/** Members in these states own partitions in a new claim. */
export function isOwning(state: MemberState): boolean {
  return state === "joining" || state === "valid";
}

/**
 * The metadata of a new cluster: layout version 1, every member valid, the owners a fresh
 * claim, nothing in transition, nothing staged. Throws a LayoutError for a bad or repeated node
 * id, a bad address, Q not a power of two in 1..4096, or targetN outside 1..16.
 */
export function initialMetadata(options: {
  readonly members: readonly { readonly node: NodeId; readonly address: string }[];
  readonly partitionCount: number;
  readonly targetN: number;
}): ClusterMetadata {
  const { partitionCount, targetN } = options;
  checkSettings(partitionCount, targetN);
  const count = options.members.length;
  if (count === 0 || count > layoutMembersMax) {
    throw new LayoutError(`a cluster needs 1..${layoutMembersMax} members, got ${count}`);
  }
  const members = options.members
    .map(({ node, address }) => ({ node, address, state: "valid" as const }))
    .sort(byNode);
  members.forEach(({ node, address }, i) => {
    checkNode(node);
    checkAddress(node, address);
    if (node === members[i - 1]?.node) throw new LayoutError(`member ${node} is listed twice`);
  });
  const nodes = members.map((member) => member.node);
  const { owners } = claimRing({ nodes, partitionCount, targetN });
  return startOf({ version: 1, partitionCount, targetN, members, owners });
}

/** Throws a LayoutError unless Q is a power of two in 1..4096 and targetN is in 1..16. */
export function checkSettings(partitionCount: number, targetN: number): void {
  if (!isValidPartitionCount(partitionCount)) {
    throw new LayoutError(`partition count must be 2^k in 1..4096, got ${partitionCount}`);
  }
  if (!(Number.isInteger(targetN) && targetN >= 1 && targetN <= targetNMax)) {
    throw new LayoutError(`targetN must be an integer in 1..${targetNMax}, got ${targetN}`);
  }
}

/**
 * The rings of a layout, for preference lists: `current` from owners over the joining and valid
 * members, and while a transition is under way `previous` from previousOwners over every member
 * but the joining ones. (The layout does not say which removed members were removed by the last
 * commit: all are listed, which matters only when Q < targetN makes primaries of non-owners, and
 * then only adds moving partitions, never hides one.)
 */
export function ringsOf(layout: Layout): { current: Ring; previous?: Ring } {
  const { partitionCount, members, owners, previousOwners } = layout;
  const current = ringOf(partitionCount, owners, members, isOwning);
  if (previousOwners === undefined) return { current };
  const wasMember = (state: MemberState): boolean => state !== "joining";
  return { current, previous: ringOf(partitionCount, previousOwners, members, wasMember) };
}

function ringOf(
  partitionCount: number,
  owners: readonly NodeId[],
  members: readonly LayoutMember[],
  include: (state: MemberState) => boolean,
): Ring {
  const listed = members.filter((member) => include(member.state)).map((member) => member.node);
  const nodes = [...new Set([...owners, ...listed])].sort();
  return { partitionCount, owners, nodes };
}

/**
 * Partitions, ascending, whose primaries for n = targetN (as a set) differ between the previous
 * ring and the current one; empty when no transition is under way. These must be marked
 * transferred before the layout can retire.
 */
export function movingPartitions(layout: Layout): number[] {
  const { current, previous } = ringsOf(layout);
  return previous === undefined ? [] : partitionsChanged(previous, current, layout.targetN);
}

/** Partitions, ascending, whose primaries for `n` (as a set) differ between two rings of one Q. */
export function partitionsChanged(before: Ring, after: Ring, n: number): number[] {
  const changed: number[] = [];
  for (let p = 0; p < after.owners.length; p++) {
    const [was, is] = [primariesAt(before, p, n), primariesAt(after, p, n)];
    if (was.length !== is.length || is.some((node) => !was.includes(node))) changed.push(p);
  }
  return changed;
}

/**
 * `preferenceList(ring, up, p, n).primaries` of coordinator/core/preference-list.ts: the first n
 * distinct owners walking clockwise from p, then non-owning nodes, sorted. node/ may not import
 * coordinator/, so the walk is repeated here; a property test holds the two equal.
 */
function primariesAt(ring: Ring, partition: number, n: number): NodeId[] {
  const q = ring.owners.length;
  const seen = new Set<NodeId>();
  for (let step = 0; step < q && seen.size < n; step++)
    seen.add(ring.owners[(partition + step) % q]!);
  for (const node of ring.nodes) if (seen.size < n) seen.add(node);
  return [...seen];
}

/** True when `layout` lists `node` as removed (it left, was replaced or force-removed). */
export function isRemovedFrom(layout: Layout, node: NodeId): boolean {
  return layout.members.some((member) => member.node === node && member.state === "removed");
}

/** The layout without its transition: joining members valid, leaving ones removed. */
export function settled(layout: Layout): Layout {
  const { previousOwners: _, ...rest } = layout;
  const settle = (state: MemberState): MemberState =>
    state === "joining" ? "valid" : state === "leaving" ? "removed" : state;
  return { ...rest, members: layout.members.map((m) => ({ ...m, state: settle(m.state) })) };
}

/** Fresh metadata for a layout just made: nothing transferred, nothing staged, `access` kept. */
export function startOf(layout: Layout, access: Access = emptyAccess): ClusterMetadata {
  const { version } = layout;
  return {
    layout,
    progress: { version, done: [] },
    staged: { basedOn: version, revision: 0, changes: [] },
    access,
  };
}

/** Throws a LayoutError unless `change` is one of the four kinds with valid ids and addresses. */
export function checkChangeShape(change: StagedChange): void {
  checkNode(change.node);
  if (change.kind === "join") checkAddress(change.node, change.address);
  if (change.kind === "replace") {
    checkNode(change.by);
    checkAddress(change.by, change.address);
    if (change.by === change.node) throw new LayoutError(`cannot replace ${change.node} by itself`);
  }
  const kinds: readonly string[] = ["join", "leave", "replace", "force-remove"];
  if (!kinds.includes(change.kind)) throw new LayoutError(`unknown change kind ${change.kind}`);
}

/** The nodes a change names. */
export function nodesOf(change: StagedChange): NodeId[] {
  return change.kind === "replace" ? [change.node, change.by] : [change.node];
}

function checkNode(node: string): void {
  if (typeof node !== "string" || !isValidNodeId(node)) {
    throw new LayoutError(`invalid node id ${JSON.stringify(node)}: want 1..64 of [A-Za-z0-9_.-]`);
  }
}

function checkAddress(node: NodeId, address: string): void {
  if (typeof address !== "string" || !isValidAddress(address)) {
    throw new LayoutError(
      `invalid address ${JSON.stringify(address)} for ${node}: want host:port, port 1..65535`,
    );
  }
}

/** Orders by node id, comparing UTF-16 code units as claimRing does: the same on every node. */
export function byNode(a: { node: NodeId }, b: { node: NodeId }): number {
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}
