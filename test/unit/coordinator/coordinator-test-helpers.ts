// A Coordinator over a fixed 3-node view (n1 coordinating; n = 3, so every node is a primary
// of every key) and a transport the test supplies, with memory storage for its own replica.

import { Coordinator, type CoordinatorView } from "../../../coordinator/coordinator.js";
import type { ReplicaTransport } from "../../../coordinator/replica-transport.js";
import { DEFAULT_LIMITS, type Limits } from "../../../node/core/limits.js";
import { nodeId } from "../../../node/core/node-id.js";
import { claimRing } from "../../../node/core/ring.js";
import { createLogger } from "../../../node/logger.js";
import { Replica } from "../../../node/replica.js";
import { MemoryStorage } from "../../../node/storage/memory-storage.js";

export const NODES = ["n1", "n2", "n3"].map(nodeId);

/** n1's view: every node up, a ring of 8 partitions. */
export const THREE_NODE_VIEW: CoordinatorView = {
  self: NODES[0]!,
  ring: claimRing({ nodes: NODES, partitionCount: 8, targetN: 3 }),
  upNodes: () => new Set(NODES),
};

/** n1's coordinator over `transport`; its replica and limits are the test's when given. */
export async function coordinatorOver(
  transport: ReplicaTransport,
  options: { readonly replica?: Replica; readonly limits?: Limits } = {},
): Promise<Coordinator> {
  const storage = new MemoryStorage();
  await storage.open();
  return new Coordinator({
    view: THREE_NODE_VIEW,
    replica: options.replica ?? new Replica(storage, "n1.test"),
    transport,
    limits: options.limits ?? DEFAULT_LIMITS,
    logger: createLogger({ node: "n1", level: "silent" }),
  });
}
