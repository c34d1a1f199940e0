// The ownership transfer of one node, wired as start-node.ts needs it: the puller that streams
// the partitions this node gains (its cursors in the data directory), the source that serves
// the partitions it holds, the loop that drives both and confirms by anti-entropy, and the
// Transfer service's open calls (closed at shutdown). No decisions are made here.

import type { AntiEntropy } from "../node/anti-entropy/anti-entropy.js";
import type { Clock } from "../node/clock.js";
import type { ClusterView } from "../node/cluster-view.js";
import { leafCount } from "../node/core/merkle-tree.js";
import type { Logger } from "../node/logger.js";
import type { MetadataStore } from "../node/membership/metadata-store.js";
import { createTransfers, type Transfers } from "../node/membership/node-transfers.js";
import type { LeavingHints } from "../node/membership/transfer-loop.js";
import { FilePullStore } from "../node/membership/pull-file-store.js";
import { GrpcTransferPort } from "../node/membership/transfer-client.js";
import type { FetchCall } from "../node/membership/transfer-server.js";
import type { Replica } from "../node/replica.js";

/** One node's transfer parts, with the Transfer service's open calls. */
export interface NodeTransfers extends Transfers {
  readonly calls: Set<FetchCall>;
}

/** Builds the transfer parts and reads the cursors; the loop is started by the caller. */
export async function startTransfers(options: {
  readonly dataDir: string;
  readonly view: ClusterView;
  readonly metadata: MetadataStore;
  readonly replica: Replica;
  readonly antiEntropy: AntiEntropy;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Bytes per second sent, and received, over all streams (0: unthrottled). */
  readonly bytesPerSecond: number | undefined;
  readonly streamsMax: number | undefined;
  /** The node's hints: a leaving node hands them off before its change retires. */
  readonly hints: LeavingHints;
}): Promise<NodeTransfers> {
  const { view, antiEntropy, logger } = options;
  const transfers = createTransfers({
    ...options,
    port: new GrpcTransferPort(view),
    store: new FilePullStore({
      dataDir: options.dataDir,
      partitionCount: view.ring.partitionCount,
      leafCount: leafCount(antiEntropy.trees.shape),
      logger,
    }),
  });
  await transfers.puller.open();
  return { ...transfers, calls: new Set() };
}
