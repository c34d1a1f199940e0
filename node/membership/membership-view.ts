// What the membership loops (transfer-loop.ts, drop-loop.ts) need of a node's view of the
// cluster: ClusterView in production, the simulated process in the simulation.

import type { NodeId } from "../core/node-id.js";
import type { Ring } from "../core/ring.js";
import type { Layout } from "../core/layout.js";

export interface MembershipView {
  readonly self: NodeId;
  /** The current layout's ring, and while its data moves, the ring it moves from. */
  readonly ring: Ring;
  readonly previousRing: Ring | undefined;
  readonly layout: Layout;
  upNodes(): ReadonlySet<NodeId>;
  /** Calls `listener` after every change of the layout; returns a function that unsubscribes. */
  onLayoutChange(listener: (layout: Layout, before: Layout) => void): () => void;
}
