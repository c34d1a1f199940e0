// Where a client's write goes when the node it called is not a primary of its key (DESIGN
// section 4), how long each forward attempt may take, and when forwarding moves on from a
// candidate to the next. Pure: the KV service (coordinator/kv-service.ts) does the sending.

import type { NodeId } from "../../node/core/node-id.js";
import { isLimitRefusal } from "../../node/core/object-limit.js";
import type { PreferenceList } from "./preference-list.js";

/** Who should coordinate a write, as seen from the node it arrived at. */
export interface ForwardTargets {
  /** The nodes to pass the write to, best first; empty when this node is an up primary. */
  readonly forward: readonly NodeId[];
  /** Whether this node may coordinate the write itself when none of `forward` takes it. */
  readonly selfMay: boolean;
}

/**
 * Who should coordinate a write of the key whose preference list is `list` (DESIGN §4): a
 * primary when one is up, else the first live fallback.
 *
 * Laws: `forward` never names `self`; it is empty exactly when `self` is an up primary (then
 * `selfMay`) or when no other target exists; it lists the up primaries in preference order when
 * any is up, else at most the first target; `selfMay` holds exactly when `self` is a target.
 */
export function forwardTargets(list: PreferenceList, self: NodeId): ForwardTargets {
  const upPrimaries = list.targets.filter((target) => target.role === "primary");
  if (upPrimaries.some((target) => target.node === self)) return { forward: [], selfMay: true };
  const selfMay = list.targets.some((target) => target.node === self);
  const forward = (upPrimaries.length > 0 ? upPrimaries : list.targets.slice(0, 1))
    .map((target) => target.node)
    .filter((node) => node !== self);
  return { forward, selfMay };
}

/** The forwarding policy's settings. */
export interface ForwardPolicy {
  /**
   * How long one attempt waits for a candidate (at most half the time left) while another
   * candidate remains: a paused or stalled primary must not hold a write until its deadline
   * while the failure detector is still making up its mind (~3 s).
   */
  readonly patienceMs: number;
  /**
   * What a candidate that stays silent past its patience leads to: "move-on" tries the next
   * candidate (or this node). "give-up" is a test-only mutation of the simulation: forwarding
   * stops there and answers the client as if the silent candidate had taken the write, though
   * nothing may have been written anywhere; the simulation's checker must catch it.
   */
  readonly silentCandidate: "move-on" | "give-up";
}

/** The policy of every production node. */
export const DEFAULT_FORWARD_POLICY: ForwardPolicy = Object.freeze({
  patienceMs: 1500,
  silentCandidate: "move-on",
});

/**
 * The deadline of one forward attempt started at `nowMs`: the request's own when it is the
 * last chance, else no later than the patience (and half the time left) from now.
 */
export function attemptDeadlineMs(
  nowMs: number,
  deadlineMs: number,
  anotherLeft: boolean,
  policy: ForwardPolicy,
): number {
  if (!anotherLeft) return deadlineMs;
  const patienceMs = Math.min(policy.patienceMs, (deadlineMs - nowMs) / 2);
  return Math.min(deadlineMs, nowMs + patienceMs);
}

/** How a forward attempt failed, as its transport saw it. */
export interface ForwardFailure {
  /**
   * "unreached": the candidate never saw the request (no connection, connection refused), so it
   * cannot have acted on it; "deadline": no answer by the attempt's deadline (it may have
   * acted); "error": it answered with an error of its own.
   */
  readonly kind: "unreached" | "deadline" | "error";
  /** The candidate said it stored nothing (KvError.notApplied), so another may be asked. */
  readonly notApplied: boolean;
  /** One line naming the failure, for the client's message. */
  readonly message: string;
}

/** What forwarding does after a failed attempt. */
export type ForwardStep =
  /**
   * Try the next candidate, or coordinate here when none is left and this node may.
   * `mayHaveApplied`: the failed candidate was only silent, so it may still store the write;
   * a later refusal that stores nothing can then no longer tell the client "not applied".
   */
  | { readonly step: "next"; readonly reason: string; readonly mayHaveApplied: boolean }
  /** Stop: the client hears this candidate's failure. */
  | { readonly step: "fail" }
  /** The "give-up" mutation: stop and answer the client as if the write had been taken. */
  | { readonly step: "give-up" };

/**
 * The step after an attempt that began at `startedMs` with deadline `attemptMs` failed.
 * Forwarding moves on when the candidate could not be reached, when it refused before storing
 * anything (e.g. it saw too few replicas up, just after a partition healed), or when it gave no
 * answer within an attempt deadline cut short by the patience; never after a candidate answered
 * with an error of its own or ran out the request's own deadline (it may have stored the write).
 * A write over the object or sibling limit was refused and taken back there; the next primary
 * holds the same siblings and would refuse it too, so that refusal is final. A candidate that
 * was only slow may still apply the write later: like a client's retry, the write is then stored
 * twice, as two siblings with the same value, never lost.
 */
export function afterForwardFailure(
  failure: ForwardFailure,
  attempt: { readonly startedMs: number; readonly attemptMs: number; readonly deadlineMs: number },
  policy: ForwardPolicy,
): ForwardStep {
  const cutShort = failure.kind === "deadline" && attempt.attemptMs < attempt.deadlineMs;
  if (cutShort) {
    if (policy.silentCandidate === "give-up") return { step: "give-up" };
    const waitedMs = Math.round(attempt.attemptMs - attempt.startedMs);
    return { step: "next", reason: `no answer within ${waitedMs} ms`, mayHaveApplied: true };
  }
  const notApplied = failure.notApplied && !isLimitRefusal(failure.message);
  if (failure.kind === "unreached" || notApplied) {
    return { step: "next", reason: failure.message, mayHaveApplied: false };
  }
  return { step: "fail" };
}

/** The message of a write that found no candidate to coordinate it. */
export function noCoordinatorMessage(reasons: readonly string[]): string {
  const tried = reasons.length === 0 ? "none is up" : reasons.join("; ");
  return `no replica of the key reachable to coordinate the write (${tried})`;
}
