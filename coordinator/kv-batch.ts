// Batches of the public KV service (KV.BatchGet, KV.BatchPut): each item runs as its unary call
// would, through the same KvService method, and ends on its own; a batch is not a transaction.
// At most limits.batchItemsInFlightMax items of one batch run at once, so a batch of 1,000 does
// not start 1,000 quorum rounds together; each running item also counts against the node's
// in-flight bound like any request.

import { KvError } from "../node/core/errors.js";
import type { Limits } from "../node/core/limits.js";
import type { PeerError } from "./kv-service.js";

/** How one item ended: its reply, or the error its unary call would have answered. */
export type ItemResult<Reply> =
  | { readonly ok: true; readonly reply: Reply }
  | { readonly ok: false; readonly error: KvError | PeerError };

/**
 * Refuses a batch whole before any item runs: too many items (or none, which is a mistake of
 * the caller's, not an empty success to guess at).
 */
export function checkBatch(items: readonly unknown[], limits: Limits): void {
  if (items.length === 0) {
    throw new KvError("invalid-argument", "a batch needs at least one item");
  }
  if (items.length > limits.batchItemsMax) {
    throw new KvError(
      "invalid-argument",
      `a batch may hold at most ${limits.batchItemsMax} items (limit batchItemsMax), got ${items.length}`,
    );
  }
}

/**
 * Runs `run` over every item, at most `inFlightMax` at once, in order of the items; resolves
 * with one result per item, in the items' order. `run` rejects only with KvError or PeerError
 * (KvService's contract).
 */
export async function runBatch<Item, Reply>(
  items: readonly Item[],
  inFlightMax: number,
  run: (item: Item) => Promise<Reply>,
): Promise<ItemResult<Reply>[]> {
  const results = new Array<ItemResult<Reply>>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { ok: true, reply: await run(items[index]!) };
      } catch (error) {
        results[index] = { ok: false, error: error as KvError | PeerError };
      }
    }
  };
  const lanes = Math.max(1, Math.min(inFlightMax, items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}
