// The admission budget of one call, as its handler sees it: a handler that is about to keep
// large data for the call (a Get's object, read before its size is known; a Session's items
// until they are answered) holds it here, so the bytes count against the node's and the
// connection's budgets like the call's messages do.

import type * as grpc from "@grpc/grpc-js";

/** A hold taken, or refused with the message the caller sees (RESOURCE_EXHAUSTED). */
export type BudgetVerdict =
  { readonly ok: true } | { readonly ok: false; readonly message: string };

/**
 * Bytes a handler holds for its call until the call ends or sends its reply. Its methods are
 * called on it (the admission interceptor's call object is the budget), never passed on unbound.
 */
export interface CallBudget {
  /**
   * Takes `bytes` more for the call; refused (nothing taken) past the node's or the connection's
   * budget, or once the call has ended (its bytes would no longer be counted anywhere).
   */
  hold(bytes: number): BudgetVerdict;
  /**
   * Gives back `bytes` held with hold() (at most what is held). A unary call's holds end when
   * its reply is sent; a streaming reply's handler (KV.Session) releases each item's own.
   */
  release(bytes: number): void;
}

// Keyed by the call's request metadata: grpc-js hands the handler the very object the first
// interceptor's listener received (ServerUnaryCallImpl.metadata), and it lives as long as the call.
const budgets = new WeakMap<grpc.Metadata, CallBudget>();

/** Called by the admission interceptor when a call's metadata arrives. */
export function attachCallBudget(metadata: grpc.Metadata, budget: CallBudget): void {
  budgets.set(metadata, budget);
}

/**
 * The budget of the call whose request metadata is `metadata`; undefined for a call that did not
 * pass the admission interceptor (handlers called directly in unit tests).
 */
export function callBudgetOf(metadata: grpc.Metadata): CallBudget | undefined {
  return budgets.get(metadata);
}
