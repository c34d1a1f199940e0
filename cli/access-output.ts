// What `dkv user` and `dkv grant|revoke` share: one call to a node's Access service, the checks
// of user names, permissions and buckets on the command line (made before any call, so that a
// mistake exits 2 without touching the cluster), and how users print. A reply never holds a
// token hash; a new token is printed once.

import * as grpc from "@grpc/grpc-js";
import Table from "cli-table3";
import { loadProto } from "../proto/load-proto.js";
import type { AccessClient } from "../proto/generated/dkv/v1/Access.js";
import type { AccessReply__Output } from "../proto/generated/dkv/v1/AccessReply.js";
import type { UserInfo__Output } from "../proto/generated/dkv/v1/UserInfo.js";
import { channelOptions } from "../node/peer-clients.js";
import { DEFAULT_LIMITS } from "../node/core/limits.js";
import { type Grant, checkGrant, permissions } from "../node/core/access.js";
import { isValidUserName } from "../node/security/certificate-policy.js";
import { callFirstReachable } from "./first-reachable.js";
import { clientSecurity, nodeAddresses, type ClientArgs } from "./client-options.js";
import { UsageError } from "./usage.js";

/** One unary call on an Access client, as the callback form the generated client has. */
export type AccessCall = (
  client: AccessClient,
  options: grpc.CallOptions,
  done: (error: grpc.ServiceError | null, reply?: AccessReply__Output) => void,
) => void;

/** Makes `call` on the first reachable node (cli/first-reachable.ts). */
export async function callAccess(args: ClientArgs, call: AccessCall): Promise<AccessReply__Output> {
  const { grpcObject } = loadProto();
  const security = clientSecurity(args);
  const connect = (address: string): AccessClient => {
    const secured = security.channel(address);
    return new grpcObject.dkv.v1.Access(address, secured.credentials, {
      ...channelOptions(DEFAULT_LIMITS.grpcMessageBytesMax),
      ...secured.options,
    });
  };
  const { reply } = await callFirstReachable(nodeAddresses(args), args.timeout, connect, call);
  return reply;
}

/** A user name from the command line, as a client certificate names it. */
export function parseUserArg(text: string | undefined): string {
  if (text === undefined || text === "") throw new UsageError("name the user: --user NAME");
  if (!isValidUserName(text)) {
    throw new UsageError(`a user name is 1..64 of [A-Za-z0-9_.@-], got '${text}'`);
  }
  return text;
}

/** A grant from the command line: PERM and --bucket (none for admin, which is cluster-wide). */
export function parseGrantArgs(permission: string, bucket: string | undefined): Grant {
  if (!(permissions as readonly string[]).includes(permission)) {
    throw new UsageError(
      `the permission must be one of ${permissions.join(", ")}, got '${permission}'`,
    );
  }
  if (permission === "admin") {
    if (bucket !== undefined) {
      throw new UsageError("admin is cluster-wide: leave out --bucket");
    }
    return { permission };
  }
  if (bucket === undefined) {
    throw new UsageError(`${permission} needs --bucket NAME (or --bucket '*' for every bucket)`);
  }
  const grant = { permission, bucket } as Grant;
  try {
    checkGrant(grant);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return grant;
}

/** A user as `--json` prints it: grants, how many tokens, the record's revision. */
export function userJson(user: UserInfo__Output): object {
  return {
    user: user.user,
    grants: user.grants.map(({ permission, bucket }) =>
      permission === "admin" ? { permission } : { permission, bucket },
    ),
    tokens: user.token_count,
    revision: user.revision,
  };
}

/** A grant in words: `read on bucket photos`, `write on every bucket`, `admin`. */
export function grantText(grant: { permission: string; bucket?: string }): string {
  if (grant.permission === "admin" || grant.bucket === undefined) return grant.permission;
  return grant.bucket === "*"
    ? `${grant.permission} on every bucket`
    : `${grant.permission} on bucket ${grant.bucket}`;
}

/** `dkv user list`: one row per user. */
export function userLines(users: readonly UserInfo__Output[]): string[] {
  if (users.length === 0) return ["no users"];
  const table = new Table({
    head: ["user", "tokens", "grants"],
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const user of users) {
    const grants = user.grants.map((grant) =>
      grant.permission === "admin" ? "admin" : `${grant.permission}:${grant.bucket}`,
    );
    table.push([user.user, String(user.token_count), grants.join(" ") || "-"]);
  }
  return [table.toString()];
}

/** The one user of a reply, or undefined when it no longer exists. */
export function userOf(reply: AccessReply__Output, name: string): UserInfo__Output | undefined {
  return reply.users.find((user) => user.user === name);
}
