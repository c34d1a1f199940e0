// One node's ownership transfer, wired the same way in production (cli/start-transfers.ts) and
// in the simulation (scripts/sim/sim-transfer-port.ts), which differ only in the port the
// streams travel on and where the cursors are kept: the puller that streams the partitions
// this node gains, the source that serves the partitions it holds, and the loop that drives
// both and confirms by anti-entropy exchanges.

import type { AntiEntropy } from "../anti-entropy/anti-entropy.js";
import type { Clock } from "../clock.js";
import type { NodeId } from "../core/node-id.js";
import type { Logger } from "../logger.js";
import type { Replica } from "../replica.js";
import type { MembershipView } from "./membership-view.js";
import type { MetadataStore } from "./metadata-store.js";
import { PartitionPuller, type PullFileStore, type TransferPort } from "./partition-puller.js";
import { TransferLoop, type LeavingHints } from "./transfer-loop.js";
import { TRANSFER_DEFAULTS, TransferSource } from "./transfer-source.js";

/** One node's transfer parts. */
export interface Transfers {
  readonly puller: PartitionPuller;
  readonly source: TransferSource;
  readonly loop: TransferLoop;
}

/** Builds the parts; the caller opens the puller (reads the cursors) and starts the loop. */
export function createTransfers(options: {
  readonly view: MembershipView;
  readonly metadata: MetadataStore;
  readonly replica: Replica;
  readonly antiEntropy: AntiEntropy;
  readonly port: TransferPort;
  readonly store: PullFileStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Bytes per second sent, and received, over all streams (0: unthrottled). */
  readonly bytesPerSecond?: number | undefined;
  readonly streamsMax?: number | undefined;
  /** The node's hints: a leaving node hands them off before its change retires. */
  readonly hints: LeavingHints;
}): Transfers {
  const { view, replica, antiEntropy, clock, logger } = options;
  const streamsMax = options.streamsMax ?? TRANSFER_DEFAULTS.streamsMax;
  const bytesPerSecond = options.bytesPerSecond ?? TRANSFER_DEFAULTS.bytesPerSecond;
  const puller = new PartitionPuller({
    replica,
    port: options.port,
    store: options.store,
    clock,
    logger,
    streamsMax,
    upNodes: (): ReadonlySet<NodeId> => view.upNodes(),
    bytesPerSecond,
  });
  const source = new TransferSource({
    view,
    trees: antiEntropy.trees,
    replica,
    clock,
    streamsMax,
    bytesPerSecond,
  });
  const loop = new TransferLoop({
    view,
    metadata: options.metadata,
    exchange: (peer, partitions) => antiEntropy.exchangeWith(peer, partitions),
    puller,
    hints: options.hints,
    clock,
    logger,
  });
  return { puller, source, loop };
}
