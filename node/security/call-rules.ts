// Who may call what: one rule per gRPC method a node serves, looked up by the method's path. A
// method missing from the table is refused to everyone (call-guard.ts), so a new RPC cannot ship
// unchecked: test/integration/security.test.ts lists every method from reflection and calls it
// anonymously. Pure.

import type { Permission } from "../core/access.js";
export type { Permission };

/** The rule of one method. */
export type CallRule =
  /** Anyone, even without a certificate or token (health checks from load balancers). */
  | { readonly kind: "open" }
  /** Any authenticated caller: a node of the cluster's CA or a known user. */
  | { readonly kind: "authenticated" }
  /** A node that is a current member (not removed) of the layout: the data services. */
  | { readonly kind: "member" }
  /** Only a user granted `permission`: no node ever makes the call. */
  | { readonly kind: "user"; readonly permission: Permission }
  /**
   * Any node of the cluster's CA, a member or not, or a user granted `permission`: only what a
   * node that is joining (or rejoining after its removal) needs before it is a member, and what
   * a removed one needs to learn that it was: the metadata (Membership.Get and Exchange, which
   * merges nothing from a non-member) and the heartbeat (Admin.Ping).
   */
  | { readonly kind: "node-or-user"; readonly permission: Permission }
  /** A node that is a current member, or a user granted `permission`. */
  | { readonly kind: "member-or-user"; readonly permission: Permission }
  /**
   * A node that is a current member, or a user granted `permission` on the request's bucket
   * (read from the message).
   */
  | { readonly kind: "bucket"; readonly permission: Permission }
  /**
   * KV.Session: a node that is a current member, or a user granted, on each item's bucket, the
   * permission of the item's operation (SESSION_PERMISSIONS). A refused item is answered
   * PERMISSION_DENIED on its own (session-item-refusal.ts); the session and its other items go
   * on.
   */
  | { readonly kind: "session" }
  /**
   * Membership.Stage: a member node (it forwards an operator's change), an admin user, or a
   * node that is not a member yet staging its own join (`dkv serve --join`).
   */
  | { readonly kind: "stage" };

/** The permission each operation of a KV.Session item needs on the item's bucket. */
export const SESSION_PERMISSIONS: Readonly<Record<"get" | "put" | "delete", Permission>> = {
  get: "read",
  put: "write",
  delete: "delete",
};

const member: CallRule = { kind: "member" };
/** Members and admin users: what a node that is not a member (or no longer one) must not call. */
const admin: CallRule = { kind: "member-or-user", permission: "admin" };
/** Any node of the CA and admin users: what a joining node calls before it is a member. */
const joining: CallRule = { kind: "node-or-user", permission: "admin" };

const RULES: ReadonlyMap<string, CallRule> = new Map<string, CallRule>([
  ["/dkv.v1.KV/Get", { kind: "bucket", permission: "read" }],
  ["/dkv.v1.KV/Put", { kind: "bucket", permission: "write" }],
  ["/dkv.v1.KV/Delete", { kind: "bucket", permission: "delete" }],
  // Every item's bucket is checked; one refused bucket refuses the whole batch.
  ["/dkv.v1.KV/BatchGet", { kind: "bucket", permission: "read" }],
  ["/dkv.v1.KV/BatchPut", { kind: "bucket", permission: "write" }],
  // Every item's bucket and operation is checked; a refused item fails alone.
  ["/dkv.v1.KV/Session", { kind: "session" }],
  ["/dkv.v1.Replica/Get", member],
  ["/dkv.v1.Replica/Put", member],
  ["/dkv.v1.Replica/Stream", member],
  ["/dkv.v1.Handoff/Deliver", member],
  ["/dkv.v1.Transfer/Fetch", member],
  ["/dkv.v1.AntiEntropy/Exchange", member],
  ["/dkv.v1.AntiEntropy/Reap", member],
  ["/dkv.v1.AntiEntropy/Status", admin],
  ["/dkv.v1.Admin/Status", admin],
  ["/dkv.v1.Admin/Ping", joining],
  ["/dkv.v1.Admin/LocalGet", admin],
  // Also off unless the node runs with --enable-fault-injection (admin-server.ts).
  ["/dkv.v1.Admin/SetDroppedPeers", { kind: "user", permission: "admin" }],
  ["/dkv.v1.Admin/SetLinkFaults", { kind: "user", permission: "admin" }],
  ["/dkv.v1.Membership/Get", joining],
  // Open to a node that is not a member, which learns its join's commit or its removal by it;
  // its own metadata is merged only from a member (membership-server.ts).
  ["/dkv.v1.Membership/Exchange", joining],
  ["/dkv.v1.Membership/Stage", { kind: "stage" }],
  ["/dkv.v1.Membership/Clear", admin],
  ["/dkv.v1.Membership/Plan", admin],
  ["/dkv.v1.Membership/Commit", admin],
  ["/dkv.v1.Access/AddUser", { kind: "user", permission: "admin" }],
  ["/dkv.v1.Access/RemoveUser", { kind: "user", permission: "admin" }],
  ["/dkv.v1.Access/RotateToken", { kind: "user", permission: "admin" }],
  ["/dkv.v1.Access/ListUsers", { kind: "user", permission: "admin" }],
  ["/dkv.v1.Access/Grant", { kind: "user", permission: "admin" }],
  ["/dkv.v1.Access/Revoke", { kind: "user", permission: "admin" }],
  ["/grpc.health.v1.Health/Check", { kind: "open" }],
  ["/grpc.health.v1.Health/Watch", { kind: "open" }],
  ["/grpc.health.v1.Health/List", { kind: "open" }],
  ["/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", { kind: "authenticated" }],
  ["/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", { kind: "authenticated" }],
]);

/** The rule of the method at `path` (`/package.Service/Method`), or undefined: refuse. */
export function ruleOf(path: string): CallRule | undefined {
  return RULES.get(path);
}

/** Every method with a rule (for tests that compare with what a node serves). */
export function methodsWithRules(): string[] {
  return [...RULES.keys()];
}
