// The access decision a server interceptor asks on every call (DESIGN.md §10): may this caller
// do this on this bucket? Default deny. Pure: a function of the access component of the cluster
// metadata (access.ts) and a verified identity.

import { ANY_BUCKET, type Access, type Permission, liveUser } from "./access.js";

/** A verified caller, as node/security/peer-identity.ts's PeerIdentity (and a token) gives. */
export type AccessIdentity =
  | { readonly kind: "user"; readonly user: string }
  | { readonly kind: "node" }
  | { readonly kind: "anonymous"; readonly reason: string };

/** The answer of `authorize`. */
export type AccessDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/**
 * May `identity` do `permission` (on `bucket`, for read, write and delete)? Default deny: only
 * a user that exists (not removed) and holds the grant is allowed; a grant on `*` covers every
 * bucket; admin is cluster-wide and implies nothing else. Nodes are not users: internal calls
 * are checked against the membership, not here. Pass the bucket the request resolves to (an
 * empty name is the default bucket, as the KV service treats it).
 */
export function authorize(
  access: Access,
  identity: AccessIdentity,
  permission: Permission,
  bucket?: string,
): AccessDecision {
  if (identity.kind === "anonymous") return deny(`anonymous caller: ${identity.reason}`);
  if (identity.kind !== "user") return deny("a node is not a user and holds no grants");
  const record = liveUser(access, identity.user);
  if (record === undefined) return deny(`unknown user ${identity.user}`);
  if (permission === "admin") {
    if (record.grants.some((grant) => grant.permission === "admin")) return { allowed: true };
    return deny(`user ${identity.user} has no admin grant`);
  }
  if (bucket === undefined) return deny(`${permission} needs a bucket`);
  const name = bucket === "" ? "default" : bucket;
  const held = record.grants.some(
    (grant) =>
      grant.permission === permission && (grant.bucket === name || grant.bucket === ANY_BUCKET),
  );
  if (held) return { allowed: true };
  return deny(`user ${identity.user} has no ${permission} grant on bucket ${JSON.stringify(name)}`);
}

function deny(reason: string): AccessDecision {
  return { allowed: false, reason };
}
