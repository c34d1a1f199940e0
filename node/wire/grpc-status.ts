// The one table from KvError codes to gRPC status codes (DESIGN.md section 2, "Errors"), and back.

import { status, type ServiceError } from "@grpc/grpc-js";
import { KvError, type KvErrorCode } from "../core/errors.js";

const STATUS_OF_CODE: Readonly<Record<KvErrorCode, status>> = {
  "invalid-argument": status.INVALID_ARGUMENT,
  "too-large": status.RESOURCE_EXHAUSTED,
  overloaded: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  timeout: status.DEADLINE_EXCEEDED,
  "precondition-failed": status.FAILED_PRECONDITION,
  "storage-failed": status.UNAVAILABLE,
  internal: status.INTERNAL,
};

/** The gRPC status for a KvError code. */
export function grpcStatusOf(code: KvErrorCode): status {
  return STATUS_OF_CODE[code];
}

/** A grpc-js error object for a handler's callback. */
export function toServiceError(error: KvError): Partial<ServiceError> {
  return { code: grpcStatusOf(error.code), details: error.message };
}

/** Turns an error from a gRPC call into a KvError, keeping the remote message. */
export function fromServiceError(error: ServiceError): KvError {
  const message = error.details || error.message;
  switch (error.code) {
    case status.INVALID_ARGUMENT:
      return new KvError("invalid-argument", message, { cause: error });
    case status.RESOURCE_EXHAUSTED:
      return new KvError("too-large", message, { cause: error });
    case status.DEADLINE_EXCEEDED:
      return new KvError("timeout", message, { cause: error });
    case status.FAILED_PRECONDITION:
      return new KvError("precondition-failed", message, { cause: error });
    case status.UNAVAILABLE:
    case status.CANCELLED:
      return new KvError("unavailable", message, { cause: error });
    default:
      return new KvError("internal", message, { cause: error });
  }
}
