// Programmer-error checks (TIGER_STYLE: assert what must be true). Pure. A failed check is a bug,
// not an operating error: it throws an AssertionError that no caller handles (a request that
// hits one fails as "internal"). Messages start with the checking module ("dvv: ...").

/** A broken invariant or a misused API: a bug in dkv or in its caller, never bad input. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/** Throws an {@link AssertionError} with `message` unless `condition` holds. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) fail(message);
}

/**
 * Throws an {@link AssertionError} with `message`. For checks whose message has numbers in it:
 * `if (!ok) fail(\`... ${n}\`)` builds the message only when the check fails.
 */
export function fail(message: string): never {
  throw new AssertionError(message);
}
