// gRPC handlers of the internal Replica service: decode, call the local Replica, encode.
// No decisions are made here; replicaCalls is the service without its transport.

import * as grpc from "@grpc/grpc-js";
import type { ReplicaHandlers } from "../proto/generated/dkv/v1/Replica.js";
import type { ReplicaGetRequest__Output } from "../proto/generated/dkv/v1/ReplicaGetRequest.js";
import type { ReplicaGetResponse } from "../proto/generated/dkv/v1/ReplicaGetResponse.js";
import type { ReplicaPutRequest__Output } from "../proto/generated/dkv/v1/ReplicaPutRequest.js";
import type { ReplicaPutResponse } from "../proto/generated/dkv/v1/ReplicaPutResponse.js";
import { serveReplicaStream, type ReplicaCalls } from "./replica-stream-server.js";
import { decodeObject } from "./core/object-decode.js";
import { KvError, isKvError } from "./core/errors.js";
import { toServiceError } from "./wire/grpc-status.js";
import type { ObjectCheck, Replica } from "./replica.js";
import { DEFAULT_LIMITS } from "./core/limits.js";
import { limitCheck, type ObjectLimits } from "./core/object-limit.js";
import { ReplicaPutReason } from "../proto/generated/dkv/v1/ReplicaPutReason.js";
import type { Logger } from "./logger.js";
import type { ClusterView } from "./cluster-view.js";
import type { HintStore } from "./hints/hint-store.js";
import type { NodeId } from "./core/node-id.js";
import type { Clock } from "./clock.js";

/** Builds the Replica service handlers over the local replica. */
export function replicaHandlers(
  replica: Replica,
  view: ClusterView,
  logger: Logger,
  hints: HintStore,
  clock: Clock,
  limits: ObjectLimits = DEFAULT_LIMITS,
): ReplicaHandlers {
  const served = replicaCalls(replica, view, hints, limits);
  return {
    Get(call, callback) {
      const refused = view.refusal(call.metadata);
      if (refused !== undefined) return callback(toServiceError(refused));
      served.get(call.request).then(
        (reply) => callback(null, reply),
        (error: unknown) => callback(serviceError(error, logger, "replica get")),
      );
    },
    Put(call, callback) {
      const refused = view.refusal(call.metadata);
      if (refused !== undefined) return callback(toServiceError(refused));
      served.put(call.request).then(
        (reply) => callback(null, reply),
        (error: unknown) => callback(serviceError(error, logger, "replica put")),
      );
    },
    Stream(call) {
      serveReplicaStream(call, served, view, logger, clock);
    },
  };
}

/** What the Replica service needs of the cluster view. */
export interface ReplicaServiceView {
  readonly self: NodeId;
  isMember(node: string): boolean;
  /** This node's own layout lists it as removed. */
  isSelfRemoved(): boolean;
}

/**
 * The Replica service's two calls without the transport: what the unary handlers and the
 * stream (replica-stream-server.ts) run, and what the deterministic simulation's network calls.
 */
export function replicaCalls(
  replica: Replica,
  view: ReplicaServiceView,
  hints: HintStore,
  limits: ObjectLimits = DEFAULT_LIMITS,
): ReplicaCalls {
  const check = limitCheck(limits, view.self);
  return {
    get: (request) => serveGet(replica, request),
    put: (request) => servePut(replica, view, hints, request, check),
  };
}

/**
 * One replica get: the stored object's bytes as they are stored (checked to decode, not decoded
 * into a copy and encoded again); or, for a digest read whose digest matches the stored copy,
 * `same` without the object.
 */
async function serveGet(
  replica: Replica,
  request: ReplicaGetRequest__Output,
): Promise<ReplicaGetResponse> {
  const { bucket, key, digest } = request;
  if (digest.length > 0) {
    const answer = await replica.getUnlessSame(bucket, key, digest);
    if (answer.same) return { found: true, same: true, object: EMPTY };
    return found(answer.encoded);
  }
  return found(await replica.getEncoded(bucket, key));
}

const EMPTY = Buffer.alloc(0);

function found(encoded: Uint8Array | undefined): ReplicaGetResponse {
  return encoded === undefined ? { found: false, object: EMPTY } : { found: true, object: encoded };
}

/**
 * One replica put: record the hint (fallback writes), then merge with DVV sync. A coordinated
 * write (reason WRITE) whose merge would break the key's bounds is refused with the limit
 * refusal (docs/ARCHITECTURE.md, "The sibling limit"); other merges are never refused.
 */
async function servePut(
  replica: Replica,
  view: ReplicaServiceView,
  hints: HintStore,
  request: ReplicaPutRequest__Output,
  check: ObjectCheck,
): Promise<ReplicaPutResponse> {
  // Values as views into the message: the merged object is encoded into storage and dropped
  // (nothing keeps a replica put's object), so copying each value out first was one more
  // allocation and copy per write. A new key's object is stored as the bytes that came.
  const decoded = decodeObject(request.object, false);
  if (!decoded.ok) {
    throw new KvError("invalid-argument", `object is malformed: ${decoded.reason}`);
  }
  if (view.isSelfRemoved()) {
    // A coordinator with an older layout (or a spare list made before the change) may still
    // send here. A copy taken now would be out of every reaping round's reach: the reaper asks
    // members only whether they hold hints, so a hinted copy here could be handed off after
    // its key was deleted and reaped, and bring it back (simulation seed 14641). Refused, the
    // write goes to the next spare, a member.
    throw new KvError("unavailable", `node ${view.self} was removed from the cluster`);
  }
  const hintFor = request.hint_for;
  const result = await replica.merge(request.bucket, request.key, decoded.object, {
    durable: request.durable,
    check: request.reason === ReplicaPutReason.REPLICA_PUT_REASON_WRITE ? check : undefined,
    encoded: request.object,
    first: hintFor === "" ? undefined : () => addHint(view, hints, hintFor, request),
  });
  return { durable: result.durable };
}

/**
 * Records the hint of a fallback write before the object is stored (a crash in between leaves a
 * hint for a missing copy, which delivery drops; the other order could lose the handoff), in
 * the key's turn of the merge: delivery reads a hint's copy in the key's turn too, so it never
 * takes a hint whose copy is still being stored for one whose copy is gone. Declines with
 * RESOURCE_EXHAUSTED when this node's hints for the primary are at their bound.
 */
async function addHint(
  view: ReplicaServiceView,
  hints: HintStore,
  hintFor: string,
  request: { readonly bucket: string; readonly key: Uint8Array; readonly object: Uint8Array },
): Promise<void> {
  if (!view.isMember(hintFor) || hintFor === view.self) {
    throw new KvError("invalid-argument", `hint_for names ${hintFor}, not another member`);
  }
  const target = hintFor as NodeId;
  if (!hints.hasRoom(target, request.object.length)) {
    const pending = hints.totals(target);
    throw new KvError(
      "too-large",
      `hint store of ${view.self} for ${target} is full: ${pending.bytes} bytes pending, ` +
        `limit ${hints.bytesMaxPerTarget}`,
    );
  }
  await hints.add(target, request.bucket, request.key, request.object.length);
}

/** Maps any failure to a status; unexpected ones are logged as bugs, never thrown. */
export function serviceError(
  error: unknown,
  logger: Logger,
  what: string,
): Partial<grpc.ServiceError> {
  if (isKvError(error)) return toServiceError(error);
  logger.error({ err: error }, `${what} failed unexpectedly`);
  const message = error instanceof Error ? error.message : String(error);
  return toServiceError(new KvError("internal", `${what} failed: ${message}`));
}
