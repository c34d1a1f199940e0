// The canonical encoding of cluster metadata (UTF-8 JSON, fixed key order, format 1), the
// digests that order concurrent layouts and staged sets, and the decoder that checks everything
// it reads, since its bytes come from disk and from peers. Pure: node:crypto for SHA-256 only.

import { hash } from "node:crypto";

import {
  type ClusterMetadata,
  type Layout,
  type LayoutMember,
  type MemberState,
  type Staged,
  type StagedChange,
  type TransferProgress,
  LayoutError,
  checkChangeShape,
  checkSettings,
  isValidAddress,
  layoutMembersMax,
  nodesOf,
  stagedChangesMax,
} from "./layout.js";
import { type NodeId, isValidNodeId } from "./node-id.js";
import { accessJson, decodeAccess } from "./access-codec.js";
import { fields, integer, list, prefixed, show } from "./json-fields.js";
import { leavingMembers } from "./layout-progress.js";

/** The format written; a decoder refuses any other, so a change of format is always explicit. */
export const metadataFormat = 1;

/**
 * Largest encoding accepted: Q = 4096 owners twice (previousOwners) at 64-character ids, and
 * layoutMembersMax members with the longest addresses, fit in under 1.5 MiB.
 */
export const metadataBytesMax = 2 * 1024 * 1024;

/**
 * The canonical bytes of `metadata`: equal metadata gives equal bytes, so they can be compared,
 * hashed and stored as they are. Decodes the result before returning it (assert what must be
 * true: about 0.1 ms at Q = 32), so metadata a peer would refuse throws a LayoutError here.
 */
export function encodeMetadata(metadata: ClusterMetadata): Uint8Array {
  const text = JSON.stringify({
    format: metadataFormat,
    layout: layoutJson(metadata.layout),
    progress: progressJson(metadata.progress),
    staged: stagedJson(metadata.staged),
    // Only with users: metadata without them keeps the bytes (and digest) of format 1 before.
    ...(metadata.access.users.length === 0 ? {} : { access: accessJson(metadata.access) }),
  });
  const bytes = new TextEncoder().encode(text);
  decodeMetadata(bytes);
  return bytes;
}

/**
 * Reads metadata written by encodeMetadata. Throws a LayoutError naming the first thing wrong:
 * not UTF-8 JSON, another format, a missing or unknown field, a bad node id or address, a
 * member list unsorted or repeating a node, owners not of length Q or naming a node that is not
 * a joining, valid or leaving member, Q not a power of two, targetN outside 1..16, progress or
 * staged of another version than the layout, done partitions unsorted, repeated or out of range,
 * staged changes malformed or naming a node twice, or joining or leaving members while no
 * transition is under way.
 */
export function decodeMetadata(bytes: Uint8Array): ClusterMetadata {
  if (bytes.length > metadataBytesMax) {
    throw new LayoutError(`metadata is ${bytes.length} bytes, more than ${metadataBytesMax}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new LayoutError(`metadata is not UTF-8 JSON: ${(error as Error).message}`);
  }
  const top = fields(
    value,
    "metadata",
    ["format", "layout", "progress", "staged", "access"],
    ["access"],
  );
  if (top.format !== metadataFormat) {
    throw new LayoutError(`metadata format ${JSON.stringify(top.format)} is not ${metadataFormat}`);
  }
  const layout = decodeLayout(top.layout);
  const progress = decodeProgress(top.progress, layout);
  const staged = decodeStaged(top.staged);
  sameVersion(staged.basedOn, layout, "staged.basedOn");
  const access = decodeAccess(top.access);
  return { layout, progress, staged, access };
}

/** `drained` only when a member is: metadata without it keeps the bytes (and digest) it had. */
function progressJson(progress: TransferProgress): object {
  const { version, done, drained } = progress;
  return drained === undefined || drained.length === 0
    ? { version, done }
    : { version, done, drained };
}

function decodeProgress(value: unknown, layout: Layout): TransferProgress {
  const progress = fields(value, "progress", ["version", "done", "drained"], ["drained"]);
  const doneList = list(progress.done, "progress.done", layout.partitionCount);
  const done = doneList.map((p, i) =>
    integer(p, `progress.done[${i}]`, 0, layout.partitionCount - 1),
  );
  if (done.some((p, i) => i > 0 && p <= done[i - 1]!)) {
    throw new LayoutError("progress.done is not sorted and distinct");
  }
  sameVersion(integer(progress.version, "progress.version", 1), layout, "progress.version");
  if (progress.drained === undefined) return { version: layout.version, done };
  const leaving = new Set(leavingMembers(layout));
  const drainedList = list(progress.drained, "progress.drained", layout.members.length);
  const drained = drainedList.map((node, i) => {
    if (typeof node !== "string" || !leaving.has(node as NodeId)) {
      throw new LayoutError(`progress.drained[${i}] is not a leaving member`);
    }
    return node as NodeId;
  });
  if (drained.length === 0 || drained.some((node, i) => i > 0 && node <= drained[i - 1]!)) {
    throw new LayoutError("progress.drained is empty, or not sorted and distinct");
  }
  return { version: layout.version, done, drained };
}

/**
 * The digest of a layout: SHA-256 (hex) of its canonical encoding. Layouts are ordered by
 * (version, digest), so two nodes never disagree on which of two layouts wins.
 */
export function layoutDigest(layout: Layout): string {
  return sha256(JSON.stringify(layoutJson(layout)));
}

/** The digest of a staged set, which breaks ties between staged sets of equal revision. */
export function stagedDigest(staged: Staged): string {
  return sha256(JSON.stringify(stagedJson(staged)));
}

function sha256(text: string): string {
  return hash("sha256", text, "hex");
}

/** The layout as a plain object in the canonical key order (previousOwners only when present). */
function layoutJson(layout: Layout): object {
  const { version, partitionCount, targetN, members, owners, previousOwners } = layout;
  return {
    version,
    partitionCount,
    targetN,
    members: members.map(({ node, address, state }) => ({ node, address, state })),
    owners,
    ...(previousOwners === undefined ? {} : { previousOwners }),
  };
}

function stagedJson(staged: Staged): object {
  const { basedOn, revision, changes } = staged;
  return { basedOn, revision, changes: changes.map(canonicalChange) };
}

/** A copy of `change` with only its kind's fields, in the canonical order. */
export function canonicalChange(change: StagedChange): StagedChange {
  const { kind, node } = change;
  if (kind === "join") return { kind, node, address: change.address };
  if (kind === "replace") return { kind, node, by: change.by, address: change.address };
  return { kind, node };
}

const memberStates: readonly string[] = ["joining", "valid", "leaving", "removed"];

function decodeLayout(value: unknown): Layout {
  const keys = ["version", "partitionCount", "targetN", "members", "owners", "previousOwners"];
  const raw = fields(value, "layout", keys, ["previousOwners"]);
  const version = integer(raw.version, "layout.version", 1);
  const partitionCount = integer(raw.partitionCount, "layout.partitionCount", 1);
  const targetN = integer(raw.targetN, "layout.targetN", 1);
  prefixed("layout", () => checkSettings(partitionCount, targetN));
  const members = list(raw.members, "layout.members", layoutMembersMax).map(decodeMember);
  const disorder = members.find(({ node }, i) => i > 0 && node <= members[i - 1]!.node);
  if (disorder !== undefined) {
    throw new LayoutError(`layout.members is not sorted by node, each once (at ${disorder.node})`);
  }
  const listed = members.map((member) => member.node);
  const present = members.filter((member) => member.state !== "removed").map((m) => m.node);
  const owners = decodeOwners(raw.owners, "layout.owners", partitionCount, present);
  const layout = { version, partitionCount, targetN, members, owners };
  if (raw.previousOwners !== undefined) {
    const where = "layout.previousOwners";
    return {
      ...layout,
      previousOwners: decodeOwners(raw.previousOwners, where, partitionCount, listed),
    };
  }
  const unsettled = members.find(({ state }) => state === "joining" || state === "leaving");
  if (unsettled !== undefined) {
    const { node, state } = unsettled;
    throw new LayoutError(`layout: ${node} is ${state} but no transition is under way`);
  }
  return layout;
}

function decodeMember(value: unknown, i: number): LayoutMember {
  const where = `layout.members[${i}]`;
  const raw = fields(value, where, ["node", "address", "state"]);
  const node = nodeIdOf(raw.node, `${where}.node`);
  if (typeof raw.address !== "string" || !isValidAddress(raw.address)) {
    throw new LayoutError(
      `${where}.address: want host:port, port 1..65535, got ${show(raw.address)}`,
    );
  }
  if (typeof raw.state !== "string" || !memberStates.includes(raw.state)) {
    throw new LayoutError(
      `${where}.state: want one of ${memberStates.join(", ")}, got ${show(raw.state)}`,
    );
  }
  return { node, address: raw.address, state: raw.state as MemberState };
}

/** Owners of length Q, each one of `allowed` (the members that may own, or once owned). */
function decodeOwners(value: unknown, where: string, q: number, allowed: NodeId[]): NodeId[] {
  const raw = list(value, where, q);
  if (raw.length !== q) throw new LayoutError(`${where} has ${raw.length} entries, not Q = ${q}`);
  const set = new Set(allowed);
  return raw.map((entry, p) => {
    const node = nodeIdOf(entry, `${where}[${p}]`);
    if (!set.has(node)) {
      const what = where.endsWith("previousOwners") ? "" : " joining, valid or leaving";
      throw new LayoutError(`${where}[${p}]: ${node} is not a${what} member`);
    }
    return node;
  });
}

function decodeStaged(value: unknown): Staged {
  const raw = fields(value, "staged", ["basedOn", "revision", "changes"]);
  const basedOn = integer(raw.basedOn, "staged.basedOn", 1);
  const revision = integer(raw.revision, "staged.revision", 0);
  const changes = list(raw.changes, "staged.changes", stagedChangesMax).map(decodeChange);
  if (revision === 0 && changes.length > 0) {
    throw new LayoutError("staged.revision is 0 but changes are staged: staging counts from 1");
  }
  const named = changes.flatMap(nodesOf);
  const twice = named.find((node, i) => named.indexOf(node) !== i);
  if (twice !== undefined) throw new LayoutError(`staged.changes name ${twice} more than once`);
  return { basedOn, revision, changes };
}

/** The fields of each kind of staged change, in the canonical order. */
const changeFields = new Map<string, readonly string[]>([
  ["join", ["kind", "node", "address"]],
  ["leave", ["kind", "node"]],
  ["replace", ["kind", "node", "by", "address"]],
  ["force-remove", ["kind", "node"]],
]);

function decodeChange(value: unknown, i: number): StagedChange {
  const where = `staged.changes[${i}]`;
  const { kind } = fields(value, where, ["kind", "node", "by", "address"], ["by", "address"]);
  const keys = typeof kind === "string" ? changeFields.get(kind) : undefined;
  if (keys === undefined) {
    const kinds = [...changeFields.keys()].join(", ");
    throw new LayoutError(`${where}.kind: want one of ${kinds}, got ${show(kind)}`);
  }
  const change = fields(value, where, keys) as unknown as StagedChange;
  prefixed(where, () => checkChangeShape(change));
  return canonicalChange(change);
}

function nodeIdOf(value: unknown, where: string): NodeId {
  if (typeof value !== "string" || !isValidNodeId(value)) {
    throw new LayoutError(`${where}: invalid node id ${show(value)}`);
  }
  return value as NodeId;
}

function sameVersion(version: number, layout: Layout, where: string): void {
  if (version !== layout.version) {
    throw new LayoutError(`${where} is ${version}, not the layout version ${layout.version}`);
  }
}
