// What the `dkv cluster` membership commands share: one call to a node's Membership service,
// the checks of node ids and addresses on the command line (made before any call, so that a
// mistake exits 2 without touching the cluster), and printing a metadata reply.

import type { ClientSecurity } from "../../node/security/client-security.js";
import * as grpc from "@grpc/grpc-js";
import { loadProto } from "../../proto/load-proto.js";
import type { MembershipClient } from "../../proto/generated/dkv/v1/Membership.js";
import type { MetadataReply__Output } from "../../proto/generated/dkv/v1/MetadataReply.js";
import { channelOptions } from "../../node/peer-clients.js";
import { DEFAULT_LIMITS } from "../../node/core/limits.js";
import { isValidNodeId } from "../../node/core/node-id.js";
import { UsageError, isHostPort } from "../usage.js";
import { callFirstReachable } from "../first-reachable.js";
import { parseMetadataJson, stagedLines, type MetadataView } from "../membership-output.js";

/** One unary call on a Membership client, as the callback form the generated client has. */
export type MembershipCall<Reply> = (
  client: MembershipClient,
  options: grpc.CallOptions,
  done: (error: grpc.ServiceError | null, reply?: Reply) => void,
) => void;

/** Makes `call` on the first reachable of `addresses` (cli/first-reachable.ts). */
export async function callMembership<Reply>(
  addresses: readonly string[],
  timeoutMs: number,
  call: MembershipCall<Reply>,
  security: ClientSecurity,
): Promise<{ reply: Reply; address: string }> {
  const { grpcObject } = loadProto();
  const connect = (address: string): MembershipClient => {
    const secured = security.channel(address);
    return new grpcObject.dkv.v1.Membership(address, secured.credentials, {
      ...channelOptions(DEFAULT_LIMITS.grpcMessageBytesMax),
      ...secured.options,
    });
  };
  return callFirstReachable(addresses, timeoutMs, connect, call);
}

/** A node id from the command line: 1..64 of [A-Za-z0-9_.-], as the node checks it. */
export function parseNodeIdArg(text: string, what: string): string {
  if (!isValidNodeId(text)) {
    throw new UsageError(`${what} must be a node id (1..64 of [A-Za-z0-9_.-]), got '${text}'`);
  }
  return text;
}

/** `ID=HOST:PORT` from the command line: the node id and its advertised address. */
export function parseMemberArg(text: string, what: string): { node: string; address: string } {
  const equals = text.indexOf("=");
  if (equals < 0) throw new UsageError(`${what} must be ID=HOST:PORT, got '${text}'`);
  const node = parseNodeIdArg(text.slice(0, equals), `the id in ${what}`);
  const address = text.slice(equals + 1);
  // Port 0 means "any port" to a listener; peers cannot dial it, so the node refuses it too.
  if (!isHostPort(address) || Number(address.slice(address.lastIndexOf(":") + 1)) === 0) {
    throw new UsageError(
      `the address in ${what} must be host:port with a port in 1..65535, got '${address}'`,
    );
  }
  return { node, address };
}

/** Prints a metadata reply: raw with --json, else what was done and the staged changes now. */
export function printMetadataReply(
  reply: MetadataReply__Output,
  json: boolean,
  done: string,
): void {
  if (json) {
    console.log(reply.metadata_json);
    return;
  }
  const metadata: MetadataView = parseMetadataJson(reply.metadata_json);
  console.log(done);
  for (const line of stagedLines(metadata.staged)) console.log(line);
  if (metadata.staged.changes.length > 0) {
    console.log("see what committing them does: dkv cluster plan");
  }
}
