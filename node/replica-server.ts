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

/** Builds the Replica service handlers over the local replica. */
export function replicaHandlers(
  replica: Replica,
  view: ClusterView,
  logger: Logger,
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
      replica.merge(bucket, key, decoded.object, { durable }).then(
        (result) => callback(null, { durable: result.durable }),
        (error: unknown) => callback(serviceError(error, logger, "replica put")),
      );
    },
  };
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
