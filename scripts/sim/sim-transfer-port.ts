// Ownership transfer's TransferPort over the simulated network, standing in for
// transfer-client.ts: the stream is one call per batch, each from the cursor the last batch
// returned, so a lost or late message costs one batch and the puller's resume logic is what
// recovers. Every decision stays in the production PartitionPuller and TransferSource.

import type { NodeId } from "../../node/core/node-id.js";
import type {
  PullRequest,
  ReceivedBatch,
  TransferPort,
} from "../../node/membership/partition-puller.js";
import type { SimLink } from "./sim-ports.js";

/** How long one batch may take to arrive (a gRPC stream message has no deadline of its own). */
const BATCH_TIMEOUT_MS = 10_000;

export class SimTransferPort implements TransferPort {
  readonly #link: SimLink;

  constructor(link: SimLink) {
    this.#link = link;
  }

  async *fetch(
    source: NodeId,
    request: PullRequest,
    signal: AbortSignal,
  ): AsyncGenerator<ReceivedBatch> {
    let cursor = request.cursor;
    while (!signal.aborted) {
      const deadlineMs = this.#link.clock.nowMs() + BATCH_TIMEOUT_MS;
      const self = this.#link.self;
      const batch = await this.#link.expect(source, "transfer", deadlineMs, (endpoint) =>
        endpoint.transferBatch({ ...request, cursor }, self),
      );
      yield batch;
      if (batch.done) return;
      cursor = batch.cursor;
    }
  }
}
