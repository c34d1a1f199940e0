// What a coordinator does when one slot of a write's preference list fails: answer with the
// failure, hand a hinted copy to a spare fallback, or try the next spare in the slot's place
// (DESIGN section 5). Pure: coordinator/write-slot.ts does the sending.

import type { NodeId } from "../../node/core/node-id.js";

/** How a replica write to a slot failed. */
export type SlotFailure =
  /** Refused at the object or sibling limit (nothing stored). */
  | "over-limit"
  /** A fallback declined to stand in: its hint store for that primary is full. */
  | "declined"
  /** Anything else: unreachable, a deadline, a storage error. */
  | "failed";

/** The slot that failed. */
export interface SlotState {
  /** The slot holds a primary (not a fallback standing in for one). */
  readonly primary: boolean;
  /** Sloppy quorum is on for this write and on this node. */
  readonly sloppy: boolean;
}

/** What to do about a failed slot. */
export type SpareChoice =
  /** The slot's reply is this failure. */
  | { readonly kind: "answer" }
  /**
   * The slot's reply is this failure, and `spare` gets a hinted copy for the primary in the
   * background: the write reaches the primary by handoff when it is back. The copy counts
   * towards no quorum.
   */
  | { readonly kind: "answer-and-hint"; readonly spare: NodeId }
  /** `spare` takes the declining fallback's place in the slot: send it the write. */
  | { readonly kind: "try-spare"; readonly spare: NodeId };

/**
 * The choice after a slot's write failed, given the spares not yet used (in preference order;
 * the caller removes `spare` from them when the choice names one).
 *
 * - A limit refusal is final for the slot: a spare or the next fallback would take the write in
 *   its place, and its copy would reach the refusing primary by handoff.
 * - A primary that failed before the failure detector noticed (sloppy writes only): the first
 *   spare gets a hinted copy, the slot answers with the failure.
 * - A fallback that declined: the first spare tries in its place.
 * - A fallback that failed otherwise (unreachable, its deadline): the first spare gets a hinted
 *   copy for the primary it stood in for, the slot answers with the failure. Without it, an
 *   acknowledged write could reach the primary only by anti-entropy: the fallback's copy, and
 *   with it the hint, may never have been stored.
 * - Otherwise, or with no spare left: the slot answers with the failure.
 *
 * Laws: a named spare is always `spares[0]`; an over-limit failure never names a spare.
 */
export function spareChoice(
  failure: SlotFailure,
  slot: SlotState,
  spares: readonly NodeId[],
): SpareChoice {
  const spare = spares[0];
  if (failure === "over-limit" || spare === undefined) return { kind: "answer" };
  if (!slot.primary && failure === "declined") return { kind: "try-spare", spare };
  return slot.sloppy ? { kind: "answer-and-hint", spare } : { kind: "answer" };
}
