// The public KV service of a simulated node, following coordinator/kv-server.ts step by step
// with the production helpers (request-decode.ts, key-context.ts): validation, forwarding a
// write to a primary of its key, the coordinator command, and the reply's context and vtag.
// Only the gRPC framing is left out; forwarding goes over the simulated network.

import { isKvError, KvError } from "../../node/core/errors.js";
import type { Limits } from "../../node/core/limits.js";
import type { NodeId } from "../../node/core/node-id.js";
import { contextAdd } from "../../node/core/causal-context.js";
import { join, liveValues, values, vtag } from "../../node/core/dvv.js";
import { encodeKeyContext } from "../../node/core/key-context.js";
import type { GetRequest__Output } from "../../proto/generated/dkv/v1/GetRequest.js";
import type { PutRequest__Output } from "../../proto/generated/dkv/v1/PutRequest.js";
import type { BucketDefaults } from "../../coordinator/core/quorum-options.js";
import type { Coordinator } from "../../coordinator/coordinator.js";
import type { PutCommand } from "../../coordinator/coordinator-commands.js";
import { forwardTargets } from "../../coordinator/core/forward-policy.js";
import {
  checkBucketAndKey,
  checkQuorum,
  deadlineOf,
  putCommandOf,
} from "../../coordinator/request-decode.js";
import type { SimClock } from "./sim-clock.js";
import type { KvGetReply, KvPutReply, SimEndpoint, WireFailure } from "./sim-endpoint.js";
import type { SimNetwork } from "./sim-network.js";

/** The node a request arrived at. */
export interface EdgeHost {
  readonly self: NodeId;
  readonly incarnation: number;
  readonly coordinator: Coordinator;
  readonly clock: SimClock;
  readonly network: SimNetwork<SimEndpoint>;
  readonly limits: Limits;
  readonly bucket: BucketDefaults;
}

/** KV.Get (kvHandlers().Get). `deadlineMs` is the client's deadline in virtual time. */
export async function kvGet(
  host: EdgeHost,
  request: GetRequest__Output,
  deadlineMs: number,
): Promise<KvGetReply> {
  try {
    const bucket = checkBucketAndKey(request.bucket, request.key, host.limits);
    const quorum = checkQuorum(request.options, host.bucket);
    const nodeDeadlineMs = deadlineOf(
      host.clock.fromVirtualMs(deadlineMs),
      host.clock.nowMs(),
      host.limits,
    );
    const sloppy = !(request.options?.strict_quorum ?? false);
    const key = request.key;
    const object = await host.coordinator.get({
      bucket,
      key,
      quorum,
      deadlineMs: nodeDeadlineMs,
      sloppy,
    });
    if (object === undefined) return { ok: true, siblings: [], context: new Uint8Array(0) };
    const live = liveValues(object).length > 0;
    return {
      ok: true,
      siblings: live ? values(object) : [],
      context: encodeKeyContext(bucket, key, join(object)),
    };
  } catch (error) {
    return failureOf(error);
  }
}

/** KV.Put at the node the client called: forwards to a primary when this node is none. */
export async function kvPut(
  host: EdgeHost,
  request: PutRequest__Output,
  deadlineMs: number,
): Promise<KvPutReply> {
  try {
    const forwarded = await maybeForward(host, request, deadlineMs);
    if (forwarded !== undefined) return forwarded;
    return await coordinatePut(host, request, deadlineMs);
  } catch (error) {
    return failureOf(error);
  }
}

/** KV.Put at the coordinator: the command (kv-server's putCommand), the write, the reply. */
export async function coordinatePut(
  host: EdgeHost,
  request: PutRequest__Output,
  deadlineMs: number,
): Promise<KvPutReply> {
  try {
    const command = putCommand(host, request, deadlineMs);
    const outcome = await host.coordinator.put(command);
    const context = contextAdd(command.context, outcome.dot);
    return {
      ok: true,
      context: encodeKeyContext(command.bucket, command.key, context),
      vtag: vtag(outcome.dot),
      dot: outcome.dot,
    };
  } catch (error) {
    return failureOf(error);
  }
}

/** The production edge's command builder, with the simulated clock's time and deadline. */
function putCommand(host: EdgeHost, request: PutRequest__Output, deadlineMs: number): PutCommand {
  const nowMs = host.clock.nowMs();
  const deadline = deadlineOf(host.clock.fromVirtualMs(deadlineMs), nowMs, host.limits);
  const at = {
    limits: host.limits,
    bucket: host.bucket,
    nowMs,
    deadlineMs: deadline,
    contextKeys: undefined,
  };
  return putCommandOf(request, at);
}

/**
 * kv-server's maybeForward: pass the write to the up primaries in preference order, moving on
 * only when one was never reached (connection refused); a deadline or an error means it may
 * have acted, so the client hears it. Undefined when this node should coordinate.
 */
async function maybeForward(
  host: EdgeHost,
  request: PutRequest__Output,
  deadlineMs: number,
): Promise<KvPutReply | undefined> {
  const bucket = checkBucketAndKey(request.bucket, request.key, host.limits);
  const quorum = checkQuorum(request.options, host.bucket);
  const sloppy = !(request.options?.strict_quorum ?? false);
  const list = host.coordinator.preferenceList(bucket, request.key, quorum.n, sloppy);
  const { forward, selfMay } = forwardTargets(list, host.self);
  if (forward.length === 0 && selfMay) return undefined;
  const reasons: string[] = [];
  for (const node of forward) {
    const result = await host.network.call({
      from: host.self,
      fromIncarnation: host.incarnation,
      to: node,
      kind: "kv-put",
      deadlineMs,
      // A client write is not idempotent: a second delivery would be a second write.
      idempotent: false,
      handle: (endpoint) => endpoint.forwardedPut(request, deadlineMs),
    });
    if (result.ok) return result.value;
    if (result.kind === "deadline") throw new KvError("timeout", result.error);
    reasons.push(`${node}: ${result.error}`);
  }
  if (selfMay) return undefined;
  const tried = reasons.length === 0 ? "none is up" : reasons.join("; ");
  throw new KvError(
    "unavailable",
    `no replica of the key reachable to coordinate the write (${tried})`,
  );
}

/** A thrown error as a reply; anything but a KvError is a bug ("internal"). */
export function failureOf(error: unknown): WireFailure {
  if (isKvError(error)) return { ok: false, code: error.code, error: error.message };
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { ok: false, code: "internal", error: `internal error: ${message}` };
}
