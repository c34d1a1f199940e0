// The operations and outcomes KV requests are counted by (metric labels), and the mapping from
// a failed request's error to its outcome. Pure apart from reading the error object.

import { isKvError, type KvErrorCode } from "../core/errors.js";
import { status } from "@grpc/grpc-js";

/** The public KV operations. */
export const KV_OPERATIONS = ["get", "put", "delete"] as const;
export type KvOperation = (typeof KV_OPERATIONS)[number];

/** How a KV request ended, as a label value. `not_found` is a get that found no live value. */
export const REQUEST_OUTCOMES = [
  "ok",
  "not_found",
  "invalid",
  "too_large",
  "overloaded",
  "unavailable",
  "timeout",
  "precondition_failed",
  "storage_failed",
  "internal",
] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

const OUTCOME_OF_CODE: Readonly<Record<KvErrorCode, RequestOutcome>> = {
  "invalid-argument": "invalid",
  "too-large": "too_large",
  overloaded: "overloaded",
  unavailable: "unavailable",
  timeout: "timeout",
  "precondition-failed": "precondition_failed",
  "storage-failed": "storage_failed",
  internal: "internal",
};

/**
 * The outcome of a request that failed with `error`: a KvError by its code; an error passed
 * through from a forwarded call by its gRPC status (a primary's shedding says "overloaded").
 */
export function outcomeOfError(error: unknown): RequestOutcome {
  if (isKvError(error)) return OUTCOME_OF_CODE[error.code];
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case status.INVALID_ARGUMENT:
      return "invalid";
    case status.RESOURCE_EXHAUSTED: {
      const details = (error as { details?: unknown }).details;
      return typeof details === "string" && details.startsWith("overloaded")
        ? "overloaded"
        : "too_large";
    }
    case status.UNAVAILABLE:
    case status.CANCELLED:
      return "unavailable";
    case status.DEADLINE_EXCEEDED:
      return "timeout";
    case status.FAILED_PRECONDITION:
      return "precondition_failed";
    default:
      return "internal";
  }
}
