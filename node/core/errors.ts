// The one error type that crosses layers, and its codes. Pure. Cores return operating errors as
// values; shells turn them into KvError, which node/wire/grpc-status.ts maps to a gRPC status and
// cli/exit-codes.ts to an exit status.

/** Why a request failed, in the project's own terms. */
export type KvErrorCode =
  | "invalid-argument" // the request is malformed or a value is out of range
  | "too-large" // over a size or count limit
  | "overloaded" // shedding load
  | "unavailable" // a quorum, node or primary cannot be reached
  | "timeout" // the deadline passed; a write may still have landed
  | "precondition-failed" // if_none_match lost
  | "storage-failed" // the local engine could not read or write
  | "internal"; // a bug

/** An error with a code; its message is lowercase, specific, and carries the numbers. */
export class KvError extends Error {
  readonly code: KvErrorCode;
  /**
   * True when the request failed before anything was stored, so another node may safely be
   * asked instead (a forwarded write moves on to the next primary).
   */
  readonly notApplied: boolean;

  constructor(
    code: KvErrorCode,
    message: string,
    options?: { cause?: unknown; notApplied?: boolean },
  ) {
    super(message, options === undefined ? undefined : { cause: options.cause });
    this.name = "KvError";
    this.code = code;
    this.notApplied = options?.notApplied ?? false;
  }
}

/** True when `value` is a {@link KvError}. */
export function isKvError(value: unknown): value is KvError {
  return value instanceof KvError;
}
