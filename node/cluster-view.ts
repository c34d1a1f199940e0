// This node's view of the cluster: the members and their addresses, the ring built from them,
// and a client per peer. Membership is static (the --peers list); the failure detector and
// sloppy quorum of issue #4 will narrow `upNodes()` to the peers it believes alive.

import { claimRing, type Ring } from "./core/ring.js";
import type { NodeId } from "./core/node-id.js";
import { connectPeer, closePeer, type PeerClients } from "./peer-clients.js";

/** One member of the cluster. */
export interface Member {
  readonly node: NodeId;
  readonly address: string;
}

/** The static cluster view of one node. */
export class ClusterView {
  readonly self: NodeId;
  readonly members: readonly Member[];
  readonly ring: Ring;
  readonly #peers = new Map<NodeId, PeerClients>();
  readonly #allNodes: ReadonlySet<NodeId>;

  constructor(options: {
    readonly self: NodeId;
    readonly members: readonly Member[];
    readonly partitionCount: number;
    readonly targetN: number;
    readonly messageBytesMax: number;
  }) {
    this.self = options.self;
    this.members = [...options.members].sort((a, b) => (a.node < b.node ? -1 : 1));
    if (!this.members.some((member) => member.node === options.self)) {
      throw new Error(`node ${options.self} is not among the members`);
    }
    this.ring = claimRing({
      nodes: this.members.map((member) => member.node),
      partitionCount: options.partitionCount,
      targetN: options.targetN,
    });
    this.#allNodes = new Set(this.members.map((member) => member.node));
    for (const member of this.members) {
      if (member.node === this.self) continue;
      this.#peers.set(
        member.node,
        connectPeer(member.node, member.address, options.messageBytesMax),
      );
    }
  }

  /** The clients of a peer; undefined for this node itself and for unknown nodes. */
  peer(node: NodeId): PeerClients | undefined {
    return this.#peers.get(node);
  }

  /** The address of a member. */
  addressOf(node: NodeId): string | undefined {
    return this.members.find((member) => member.node === node)?.address;
  }

  /** The nodes believed up. Static membership: every member, until issue #4's detector. */
  upNodes(): ReadonlySet<NodeId> {
    return this.#allNodes;
  }

  close(): void {
    for (const peer of this.#peers.values()) closePeer(peer);
    this.#peers.clear();
  }
}
