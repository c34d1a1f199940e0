// This node's view of the cluster: the members and their addresses, the ring built from them,
// and a client per peer. Membership is static (the --peers list); the failure detector and
// sloppy quorum of issue #4 will narrow `upNodes()` to the peers it believes alive.

import { claimRing, type Ring } from "./core/ring.js";
import type { NodeId } from "./core/node-id.js";
import type * as grpc from "@grpc/grpc-js";
import { connectPeer, closePeer, FROM_HEADER, type PeerClients } from "./peer-clients.js";
import { KvError } from "./core/errors.js";

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
  #dropped: ReadonlySet<NodeId> = new Set();

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
        connectPeer(this.self, member.node, member.address, options.messageBytesMax),
      );
    }
  }

  /**
   * The clients of a peer; undefined for this node itself, for unknown nodes, and for peers
   * whose traffic is dropped by fault injection (callers treat all three as unreachable).
   */
  peer(node: NodeId): PeerClients | undefined {
    if (this.#dropped.has(node)) return undefined;
    return this.#peers.get(node);
  }

  /** Node-level partition (fault injection): drop traffic to and from these peers. */
  setDroppedPeers(nodes: readonly NodeId[]): void {
    this.#dropped = new Set(nodes.filter((node) => node !== this.self));
  }

  /** The peers whose traffic is dropped. */
  droppedPeers(): readonly NodeId[] {
    return [...this.#dropped].sort();
  }

  /** True when requests coming from `node` must be refused (node-level partition). */
  isDropped(node: string): boolean {
    return this.#dropped.has(node as NodeId);
  }

  /** Why a node cannot be called, for error messages. */
  unreachableReason(node: NodeId): string {
    if (this.#dropped.has(node)) return `traffic to ${node} is dropped by fault injection`;
    return this.#allNodes.has(node) ? `${node} has no client` : `unknown node ${node}`;
  }

  /**
   * The error for a request that came from a dropped peer, or undefined when it may proceed.
   * `metadata` is the request's; node-to-node calls name their sender in FROM_HEADER.
   */
  refusal(metadata: grpc.Metadata): KvError | undefined {
    const from = metadata.get(FROM_HEADER)[0];
    if (typeof from !== "string" || !this.#dropped.has(from as NodeId)) return undefined;
    return new KvError("unavailable", `traffic from ${from} is dropped by fault injection`);
  }

  /** True for a member of the cluster. */
  isMember(node: string): boolean {
    return this.#allNodes.has(node as NodeId);
  }

  /** The address of a member. */
  addressOf(node: NodeId): string | undefined {
    return this.members.find((member) => member.node === node)?.address;
  }

  /** The nodes believed up. Static membership: every member, until issue #4's detector. */
  upNodes(): ReadonlySet<NodeId> {
    return this.#allNodes;
  }

  /** Starts background work (the failure detector's heartbeats, issue #4). */
  start(): void {}

  close(): void {
    for (const peer of this.#peers.values()) closePeer(peer);
    this.#peers.clear();
  }
}
