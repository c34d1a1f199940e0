// gRPC handlers of the internal Replica service: decode, call the local Replica, encode.
// No decisions are made here.

import * as grpc from "@grpc/grpc-js";
import type { ReplicaHandlers } from "../proto/generated/dkv/v1/Replica.js";
import { decodeObject, encodeObject } from "./core/object-codec.js";
import { KvError, isKvError } from "./core/errors.js";
import { toServiceError } from "./wire/grpc-status.js";
import type { Replica } from "./replica.js";
import type { Logger } from "./logger.js";
import type { ClusterView } from "./cluster-view.js";
import type { HintStore } from "./hints/hint-store.js";
import type { NodeId } from "./core/node-id.js";

/** Builds the Replica service handlers over the local replica. */
export function replicaHandlers(
  replica: Replica,
  view: ClusterView,
  logger: Logger,
  hints: HintStore,
): ReplicaHandlers {
  return {
    Get(call, callback) {
      const refused = view.refusal(call.metadata);
      if (refused !== undefined) return callback(toServiceError(refused));
      const { bucket, key } = call.request;
      replica.get(bucket, key).then(
        (object) =>
          callback(null, {
            found: object !== undefined,
            object: object === undefined ? Buffer.alloc(0) : encodeObject(object),
          }),
        (error: unknown) => callback(serviceError(error, logger, "replica get")),
      );
    },
    Put(call, callback) {
      const refused = view.refusal(call.metadata);
      if (refused !== undefined) return callback(toServiceError(refused));
      const { bucket, key, object, durable } = call.request;
      const decoded = decodeObject(object);
      if (!decoded.ok) {
        callback(
          toServiceError(new KvError("invalid-argument", `object is malformed: ${decoded.reason}`)),
        );
        return;
      }
      const hintFor = call.request.hint_for;
      const hinted =
        hintFor === "" ? Promise.resolve() : addHint(view, hints, hintFor, call.request);
      hinted
        .then(() => replica.merge(bucket, key, decoded.object, { durable }))
        .then(
          (result) => callback(null, { durable: result.durable }),
          (error: unknown) => callback(serviceError(error, logger, "replica put")),
        );
    },
  };
}

/**
 * Records the hint of a fallback write before the object is stored (a crash in between leaves a
 * hint for a missing copy, which delivery drops; the other order could lose the handoff).
 * Declines with RESOURCE_EXHAUSTED when this node's hints for the primary are at their bound.
 */
async function addHint(
  view: ClusterView,
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
