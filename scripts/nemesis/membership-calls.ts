// The Membership service calls of a `--membership` nemesis run, as `dkv cluster` makes them:
// read a node's metadata, stage one change, plan, commit. One short-lived client per call, with a
// deadline, so that a paused or killed node costs one timeout and never a hung run.

import { scriptSecurity } from "../lib/script-security.js";
import * as grpc from "@grpc/grpc-js";
import { loadProto } from "../../proto/load-proto.js";
import type { MembershipClient } from "../../proto/generated/dkv/v1/Membership.js";
import type { MetadataReply__Output } from "../../proto/generated/dkv/v1/MetadataReply.js";
import type { PlanReply__Output } from "../../proto/generated/dkv/v1/PlanReply.js";
import type { StageRequest } from "../../proto/generated/dkv/v1/StageRequest.js";
import { channelOptions } from "../../node/peer-clients.js";
import { DEFAULT_LIMITS } from "../../node/core/limits.js";
import { decodeMetadata } from "../../node/core/layout-codec.js";
import type { ClusterMetadata } from "../../node/core/layout.js";

/** Per call: a commit is a few fsyncs; a node that takes longer is treated as unreachable. */
const CALL_TIMEOUT_MS = 5_000;

/** A node's metadata and its digest (equal digests: equal metadata, staged changes included). */
export interface NodeMetadata {
  readonly metadata: ClusterMetadata;
  readonly digest: string;
}

/** The metadata `address` holds. */
export async function metadataAt(address: string): Promise<NodeMetadata> {
  const reply = await call<MetadataReply__Output>(address, (client, options, done) =>
    client.Get({}, options, done),
  );
  return { metadata: decodeReply(reply), digest: reply.digest };
}

/** Stages one change on `address`; resolves with the metadata it then holds. */
export async function stageAt(
  address: string,
  change: Required<StageRequest>,
): Promise<ClusterMetadata> {
  const reply = await call<MetadataReply__Output>(address, (client, options, done) =>
    client.Stage(change, options, done),
  );
  return decodeReply(reply);
}

/** The plan of what `address` has staged, and the (basedOn, revision) to commit it with. */
export function planAt(address: string): Promise<PlanReply__Output> {
  return call<PlanReply__Output>(address, (client, options, done) =>
    client.Plan({}, options, done),
  );
}

/** Commits exactly the plan shown; resolves with the metadata holding the new layout. */
export async function commitAt(
  address: string,
  plan: { readonly based_on: number; readonly revision: number },
): Promise<ClusterMetadata> {
  const request = { based_on: plan.based_on, revision: plan.revision };
  const reply = await call<MetadataReply__Output>(address, (client, options, done) =>
    client.Commit(request, options, done),
  );
  return decodeReply(reply);
}

/** A gRPC error as one line: `FAILED_PRECONDITION: the plan changed ...`. */
export function callErrorText(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const details = (error as { details?: unknown }).details;
  const name = typeof code === "number" ? (grpc.status[code] ?? String(code)) : "error";
  return `${name}: ${typeof details === "string" && details !== "" ? details : String(error)}`;
}

function decodeReply(reply: MetadataReply__Output): ClusterMetadata {
  return decodeMetadata(Buffer.from(reply.metadata_json, "utf8"));
}

function call<Reply>(
  address: string,
  invoke: (
    client: MembershipClient,
    options: grpc.CallOptions,
    done: (error: grpc.ServiceError | null, reply?: Reply) => void,
  ) => void,
): Promise<Reply> {
  const v1 = loadProto().grpcObject.dkv.v1;
  const secured = scriptSecurity().channel(address);
  const client = new v1.Membership(address, secured.credentials, {
    ...channelOptions(DEFAULT_LIMITS.grpcMessageBytesMax),
    ...secured.options,
  });
  return new Promise<Reply>((resolve, reject) =>
    invoke(client, { deadline: Date.now() + CALL_TIMEOUT_MS }, (error, reply) => {
      client.close();
      if (error !== null || reply === undefined) reject(error ?? new Error("no reply"));
      else resolve(reply);
    }),
  );
}
