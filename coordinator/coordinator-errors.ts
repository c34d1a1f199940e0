// The coordinator's errors and messages for requests that cannot start or whose quorum failed:
// one place for their wording, which clients and tests read. Pure.

import type { CausalContext } from "../node/core/causal-context.js";
import { KvError } from "../node/core/errors.js";
import type { NodeId } from "../node/core/node-id.js";
import type { HintStore } from "../node/hints/hint-store.js";
import type { QuorumTarget } from "./core/put-quorum.js";

/** Why a request cannot start: fewer reachable replicas than its quorum needs. */
export function tooFewMessage(
  what: "read" | "write",
  targets: readonly QuorumTarget[],
  n: number,
  field: "r" | "w",
  needed: number,
): string {
  const primaries = targets.filter((target) => target.primary).length;
  return (
    `${what} quorum unreachable: only ${targets.length} of ${n} replicas reachable ` +
    `(${primaries} primaries), need ${field}=${needed}`
  );
}

/** The error for a verdict that is not ok. */
export function failure(
  verdict:
    | { readonly status: "pending" }
    | { readonly status: "failed"; readonly reason: string; readonly message: string },
  options: { readonly notApplied?: boolean } = {},
): KvError {
  if (verdict.status === "pending")
    return new KvError("internal", "quorum undecided after the deadline");
  if (verdict.reason === "over-limit") {
    // Refused, and taken back everywhere (Coordinator #retract): not applied.
    return new KvError("too-large", verdict.message, { notApplied: true });
  }
  const code = verdict.reason === "timeout" ? "timeout" : "unavailable";
  return new KvError(code, verdict.message, { notApplied: options.notApplied ?? false });
}

/**
 * The error of a write with a context whose quorum the limit made impossible: not taken back,
 * so (unlike a refused blind write) it may have been applied, and may spread.
 */
export function overLimitMayApply(message: string): KvError {
  return new KvError(
    "too-large",
    `${message}; the write carried a context, so it was not taken back and may still be applied`,
  );
}

/** True when a context covers no dot (a blind write's). */
export function isEmptyContext(context: CausalContext): boolean {
  return context.vv.size === 0 && context.cloud.length === 0;
}

/** The message when this node's hints for a primary are at their bound (as replica-server's). */
export function hintsFullMessage(self: NodeId, target: NodeId, hints: HintStore): string {
  const pending = hints.totals(target);
  return (
    `hint store of ${self} for ${target} is full: ${pending.bytes} bytes pending, ` +
    `limit ${hints.bytesMaxPerTarget}`
  );
}
