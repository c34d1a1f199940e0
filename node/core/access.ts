// Users, their token hashes and their grants (DESIGN.md §10, issue 15): the fourth component of
// the cluster metadata, merged per user as a semilattice, and `authorize`, the decision a server
// interceptor asks on every call. Pure: no IO, clock, randomness or hashing; token hashes are
// made and checked in node/security/tokens.ts. Encoding and decoding: access-codec.ts.

import { show } from "./json-fields.js";
import { LayoutError } from "./layout-error.js";

/** What a grant allows: read, write, delete on a bucket; admin of the cluster (no bucket). */
export type Permission = "read" | "write" | "delete" | "admin";
/** The permissions that name a bucket. */
export type BucketPermission = Exclude<Permission, "admin">;
/** Every permission, in the canonical order of grants. */
export const permissions: readonly Permission[] = ["read", "write", "delete", "admin"];

/** A bucket a grant may name that stands for every bucket. */
export const ANY_BUCKET = "*";

/**
 * One grant. Admin (membership, users, status) is cluster-wide and names no bucket. Admin does
 * not imply read, write or delete (as in Riak): an operator's credential need not read the data.
 */
export type Grant =
  | { readonly permission: "admin" }
  | { readonly permission: BucketPermission; readonly bucket: string };

/**
 * Everything about one user, replaced whole by each change to it. A removed user stays as a
 * tombstone (removed, no tokens, no grants) with a higher revision, so that a stale copy
 * gossiped later cannot bring it back.
 */
export interface UserRecord {
  readonly user: string;
  /** 1 when first added; +1 per change (token, grant, revoke, removal, adding it again). */
  readonly revision: number;
  readonly removed: boolean;
  /** Self-describing slow hashes (`scrypt$N$r$p$salt$hash`), sorted, distinct; never tokens. */
  readonly tokenHashes: readonly string[];
  /** Sorted by permission (in `permissions` order), then bucket; distinct. */
  readonly grants: readonly Grant[];
}

/** The users of a cluster: records sorted by user name, each name once, tombstones included. */
export interface Access {
  readonly users: readonly UserRecord[];
}

/** No users: what a cluster starts with, and what metadata from before users decodes to. */
export const emptyAccess: Access = { users: [] };

/** Most user records a change may leave, removed ones included (tombstones are kept). */
export const accessUsersMax = 1024;
/**
 * Most records decoded from a peer: concurrent adds on several nodes merge into more than
 * accessUsersMax, which a node must still accept; beyond this the copy is refused.
 */
export const accessRecordsMax = 8 * accessUsersMax;
/** Most grants of one user. */
export const grantsPerUserMax = 64;
/** Most tokens of one user at once (rotation keeps the old one until it is revoked). */
export const tokensPerUserMax = 4;
/** Largest encoding of the access component a change may leave: gossip sends it whole. */
export const accessBytesMax = 256 * 1024;
/** Largest bucket name a grant may name: the KV limit (limits.ts, bucketBytesMax). */
export const grantBucketBytesMax = 255;

/** The record of `user` unless it is missing or removed. */
export function liveUser(access: Access, user: string): UserRecord | undefined {
  const record = recordOf(access, user);
  return record === undefined || record.removed ? undefined : record;
}

function recordOf(access: Access, user: string): UserRecord | undefined {
  let [low, high] = [0, access.users.length - 1];
  while (low <= high) {
    const middle = (low + high) >> 1;
    const name = access.users[middle]!.user;
    if (name === user) return access.users[middle];
    if (name < user) low = middle + 1;
    else high = middle - 1;
  }
  return undefined;
}

/**
 * Adds `user` with `tokenHashes` (none: it authenticates by certificate only) and no grants, at
 * the revision after its tombstone's if it was removed before. Refuses (LayoutError) a bad name
 * or hash, a user that exists, and more than accessUsersMax records.
 */
export function addUser(access: Access, user: string, tokenHashes: readonly string[]): Access {
  checkUserName(user);
  const before = recordOf(access, user);
  if (before !== undefined && !before.removed) {
    throw new LayoutError(`user ${user} exists already`);
  }
  if (before === undefined && access.users.length >= accessUsersMax) {
    throw new LayoutError(`at most ${accessUsersMax} users can be listed, removed ones included`);
  }
  const revision = (before?.revision ?? 0) + 1;
  return put(access, {
    user,
    revision,
    removed: false,
    tokenHashes: tokens(tokenHashes),
    grants: [],
  });
}

/** Removes `user`: a tombstone at revision + 1. Refuses a user that does not exist. */
export function removeUser(access: Access, user: string): Access {
  const record = existing(access, user);
  return put(access, {
    ...record,
    revision: record.revision + 1,
    removed: true,
    tokenHashes: [],
    grants: [],
  });
}

/** Replaces the token hashes of `user` (rotation, or revoking every token with none). */
export function setTokenHashes(
  access: Access,
  user: string,
  tokenHashes: readonly string[],
): Access {
  const record = existing(access, user);
  return put(access, {
    ...record,
    revision: record.revision + 1,
    tokenHashes: tokens(tokenHashes),
  });
}

/** Adds `grant` to `user`; granting what it holds already changes nothing. */
export function grantPermission(access: Access, user: string, grant: Grant): Access {
  checkGrant(grant);
  const record = existing(access, user);
  if (record.grants.some((held) => sameGrant(held, grant))) return access;
  if (record.grants.length >= grantsPerUserMax) {
    throw new LayoutError(`user ${user} holds ${grantsPerUserMax} grants, the most allowed`);
  }
  const grants = [...record.grants, canonicalGrant(grant)].sort(compareGrants);
  return put(access, { ...record, revision: record.revision + 1, grants });
}

/** Takes `grant` from `user`; revoking what it does not hold changes nothing. */
export function revokePermission(access: Access, user: string, grant: Grant): Access {
  checkGrant(grant);
  const record = existing(access, user);
  const grants = record.grants.filter((held) => !sameGrant(held, grant));
  if (grants.length === record.grants.length) return access;
  return put(access, { ...record, revision: record.revision + 1, grants });
}

function existing(access: Access, user: string): UserRecord {
  checkUserName(user);
  const record = liveUser(access, user);
  if (record === undefined) throw new LayoutError(`no user ${user}`);
  return record;
}

function tokens(tokenHashes: readonly string[]): string[] {
  const sorted = [...new Set(tokenHashes)].sort();
  if (sorted.length > tokensPerUserMax) {
    throw new LayoutError(`a user holds at most ${tokensPerUserMax} tokens, got ${sorted.length}`);
  }
  for (const hash of sorted) {
    if (parseTokenHash(hash) === undefined) throw new LayoutError("malformed token hash");
  }
  return sorted;
}

/** `access` with `record` in its place; refuses a result whose encoding exceeds accessBytesMax. */
function put(access: Access, record: UserRecord): Access {
  const users = access.users.filter((other) => other.user !== record.user);
  users.push(record);
  users.sort((a, b) => compareText(a.user, b.user));
  const next = { users };
  const bytes = new TextEncoder().encode(JSON.stringify(users.map(userJson))).length;
  if (bytes > accessBytesMax) {
    throw new LayoutError(
      `users and grants would take ${bytes} bytes, more than ${accessBytesMax}`,
    );
  }
  return next;
}

/**
 * Merges two copies, per user: the record of the higher revision; of two records at one revision
 * (changes made concurrently on two nodes), their meet: removed if either is, and only the
 * tokens and grants both hold. Users only one copy has are kept.
 *
 * Laws (equality as canonical bytes): commutative, associative, idempotent. Per user it is the
 * lexicographic product of a total order (revision) and a semilattice (removed by or, tokens
 * and grants by intersection), which is a semilattice; over the union of names, pointwise.
 * Deny-biased: a removal, a revoke or a new token is never undone by a concurrent change to the
 * same user (a tombstone at a higher revision also outranks every older copy), while a grant or
 * a token made concurrently with another change to that user can be lost: the operator sees it
 * in `dkv user list` and grants again. Checked by test/property/node/core/access.property.test.ts.
 */
export function mergeAccess(a: Access, b: Access): Access {
  if (a === b) return a;
  const byUser = new Map(a.users.map((record) => [record.user, record]));
  for (const record of b.users) {
    const mine = byUser.get(record.user);
    if (mine === undefined || record.revision > mine.revision) byUser.set(record.user, record);
    else if (record.revision === mine.revision && record !== mine) {
      byUser.set(record.user, meet(mine, record));
    }
  }
  return { users: [...byUser.values()].sort((x, y) => compareText(x.user, y.user)) };
}

/** Two records of one user at one revision: removed if either is, else what both hold. */
function meet(a: UserRecord, b: UserRecord): UserRecord {
  const removed = a.removed || b.removed;
  const tokenHashes = removed ? [] : a.tokenHashes.filter((hash) => b.tokenHashes.includes(hash));
  const grants = removed
    ? []
    : a.grants.filter((grant) => b.grants.some((other) => sameGrant(grant, other)));
  return { user: a.user, revision: a.revision, removed, tokenHashes, grants };
}

/** A record as a plain object in the canonical key order. */
export function userJson(record: UserRecord): object {
  const { user, revision, removed, tokenHashes, grants } = record;
  return { user, revision, removed, tokenHashes, grants: grants.map(canonicalGrant) };
}

/** A copy of `grant` with only its kind's fields, in the canonical order. */
export function canonicalGrant(grant: Grant): Grant {
  return grant.permission === "admin"
    ? { permission: "admin" }
    : { permission: grant.permission, bucket: grant.bucket };
}

/** Orders grants by permission (in `permissions` order), then bucket. */
export function compareGrants(a: Grant, b: Grant): number {
  const order = permissions.indexOf(a.permission) - permissions.indexOf(b.permission);
  if (order !== 0) return order;
  return compareText("bucket" in a ? a.bucket : "", "bucket" in b ? b.bucket : "");
}

function sameGrant(a: Grant, b: Grant): boolean {
  return compareGrants(a, b) === 0;
}

/** Throws a LayoutError unless `name` is a user name (certificate-policy.ts's rule). */
export function checkUserName(name: unknown): void {
  if (typeof name !== "string" || !/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) {
    throw new LayoutError(`invalid user name ${show(name)}: want 1..64 of [A-Za-z0-9_.@-]`);
  }
}

/**
 * Throws a LayoutError unless `grant` is admin without a bucket, or read, write or delete on
 * `*` or a bucket name the KV service accepts: 1..255 bytes of UTF-8, no U+FFFD (the empty name
 * means the default bucket in a request; a grant names it `default`).
 */
export function checkGrant(grant: Grant): void {
  const { permission } = grant;
  if (!permissions.includes(permission)) {
    throw new LayoutError(`unknown permission ${show(permission)}: want ${permissions.join(", ")}`);
  }
  if (permission === "admin") {
    if ("bucket" in grant) throw new LayoutError("admin is cluster-wide: it names no bucket");
    return;
  }
  const { bucket } = grant as { bucket?: unknown };
  if (typeof bucket !== "string") throw new LayoutError(`${permission} needs a bucket (or *)`);
  const bytes = new TextEncoder().encode(bucket).length;
  if (bytes === 0 || bytes > grantBucketBytesMax || /[\ufffd\ud800-\udfff]/u.test(bucket)) {
    throw new LayoutError(
      `invalid bucket ${show(bucket)}: want 1..${grantBucketBytesMax} bytes of UTF-8 without U+FFFD, or *`,
    );
  }
}

/** The parts of a token hash `scrypt$N$r$p$salt$hash`, or undefined when it is not one. */
export function parseTokenHash(
  text: string,
): { n: number; r: number; p: number; salt: string; hash: string } | undefined {
  const match =
    /^scrypt\$(\d{1,8})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/.exec(
      text,
    );
  if (match === null) return undefined;
  const [n, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Bounded so that a hash from a peer cannot make verification take seconds or gigabytes.
  const powerOfTwo = n >= 1024 && n <= 1 << 20 && (n & (n - 1)) === 0;
  if (!powerOfTwo || r < 1 || r > 16 || p < 1 || p > 4) return undefined;
  return { n, r, p, salt: match[4]!, hash: match[5]! };
}

function compareText(a: string, b: string): -1 | 0 | 1 {
  return a === b ? 0 : a < b ? -1 : 1;
}
