// This node's view of the cluster: the members and their addresses and the rings, all read
// from the cluster metadata (node/membership/metadata-store.ts) and followed when it changes; a
// client per peer; the failure detector (node/membership/) that narrows `upNodes()` to the peers
// believed alive; and the gossip that spreads metadata, piggybacked on its pings. Time comes
// from the injected clock.

import type { Ring } from "./core/ring.js";
import type { NodeId } from "./core/node-id.js";
import type * as grpc from "@grpc/grpc-js";
import { INSECURE_CHANNELS, type ChannelSecurity } from "./security/channel-security.js";
import { connectPeer, closePeer, FROM_HEADER, type PeerClients } from "./peer-clients.js";
import { LinkFaults } from "./link-faults.js";
import { KvError } from "./core/errors.js";
import { createLogger, type Logger } from "./logger.js";
import {
  failureDetectorOptions,
  type FailureDetectorOptions,
} from "./membership/failure-detector-options.js";
import { MemberView, type PeerReport, type PeerTransition } from "./membership/member-view.js";
import { HeartbeatLoop } from "./membership/heartbeat-loop.js";
import { GrpcPingPort } from "./membership/ping-client.js";
import type { Clock } from "./clock.js";
import { isRemovedFrom, type ClusterMetadata, type Layout } from "./core/layout.js";
import { layoutDigest } from "./core/layout-codec.js";
import { LayoutFollower } from "./membership/layout-follower.js";
import { MetadataGossip } from "./membership/metadata-gossip.js";
import type { MetadataStore } from "./membership/metadata-store.js";

/** One member of the cluster. */
export interface Member {
  readonly node: NodeId;
  readonly address: string;
}

/** The cluster view of one node, following the cluster metadata. */
export class ClusterView {
  readonly self: NodeId;
  readonly #metadata: MetadataStore;
  readonly #follower: LayoutFollower;
  #members: readonly Member[] = [];
  #memberIds: ReadonlySet<NodeId> = new Set();
  readonly #messageBytesMax: number;
  readonly #security: ChannelSecurity;
  readonly #peers = new Map<NodeId, PeerClients>();
  /**
   * Clients of the nodes that staged changes bring in (a join, the new node of a replace),
   * connected before the commit: the TLS handshakes then happen while the plan is shown, not in
   * the first second of the transfer beside the foreground load. The commit moves them to
   * #peers.
   */
  readonly #incoming = new Map<NodeId, PeerClients>();
  readonly #unsubscribeStaged: () => void;
  #dropped: ReadonlySet<NodeId> = new Set();
  /** Delay and loss on the links to peers (fault injection, Admin.SetLinkFaults). */
  readonly linkFaults: LinkFaults;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #memberView: MemberView;
  readonly #heartbeats: HeartbeatLoop;
  readonly #listeners = new Set<(transition: PeerTransition) => void>();
  #selfRemoved = false;

  constructor(options: {
    readonly self: NodeId;
    /** The cluster metadata; the view follows every change written to it. */
    readonly metadata: MetadataStore;
    readonly messageBytesMax: number;
    /** Failure detector settings; unset ones take DEFAULT_FAILURE_DETECTOR. */
    readonly failureDetector?: Partial<FailureDetectorOptions>;
    /** Where up/down transitions are logged; default: an info-level logger on stdout. */
    readonly logger?: Logger;
    /** Heartbeats, failure detection and link-fault delays run on it. */
    readonly clock: Clock;
    /** How channels to peers are secured (default plaintext). */
    readonly security?: ChannelSecurity;
  }) {
    this.self = options.self;
    this.#metadata = options.metadata;
    this.#clock = options.clock;
    this.#messageBytesMax = options.messageBytesMax;
    this.#security = options.security ?? INSECURE_CHANNELS;
    this.linkFaults = new LinkFaults(options.clock);
    this.#logger = options.logger ?? createLogger({ node: this.self, level: "info" });
    this.#follower = new LayoutFollower(options.metadata, () => this.#layoutChanged());
    // Two nodes that commit at once make two layouts of one version; gossip keeps one of them
    // (layout-merge.ts), and the other's changes are gone. Say so where it happened.
    this.#follower.onLayoutChange((layout, before) => {
      if (layout.version !== before.version) return;
      this.#logger.warn(
        { version: layout.version, kept: layoutDigest(layout), lost: layoutDigest(before) },
        "a concurrent commit of the same layout version won; the changes of the one this node " +
          "held are lost: check `dkv cluster show` and stage them again",
      );
    });
    this.#applyMembers(this.#follower.layout, true);
    this.#connectIncoming(options.metadata.current);
    // Subscribed after the follower, so a commit moves the incoming clients to #peers first.
    this.#unsubscribeStaged = options.metadata.onChange((after, before) => {
      if (after.staged !== before.staged) this.#connectIncoming(after);
    });
    const detector = failureDetectorOptions(options.failureDetector);
    this.#memberView = new MemberView(
      this.self,
      [...this.#peers.keys()],
      detector,
      this.#clock.monotonicMs(),
    );
    const logger = this.#logger;
    const gossip = new MetadataGossip({
      store: options.metadata,
      exchange: (node, json, deadline) => this.#exchangeMetadata(node, json, deadline),
      clock: options.clock,
      logger,
    });
    this.#heartbeats = new HeartbeatLoop({
      members: this.#memberView,
      port: new GrpcPingPort(this, gossip),
      clock: options.clock,
      options: detector,
      logger,
      onTransition: (transition) => {
        for (const listener of this.#listeners) {
          // A listener's bug must not stop the heartbeats of the whole node.
          try {
            listener(transition);
          } catch (error) {
            logger.error({ err: error, peer: transition.node }, "peer transition listener failed");
          }
        }
      },
    });
  }

  /** The members that are not removed, sorted by id, with their advertised addresses. */
  get members(): readonly Member[] {
    return this.#members;
  }

  /** The layout this node follows now. */
  get layout(): Layout {
    return this.#follower.layout;
  }

  /** This node's own layout lists it as removed (ReplicaServiceView: asked on every put). */
  isSelfRemoved(): boolean {
    return this.#selfRemoved;
  }

  /** The cluster metadata this node holds, and its digest (what pings compare). */
  get metadata(): ClusterMetadata {
    return this.#metadata.current;
  }

  get metadataDigest(): string {
    return this.#metadata.digest;
  }

  /** The ring of the current layout: where data must be. */
  get ring(): Ring {
    return this.#follower.ring;
  }

  /** While data moves to `ring` after a commit, the ring it moves from; else undefined. */
  get previousRing(): Ring | undefined {
    return this.#follower.previousRing;
  }

  /** The layout version whose data is still moving to its new owners; else undefined. */
  transitionOf(): number | undefined {
    return this.#follower.transitionOf();
  }

  /** The version of the layout this node follows. */
  layoutVersion(): number {
    return this.#follower.layout.version;
  }

  /** Every node of the current ring and, during a transition, of the previous one; sorted. */
  ringNodes(): readonly NodeId[] {
    return this.#follower.ringNodes();
  }

  /**
   * Calls `listener` after every change of the layout (not of staged changes or progress
   * alone); returns a function that unsubscribes.
   */
  onLayoutChange(listener: (layout: Layout, before: Layout) => void): () => void {
    return this.#follower.onLayoutChange((layout, before) => {
      // A listener's bug must not stop the others, nor the node following its layout.
      try {
        listener(layout, before);
      } catch (error) {
        this.#logger.error({ err: error }, "layout listener failed");
      }
    });
  }

  /** After the follower took a new layout: members, peers and the failure detector follow. */
  #layoutChanged(): void {
    const layout = this.#follower.layout;
    this.#applyMembers(layout);
    const nowMs = this.#clock.monotonicMs();
    if (this.#memberView.setPeers([...this.#peers.keys()], nowMs)) this.#heartbeats.syncPeers();
    this.#logger.info(
      {
        version: layout.version,
        members: this.#members.map((member) => `${member.node}:${member.address}`),
        transition: layout.previousOwners !== undefined,
      },
      "layout changed",
    );
  }

  /** Membership.Exchange with a peer: our metadata out, the merge of both back. */
  #exchangeMetadata(node: NodeId, json: string, deadline: number): Promise<string> {
    const peer = this.peer(node);
    if (peer === undefined) return Promise.reject(new Error(this.unreachableReason(node)));
    return new Promise((resolve, reject) =>
      peer.membership.Exchange({ metadata_json: json }, { deadline }, (error, reply) =>
        error !== null || reply === undefined
          ? reject(new Error(error?.details ?? "no reply"))
          : resolve(reply.metadata_json),
      ),
    );
  }

  /** Members and peer clients for `layout` (`starting`: from the constructor). */
  #applyMembers(layout: Layout, starting = false): void {
    this.#members = layout.members
      .filter((member) => member.state !== "removed")
      .map((member) => ({ node: member.node, address: member.address }));
    this.#memberIds = new Set(this.#members.map((member) => member.node));
    this.#selfRemoved = isRemovedFrom(layout, this.self);
    for (const [node, peer] of this.#peers) {
      const member = this.#members.find((candidate) => candidate.node === node);
      if (member !== undefined && member.address === peer.address) continue;
      closePeer(peer);
      this.#peers.delete(node);
    }
    for (const member of this.#members) {
      if (member.node === this.self || this.#peers.has(member.node)) continue;
      const incoming = this.#incoming.get(member.node);
      this.#incoming.delete(member.node);
      if (incoming !== undefined && incoming.address === member.address) {
        this.#peers.set(member.node, incoming);
        continue;
      }
      if (incoming !== undefined) closePeer(incoming);
      this.#peers.set(member.node, this.#connect(member, !starting));
    }
  }

  /**
   * The clients of a peer. With `now`, the channel connects at once instead of on its first
   * call: for a node a change brings in, which is up, the TLS handshakes of every node's
   * channels to it otherwise fell in the first second of its transfer. Not at start, where a
   * peer may not listen yet and a failed attempt would make the first calls wait out gRPC's
   * reconnect backoff.
   */
  #connect(member: Member, now: boolean): PeerClients {
    const peer = connectPeer(
      this.self,
      member.node,
      member.address,
      this.#messageBytesMax,
      [this.linkFaults.interceptor(member.node)],
      this.#security,
    );
    if (now) peer.membership.getChannel().getConnectivityState(true);
    return peer;
  }

  /** Connects to the nodes `metadata`'s staged changes bring in; closes the unstaged ones. */
  #connectIncoming(metadata: ClusterMetadata): void {
    const wanted = new Map<NodeId, string>();
    for (const change of metadata.staged.changes) {
      if (change.kind === "join") wanted.set(change.node, change.address);
      if (change.kind === "replace") wanted.set(change.by, change.address);
    }
    for (const [node, peer] of this.#incoming) {
      if (wanted.get(node) === peer.address) continue;
      closePeer(peer);
      this.#incoming.delete(node);
    }
    for (const [node, address] of wanted) {
      if (node === this.self || this.#peers.has(node) || this.#incoming.has(node)) continue;
      this.#incoming.set(node, this.#connect({ node, address }, true));
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
    const before = this.#dropped;
    this.#dropped = new Set(nodes.filter((node) => node !== this.self && this.#peers.has(node)));
    // A healed peer is pinged at once: until it answers this node believes it down, while the
    // peer may already send it requests.
    for (const node of before) if (!this.#dropped.has(node)) this.#heartbeats.pingNow(node);
    // Calls to a dropped peer fail at once, like a refused connection: down now, not at the
    // next ping. Healed peers come back with their next answered ping.
    const nowMs = this.#clock.monotonicMs();
    for (const node of this.#dropped) {
      this.#heartbeats.apply(this.#memberView.cutOff(node, this.unreachableReason(node), nowMs));
    }
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
    return this.#memberIds.has(node) ? `${node} has no client` : `unknown node ${node}`;
  }

  /**
   * The error for a request that came from a dropped peer, or undefined when it may proceed.
   * `metadata` is the request's; node-to-node calls name their sender in FROM_HEADER. A request
   * that may proceed counts as evidence that its sender is alive (MemberView.heardFrom).
   */
  refusal(metadata: grpc.Metadata): KvError | undefined {
    const from = metadata.get(FROM_HEADER)[0];
    if (typeof from !== "string") return undefined;
    if (this.#dropped.has(from as NodeId)) {
      return new KvError("unavailable", `traffic from ${from} is dropped by fault injection`);
    }
    // Every node-to-node request passes here, so it is also where a busy peer proves it is
    // alive between its (slow) heartbeat replies.
    if (this.#peers.has(from as NodeId)) {
      this.#memberView.heardFrom(from as NodeId, this.#clock.monotonicMs());
    }
    return undefined;
  }

  /** True for a member of the cluster. */
  isMember(node: string): boolean {
    return this.#memberIds.has(node as NodeId);
  }

  /** The address of a member. */
  addressOf(node: NodeId): string | undefined {
    return this.#members.find((member) => member.node === node)?.address;
  }

  /**
   * This node and the peers the failure detector believes up (phi below the threshold and no
   * refused connection since their last answered ping). The same set object until a change.
   */
  upNodes(): ReadonlySet<NodeId> {
    return this.#memberView.upNodes();
  }

  /** The detector's view of a peer now: up/down, phi, why down, last ping round trip. */
  peerReport(node: NodeId): PeerReport {
    return this.#memberView.report(node, this.#clock.monotonicMs());
  }

  /**
   * Calls `listener` on every up/down transition of a peer (after it is logged and applied to
   * `upNodes()`). Returns a function that unsubscribes.
   */
  onPeerTransition(listener: (transition: PeerTransition) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts the heartbeats of the failure detector. */
  start(): void {
    this.#heartbeats.start();
  }

  /** Stops the heartbeats and closes the peer clients. */
  close(): void {
    this.#follower.close();
    this.#unsubscribeStaged();
    this.#heartbeats.stop();
    for (const peer of [...this.#peers.values(), ...this.#incoming.values()]) closePeer(peer);
    this.#peers.clear();
    this.#incoming.clear();
  }
}
