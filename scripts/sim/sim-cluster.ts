// The simulated cluster: N nodes with their disks and the running incarnation of each (whose
// failure detector, hint delivery and anti-entropy run on their own timers). Crashes, pauses and
// restarts go through here so that every part learns of them at once. Nodes can be added (a
// new id with empty disks and the cluster's metadata, as `dkv serve --join` starts) and stopped
// for good; the final checks look at the members of the layout the cluster settled on.

import { nodeId, type NodeId } from "../../node/core/node-id.js";
import type { Ring } from "../../node/core/ring.js";
import { initialMetadata } from "../../node/core/layout.js";
import type { Limits } from "../../node/core/limits.js";
import {
  exchangePeers,
  partitionsReplicatedBy,
} from "../../node/anti-entropy/exchange-schedule.js";
import { preferenceList } from "../../coordinator/core/preference-list.js";
import type { Logger } from "../../node/logger.js";
import type { BucketDefaults } from "../../coordinator/core/quorum-options.js";
import type { ForwardPolicy } from "../../coordinator/core/forward-policy.js";
import type { SimEndpoint } from "./sim-endpoint.js";
import type { SimNetwork } from "./sim-network.js";
import { SimProcess, type BackgroundConfig } from "./sim-process.js";
import type { SeededRandom } from "../../node/core/seeded-random.js";
import type { SimScheduler } from "./sim-scheduler.js";
import { SimDisk, type SimStorageFaults, type StoreTracer } from "./sim-storage.js";
import { parseStorageKeyString } from "../../node/storage/storage-key.js";
import { decodeHintKey } from "../../node/hints/hint-store.js";
import { decodeObject } from "../../node/core/object-decode.js";
import { SimMetadataFile } from "./sim-layout-view.js";
import type { SimTrace } from "./sim-trace.js";
import type { ObjectMangler } from "./sim-transport.js";

/** The shape of a cluster, drawn from the seed. */
export interface ClusterConfig {
  readonly nodeCount: number;
  readonly partitionCount: number;
  readonly fsyncMs: readonly [number, number];
  readonly skewMsMax: number;
  readonly hintedHandoff: boolean;
  readonly hintBytesMaxPerTarget: number;
  /** The failure detector, hint delivery, anti-entropy and reaping of every node. */
  readonly background: BackgroundConfig;
  readonly limits: Limits;
  readonly bucket: BucketDefaults;
  readonly storageFaults: SimStorageFaults;
  readonly mangle?: ObjectMangler | undefined;
  /** The KV service's forwarding policy (a mutation may change it). */
  readonly forwardPolicy: ForwardPolicy;
  /** After a membership change retires, how long before lost partitions are dropped. */
  readonly dropGraceMs: number;
}

/** The advertised address of a simulated node (the network routes by id; this is for layouts). */
export function simAddress(id: NodeId): string {
  return `${id}.sim:7000`;
}

/** A node across its incarnations: what survives a crash, and what runs now. */
interface SimNode {
  readonly id: NodeId;
  readonly disk: SimDisk;
  readonly hintDisk: SimDisk;
  readonly metadataFile: SimMetadataFile;
  /** How far the machine's wall clock is ahead of virtual time; clock jumps move it. */
  skewMs: number;
  incarnations: number;
  starting: boolean;
  process: SimProcess | undefined;
}

/** Background work summed over every incarnation, crashed ones included. */
export interface BackgroundStats {
  delivered: number;
  copiesRemoved: number;
  exchanges: number;
  exchangesFailed: number;
  differences: number;
  keysRepaired: number;
  tombstonesReaped: number;
  /** Up/down transitions of the failure detectors. */
  transitions: number;
}

/** The nodes and their incarnations. */
export class SimCluster {
  /** Every node ever created, in creation order (n1, n2, …). */
  readonly #order: NodeId[];
  /** Nodes stopped for good (removed from the cluster), or held down until then. */
  readonly #gone = new Set<NodeId>();
  readonly #held = new Set<NodeId>();
  #exchangePairs: { ring: Ring; pairs: (readonly [NodeId, NodeId])[] } | undefined;
  readonly #nodes = new Map<NodeId, SimNode>();
  readonly #config: ClusterConfig;
  readonly #traceKey: string | undefined;
  readonly #scheduler: SimScheduler;
  readonly #network: SimNetwork<SimEndpoint>;
  readonly #random: SeededRandom;
  readonly #trace: SimTrace;
  readonly #logger: Logger;
  /** What crashed incarnations did, so that totals survive them. */
  readonly #retired: BackgroundStats = {
    delivered: 0,
    copiesRemoved: 0,
    exchanges: 0,
    exchangesFailed: 0,
    differences: 0,
    keysRepaired: 0,
    tombstonesReaped: 0,
    transitions: 0,
  };
  readonly stats = { crashes: 0, restarts: 0, lostWrites: 0 };

  constructor(options: {
    readonly config: ClusterConfig;
    readonly scheduler: SimScheduler;
    readonly network: SimNetwork<SimEndpoint>;
    readonly random: SeededRandom;
    readonly trace: SimTrace;
    readonly logger: Logger;
    /** See RunOptions.traceKey. */
    readonly traceKey?: string;
  }) {
    const { config, random } = options;
    this.#traceKey = options.traceKey;
    this.#config = config;
    this.#scheduler = options.scheduler;
    this.#network = options.network;
    this.#random = random;
    this.#trace = options.trace;
    this.#logger = options.logger;
    this.#order = Array.from({ length: config.nodeCount }, (_, index) => nodeId(`n${index + 1}`));
    const metadata = initialMetadata({
      members: this.#order.map((node) => ({ node, address: simAddress(node) })),
      partitionCount: config.partitionCount,
      targetN: config.bucket.n,
    });
    for (const id of this.#order) this.#add(id).metadataFile.create(metadata);
  }

  #add(id: NodeId): SimNode {
    const node: SimNode = {
      id,
      disk: new SimDisk(),
      hintDisk: new SimDisk(),
      metadataFile: new SimMetadataFile(),
      skewMs: this.#random.range(-this.#config.skewMsMax, this.#config.skewMsMax),
      incarnations: 0,
      starting: false,
      process: undefined,
    };
    this.#nodes.set(id, node);
    return node;
  }

  /** Every node ever created, stopped ones included, in creation order. */
  allIds(): readonly NodeId[] {
    return this.#order;
  }

  /** The nodes not stopped for good, in creation order. */
  get ids(): readonly NodeId[] {
    return this.#order.filter((id) => !this.#gone.has(id));
  }

  /**
   * Adds a node with a new id and empty disks, started with the metadata of the live member
   * `contact` (as `dkv serve --join` fetches it with Membership.Get and writes it first).
   */
  async addNode(contact: SimProcess): Promise<NodeId> {
    const id = nodeId(`n${this.#order.length + 1}`);
    this.#order.push(id);
    this.#add(id).metadataFile.create(contact.metadata.current);
    this.#trace.record(`add ${id} from ${contact.self}`);
    await this.start(id);
    return id;
  }

  /** Kills `id` and keeps it down until `release` or `stopForGood`. */
  hold(id: NodeId): void {
    this.#held.add(id);
    this.crash(id);
  }

  /** Lets a held node start again, and starts it. */
  async release(id: NodeId): Promise<void> {
    this.#held.delete(id);
    await this.start(id);
  }

  /** Stops `id` for good: it is not restarted, inspected or counted any more. */
  stopForGood(id: NodeId): void {
    this.crash(id);
    this.#gone.add(id);
    this.#held.delete(id);
    this.#trace.record(`stopped for good ${id}`);
  }

  /** The running incarnation of `id`, if it is up. */
  live(id: NodeId): SimProcess | undefined {
    return this.#node(id).process;
  }

  /** Every running incarnation, in node order. */
  processes(): SimProcess[] {
    return this.ids.map((id) => this.live(id)).filter((process) => process !== undefined);
  }

  /** Nodes that are down. */
  downIds(): NodeId[] {
    return this.ids.filter((id) => this.live(id) === undefined);
  }

  /** Starts a node that is down, over what its disks kept, with a new actor id. */
  async start(id: NodeId): Promise<void> {
    const node = this.#node(id);
    if (node.process !== undefined || node.starting) return;
    if (this.#gone.has(id) || this.#held.has(id)) return;
    node.starting = true;
    node.incarnations += 1;
    const incarnation = node.incarnations;
    const config = this.#config;
    const process = await SimProcess.start({
      self: id,
      incarnation,
      actor: `${id}.${this.#random.hex(4)}`,
      metadataFile: node.metadataFile,
      dropGraceMs: config.dropGraceMs,
      scheduler: this.#scheduler,
      network: this.#network,
      random: this.#random,
      disk: node.disk,
      hintDisk: node.hintDisk,
      fsyncMs: config.fsyncMs,
      storageFaults: config.storageFaults,
      onStore: this.#storeTracer(`${id}#${incarnation}`),
      skewMs: node.skewMs,
      limits: config.limits,
      bucket: config.bucket,
      hintedHandoff: config.hintedHandoff,
      hintBytesMaxPerTarget: config.hintBytesMaxPerTarget,
      logger: this.#logger.child({ node: id }),
      mangle: config.mangle,
      forwardPolicy: config.forwardPolicy,
      background: config.background,
      onTransition: (transition) => {
        this.#retired.transitions += 1;
        this.#trace.record(
          `detector ${id}: ${transition.node} ${transition.state} (${transition.reason})`,
        );
      },
    });
    node.starting = false;
    node.process = process;
    process.onLayoutChange((layout, before) =>
      this.#trace.record(
        `layout ${id}: v${before.version} -> v${layout.version}` +
          (layout.previousOwners === undefined ? "" : " moving"),
      ),
    );
    this.#network.attach(id, incarnation, process);
    if (incarnation > 1) this.stats.restarts += 1;
    this.#trace.record(`start ${id}#${incarnation} actor ${process.replica.actor}`);
  }

  /** What a node's engines report of their writes: the traced key's, as trace lines. */
  #storeTracer(name: string): StoreTracer | undefined {
    const traced = this.#traceKey;
    if (traced === undefined) return undefined;
    return (engine, id, bytes) => {
      const { key } = parseStorageKeyString(id);
      const hinted = engine === "hints" ? decodeHintKey(key) : undefined;
      const keyText = Buffer.from(hinted?.key ?? key).toString("latin1");
      if (keyText !== traced) return;
      this.#trace.record(`store ${name} ${engine} ${id.replace("\u0000", " ")} ${describe(bytes)}`);
    };
    function describe(bytes: Uint8Array | undefined): string {
      if (bytes === undefined) return "removed";
      const decoded = decodeObject(bytes);
      if (!decoded.ok) return `${bytes.length} bytes`;
      const siblings = decoded.object.siblings.map(
        (sibling) =>
          `${sibling.dot.actor}:${sibling.dot.counter}` +
          (sibling.deleted ? " (tombstone)" : `=${Buffer.from(sibling.value).toString("latin1")}`),
      );
      return `[${siblings.join(", ")}]`;
    }
  }

  /** Kills the running incarnation of `id`: its unsynced writes are lost. */
  crash(id: NodeId): void {
    const node = this.#node(id);
    const process = node.process;
    if (process === undefined) return;
    node.process = undefined;
    this.#network.detach(id);
    addStats(this.#retired, statsOf(process));
    const lost = process.crash();
    this.stats.crashes += 1;
    this.stats.lostWrites += lost.lostWrites;
    this.#trace.record(
      `crash ${id}#${process.incarnation} lost ${lost.lostWrites}+${lost.lostHintWrites}`,
    );
  }

  /** SIGSTOP: the node's timers and messages wait until `resume`. */
  pause(id: NodeId): void {
    const process = this.live(id);
    if (process === undefined) return;
    process.clock.pause();
    this.#network.pause(id);
    this.#trace.record(`pause ${id}#${process.incarnation}`);
  }

  /** SIGCONT: what waited for the node runs now. */
  resume(id: NodeId): void {
    this.live(id)?.clock.resume();
    this.#network.resume(id);
  }

  /** The machine's wall clock jumps by `ms`; the running incarnation's clock with it. */
  jumpClock(id: NodeId, ms: number): void {
    const node = this.#node(id);
    node.skewMs += ms;
    node.process?.clock.jump(ms);
  }

  /**
   * The members (not removed) and the ring of the layout the live nodes follow: the first live
   * node's, which after convergence every live node shares.
   */
  settled(): { readonly members: readonly NodeId[]; readonly ring: Ring } {
    const process = this.processes()[0];
    if (process === undefined) throw new Error("no node is up");
    return { members: process.membership.members, ring: process.ring };
  }

  /** True when every live node follows one metadata with no change under way. */
  layoutsSettled(): boolean {
    const processes = this.processes();
    const digests = new Set(processes.map((process) => process.metadata.digest));
    return digests.size === 1 && processes.every((process) => process.previousRing === undefined);
  }

  /** What the live nodes' layouts are, for a convergence failure. */
  describeLayouts(): string {
    return this.processes()
      .map((process) => {
        const { version, previousOwners } = process.layout;
        const moving = previousOwners === undefined ? "" : " moving";
        return `${process.self}:v${version}${moving}:${process.metadata.digest.slice(0, 8)}`;
      })
      .join(" ");
  }

  /** Live nodes that the settled layout lists as removed (a leave or replace that finished). */
  removedButRunning(): NodeId[] {
    const { members } = this.settled();
    return this.processes()
      .map((process) => process.self)
      .filter((id) => !members.includes(id));
  }

  /** True when every live node's failure detector believes every member up. */
  allSeeAllUp(): boolean {
    const { members } = this.settled();
    return this.processes().every((process) => process.upNodes().size === members.length);
  }

  /**
   * True when, for every pair of nodes that are both primaries of some partition, the one that
   * opens their exchanges (exchange-schedule.ts) has finished one opened at or after `sinceMs`
   * (virtual): a full anti-entropy cycle since then.
   */
  exchangedSince(sinceMs: number): boolean {
    const { ring } = this.settled();
    if (this.#exchangePairs?.ring !== ring) {
      this.#exchangePairs = { ring, pairs: this.#pairsToExchange() };
    }
    return this.#exchangePairs.pairs.every(
      ([opener, peer]) => (this.live(opener)?.exchangesCompleted.get(peer) ?? -Infinity) >= sinceMs,
    );
  }

  /** The pairs [opener, peer] of members that are both primaries of some partition. */
  #pairsToExchange(): (readonly [NodeId, NodeId])[] {
    const { members, ring } = this.settled();
    const primariesOf = (partition: number): readonly NodeId[] => this.primariesOf(partition);
    return members.flatMap((opener) =>
      exchangePeers(opener, members)
        .filter(
          (peer) =>
            partitionsReplicatedBy(ring.partitionCount, primariesOf, [opener, peer]).length > 0,
        )
        .map((peer) => [opener, peer] as const),
    );
  }

  /**
   * The first partition whose primaries' anti-entropy trees differ (what an exchange compares),
   * described; undefined when every partition's primaries agree.
   */
  disagreement(): string | undefined {
    const { ring } = this.settled();
    for (let partition = 0; partition < ring.partitionCount; partition++) {
      const roots = this.primariesOf(partition).map((id) => {
        const trees = this.live(id)?.antiEntropy.trees;
        return `${id}:${trees === undefined ? "down" : trees.root(partition).toString(16)}`;
      });
      const distinct = new Set(roots.map((root) => root.slice(root.indexOf(":"))));
      if (distinct.size > 1) return `partition ${partition} roots ${roots.join(" ")}`;
    }
    return undefined;
  }

  /** A partition's primaries in the settled layout when every member is up. */
  primariesOf(partition: number): readonly NodeId[] {
    const { members, ring } = this.settled();
    return preferenceList(ring, new Set(members), partition, this.#config.bucket.n).primaries;
  }

  /** Stops every live node's background loops, so that the run can go idle. */
  async stopBackground(): Promise<void> {
    await Promise.all(this.processes().map((process) => process.stopBackground()));
  }

  /** Hints not yet delivered, over every live node. */
  hintsPending(): number {
    return this.processes().reduce((sum, process) => sum + process.hintCount(), 0);
  }

  /** Background work so far, over every incarnation. */
  backgroundStats(): BackgroundStats {
    const total = { ...this.#retired };
    for (const process of this.processes()) addStats(total, statsOf(process));
    return total;
  }

  #node(id: NodeId): SimNode {
    const node = this.#nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }
}

/** What one incarnation's background loops did (transitions are counted as they happen). */
function statsOf(process: SimProcess): BackgroundStats {
  const counters = process.antiEntropy.stats.counters;
  return {
    delivered: process.delivery.stats.delivered,
    copiesRemoved: process.delivery.stats.copiesRemoved,
    exchanges: counters.exchanges,
    exchangesFailed: counters.exchangesFailed,
    differences: counters.differencesFound,
    keysRepaired: counters.keysRepaired,
    tombstonesReaped: counters.tombstonesReaped,
    transitions: 0,
  };
}

function addStats(total: BackgroundStats, more: BackgroundStats): void {
  for (const name of Object.keys(total) as (keyof BackgroundStats)[]) total[name] += more[name];
}
