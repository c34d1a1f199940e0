// The Access service: users, their tokens and grants (`dkv user ...`, `dkv grant|revoke`). Like
// the Membership service's changes, each goes through the node's MetadataStore, so it is
// durable before it is answered and spreads with the heartbeat's gossip. A token is made and
// hashed here, shown once in the reply, and only its hash is stored. Every call is an admin
// call: the server interceptor checks the caller before a handler runs.

import type * as grpc from "@grpc/grpc-js";
import type { AccessHandlers } from "../../proto/generated/dkv/v1/Access.js";
import type { AccessReply } from "../../proto/generated/dkv/v1/AccessReply.js";
import type { GrantRequest__Output } from "../../proto/generated/dkv/v1/GrantRequest.js";
import type { UserInfo } from "../../proto/generated/dkv/v1/UserInfo.js";
import {
  type Access,
  type Grant,
  addUser,
  checkGrant,
  checkUserName,
  grantPermission,
  permissions,
  removeUser,
  revokePermission,
  setTokenHashes,
} from "../core/access.js";
import { KvError } from "../core/errors.js";
import type { ClusterMetadata } from "../core/layout.js";
import { LayoutError } from "../core/layout-error.js";
import { hashToken, newToken } from "../security/tokens.js";
import { toServiceError } from "../wire/grpc-status.js";
import type { Logger } from "../logger.js";
import type { MetadataStore } from "./metadata-store.js";
import { asKvError } from "./membership-server.js";

/** What the service needs from the node. */
export interface AccessDeps {
  readonly metadata: MetadataStore;
  readonly logger: Logger;
  /** Makes the hash of a new token; tests pass a cheaper scrypt cost. */
  readonly hash?: (token: string) => Promise<string>;
}

/** Builds the Access service handlers. */
export function accessHandlers(deps: AccessDeps): AccessHandlers {
  const { metadata, logger } = deps;
  const hash = deps.hash ?? ((token: string) => hashToken(token));
  const reply = (token = ""): AccessReply => ({
    users: usersOf(metadata.current.access),
    token,
    digest: metadata.digest,
  });
  /** Checks the request, applies the change to the access component, answers or says why not. */
  const change = async (
    callback: grpc.sendUnaryData<AccessReply>,
    what: string,
    prepare: () => Promise<{ apply: (access: Access) => Access; token?: string }>,
  ): Promise<void> => {
    try {
      const { apply, token } = await prepare();
      const update = (current: ClusterMetadata): ClusterMetadata => ({
        ...current,
        access: apply(current.access),
      });
      await metadata.update(update);
      // Names and permissions only: never a token or a hash in the log.
      logger.info({ what }, "users and grants changed");
      callback(null, reply(token));
    } catch (error) {
      callback(toServiceError(asKvError(error)));
    }
  };
  return {
    AddUser(call, callback) {
      const { user, without_token: withoutToken } = call.request;
      void change(callback, `added user ${user}`, async () => {
        checked(() => checkUserName(user));
        if (withoutToken) return { apply: (access) => addUser(access, user, []) };
        const token = newToken();
        const tokenHash = await hash(token);
        return { apply: (access) => addUser(access, user, [tokenHash]), token };
      });
    },
    RemoveUser(call, callback) {
      const { user } = call.request;
      void change(callback, `removed user ${user}`, async () => {
        checked(() => checkUserName(user));
        return { apply: (access) => removeUser(access, user) };
      });
    },
    RotateToken(call, callback) {
      const { user } = call.request;
      void change(callback, `new token for ${user}`, async () => {
        checked(() => checkUserName(user));
        const token = newToken();
        const tokenHash = await hash(token);
        return { apply: (access) => setTokenHashes(access, user, [tokenHash]), token };
      });
    },
    ListUsers(_call, callback) {
      callback(null, reply());
    },
    Grant(call, callback) {
      const { user } = call.request;
      void change(callback, `granted ${describe(call.request)} to ${user}`, async () => {
        const grant = grantOf(call.request);
        return { apply: (access) => grantPermission(access, user, grant) };
      });
    },
    Revoke(call, callback) {
      const { user } = call.request;
      void change(callback, `revoked ${describe(call.request)} from ${user}`, async () => {
        const grant = grantOf(call.request);
        return { apply: (access) => revokePermission(access, user, grant) };
      });
    },
  };
}

/** The users that exist, with their grants and token counts: never a hash. */
export function usersOf(access: Access): UserInfo[] {
  return access.users
    .filter((record) => !record.removed)
    .map(({ user, grants, tokenHashes, revision }) => ({
      user,
      grants: grants.map((grant) => ({
        permission: grant.permission,
        bucket: "bucket" in grant ? grant.bucket : "",
      })),
      token_count: tokenHashes.length,
      revision,
    }));
}

/** A grant from its request, with every field checked (INVALID_ARGUMENT when wrong). */
export function grantOf(request: GrantRequest__Output): Grant {
  const { user, permission, bucket } = request;
  checked(() => checkUserName(user));
  if (!(permissions as readonly string[]).includes(permission)) {
    throw new KvError(
      "invalid-argument",
      `unknown permission ${JSON.stringify(permission)}: want ${permissions.join(", ")}`,
    );
  }
  const grant = (
    permission === "admin" && bucket === "" ? { permission } : { permission, bucket }
  ) as Grant;
  checked(() => checkGrant(grant));
  return grant;
}

/** Runs a check of the core; its LayoutError is the caller's mistake: INVALID_ARGUMENT. */
function checked(check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof LayoutError) throw new KvError("invalid-argument", error.message);
    throw error;
  }
}

function describe({ permission, bucket }: GrantRequest__Output): string {
  return permission === "admin" ? "admin" : `${permission} on ${JSON.stringify(bucket)}`;
}
