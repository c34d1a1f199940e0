// Ownership transfer's TransferPort over the simulated network, standing in for
// transfer-client.ts: the stream is one call per batch, each from the cursor the last batch
// returned, so a lost or late message costs one batch and the puller's resume logic is what
// recovers. Every decision stays in the production PartitionPuller and TransferSource.

import type { AntiEntropy } from "../../node/anti-entropy/anti-entropy.js";
import type { Clock } from "../../node/clock.js";
import type { NodeId } from "../../node/core/node-id.js";
import type { Logger } from "../../node/logger.js";
import type { MembershipView } from "../../node/membership/membership-view.js";
import type { MetadataStore } from "../../node/membership/metadata-store.js";
import type {
  PullFileStore,
  PullRequest,
  ReceivedBatch,
  TransferPort,
} from "../../node/membership/partition-puller.js";
import { createTransfers, type Transfers } from "../../node/membership/node-transfers.js";
import type { LeavingHints } from "../../node/membership/transfer-loop.js";
import type { TransferSource } from "../../node/membership/transfer-source.js";
import type { Replica } from "../../node/replica.js";
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

/** A simulated node's transfer parts, built as production's are (node-transfers.ts). */
export function simTransfers(options: {
  readonly link: SimLink;
  readonly view: MembershipView;
  readonly replica: Replica;
  readonly antiEntropy: AntiEntropy;
  readonly metadata: MetadataStore;
  readonly pulls: PullFileStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly hints: LeavingHints;
}): Transfers {
  return createTransfers({
    ...options,
    port: new SimTransferPort(options.link),
    store: options.pulls,
    // Unthrottled: the simulation's time is virtual, and a throttle would only stretch it.
    bytesPerSecond: 0,
  });
}

/**
 * transfer-server.ts's stream, one message per call: the source's next batch after the
 * request's cursor, and the stream closed again (its slot freed) until the caller asks again.
 */
export async function nextTransferBatch(
  source: TransferSource,
  request: PullRequest,
  from: NodeId,
): Promise<ReceivedBatch> {
  const stream = source.batches(request, from, new AbortController().signal);
  try {
    const first = await stream.next();
    if (first.done === true) throw new Error("transfer: the source's stream ended empty");
    return first.value;
  } finally {
    await stream.return(undefined);
  }
}
