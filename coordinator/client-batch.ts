// The client side of KV.BatchGet and KV.BatchPut: splitting a long list into batches a node
// accepts, and turning each item's status into an outcome the caller can act on.

import * as grpc from "@grpc/grpc-js";
import { DEFAULT_LIMITS } from "../node/core/limits.js";
import type { ItemStatus__Output } from "../proto/generated/dkv/v1/ItemStatus.js";

/** How one item of a batch ended. */
export type ItemOutcome<Reply> =
  | { readonly ok: true; readonly reply: Reply }
  | { readonly ok: false; readonly error: BatchItemError };

/** The error of one item, as its unary call would have failed. */
export class BatchItemError extends Error {
  /** The gRPC status code. */
  readonly code: grpc.status;
  /** Refused before anything was stored: the item may be sent again. */
  readonly notApplied: boolean;

  constructor(status: ItemStatus__Output) {
    super(`${grpc.status[status.code] ?? status.code}: ${status.message}`);
    this.name = "BatchItemError";
    this.code = status.code;
    this.notApplied = status.not_applied;
  }
}

/** Request bytes per batch the client aims under (a node accepts about 16 MiB per message). */
export const BATCH_BYTES_TARGET = 4 * 1024 * 1024;

/**
 * Splits items into batches of at most `itemsMax` items and about `bytesMax` bytes (an item
 * larger than that goes alone), keeping their order.
 */
export function chunkBatch<Item>(
  items: readonly Item[],
  bytesOf: (item: Item) => number,
  itemsMax: number = DEFAULT_LIMITS.batchItemsMax,
  bytesMax: number = BATCH_BYTES_TARGET,
): Item[][] {
  const chunks: Item[][] = [];
  let current: Item[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (current.length > 0 && (current.length >= itemsMax || bytes + size > bytesMax)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Each result of a batch as an outcome; a result without its reply is a broken answer. */
export function outcomesOf<Reply>(
  results: readonly { readonly status: ItemStatus__Output | null; readonly reply: Reply | null }[],
  expected: number,
): ItemOutcome<Reply>[] {
  if (results.length !== expected) {
    throw new Error(`a batch of ${expected} items was answered with ${results.length} results`);
  }
  return results.map(({ status, reply }) => {
    if (status !== null && status.code !== grpc.status.OK) {
      return { ok: false, error: new BatchItemError(status) };
    }
    if (reply === null) throw new Error("a batch item answered OK came without its reply");
    return { ok: true, reply };
  });
}
