// The simulated cluster: N nodes with their disks, the running incarnation of each, the
// failure detector that sets every node's view of who is up, and the periodic hint handoff.
// Crashes and restarts go through here so that every part learns of them at once.

import { nodeId, type NodeId } from "../../node/core/node-id.js";
import { claimRing, type Ring } from "../../node/core/ring.js";
import type { Limits } from "../../node/core/limits.js";
import type { Logger } from "../../node/logger.js";
import type { BucketDefaults } from "../../coordinator/core/quorum-options.js";
import type { ForwardPolicy } from "../../coordinator/core/forward-policy.js";
import type { SimEndpoint } from "./sim-endpoint.js";
import { SimHandoff } from "./sim-handoff.js";
import type { SimNetwork } from "./sim-network.js";
import { SimProcess } from "./sim-process.js";
import type { SimRandom } from "./sim-random.js";
import type { SimScheduler } from "./sim-scheduler.js";
import { SimDisk, type SimStorageFaults } from "./sim-storage.js";
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
  readonly detectorIntervalMs: readonly [number, number];
  readonly handoffIntervalMs: number;
  readonly limits: Limits;
  readonly bucket: BucketDefaults;
  readonly storageFaults: SimStorageFaults;
  readonly mangle?: ObjectMangler | undefined;
  /** The KV service's forwarding policy (a mutation may change it). */
  readonly forwardPolicy: ForwardPolicy;
}

/** A node across its incarnations: what survives a crash, and what runs now. */
interface SimNode {
  readonly id: NodeId;
  readonly disk: SimDisk;
  readonly hintDisk: SimDisk;
  /** How far the machine's wall clock is ahead of virtual time; clock jumps move it. */
  skewMs: number;
  incarnations: number;
  starting: boolean;
  process: SimProcess | undefined;
  handoff: SimHandoff | undefined;
}

/** The nodes, their detector and their handoff. */
export class SimCluster {
  readonly ids: readonly NodeId[];
  readonly ring: Ring;
  readonly #nodes = new Map<NodeId, SimNode>();
  readonly #config: ClusterConfig;
  readonly #scheduler: SimScheduler;
  readonly #network: SimNetwork<SimEndpoint>;
  readonly #random: SimRandom;
  readonly #trace: SimTrace;
  readonly #logger: Logger;
  #periodic = false;
  /** Probability that a detector round gets one peer wrong at one node. */
  flapRate = 0;
  readonly stats = { crashes: 0, restarts: 0, lostWrites: 0 };

  constructor(options: {
    readonly config: ClusterConfig;
    readonly scheduler: SimScheduler;
    readonly network: SimNetwork<SimEndpoint>;
    readonly random: SimRandom;
    readonly trace: SimTrace;
    readonly logger: Logger;
  }) {
    const { config, random } = options;
    this.#config = config;
    this.#scheduler = options.scheduler;
    this.#network = options.network;
    this.#random = random;
    this.#trace = options.trace;
    this.#logger = options.logger;
    this.ids = Array.from({ length: config.nodeCount }, (_, index) => nodeId(`n${index + 1}`));
    this.ring = claimRing({
      nodes: this.ids,
      partitionCount: config.partitionCount,
      targetN: config.bucket.n,
    });
    for (const id of this.ids) {
      this.#nodes.set(id, {
        id,
        disk: new SimDisk(),
        hintDisk: new SimDisk(),
        skewMs: random.range(-config.skewMsMax, config.skewMsMax),
        incarnations: 0,
        starting: false,
        process: undefined,
        handoff: undefined,
      });
    }
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
    node.starting = true;
    node.incarnations += 1;
    const incarnation = node.incarnations;
    const config = this.#config;
    const process = await SimProcess.start({
      self: id,
      incarnation,
      actor: `${id}.${this.#random.hex(4)}`,
      ring: this.ring,
      upNodes: new Set(this.ids),
      scheduler: this.#scheduler,
      network: this.#network,
      random: this.#random,
      disk: node.disk,
      hintDisk: node.hintDisk,
      fsyncMs: config.fsyncMs,
      storageFaults: config.storageFaults,
      skewMs: node.skewMs,
      limits: config.limits,
      bucket: config.bucket,
      hintedHandoff: config.hintedHandoff,
      hintBytesMaxPerTarget: config.hintBytesMaxPerTarget,
      logger: this.#logger.child({ node: id }),
      mangle: config.mangle,
      forwardPolicy: config.forwardPolicy,
    });
    node.starting = false;
    node.process = process;
    node.handoff = new SimHandoff(process);
    this.#network.attach(id, incarnation, process);
    if (incarnation > 1) this.stats.restarts += 1;
    this.#trace.record(`start ${id}#${incarnation} actor ${process.replica.actor}`);
  }

  /** Kills the running incarnation of `id`: its unsynced writes are lost. */
  crash(id: NodeId): void {
    const node = this.#node(id);
    const process = node.process;
    if (process === undefined) return;
    node.process = undefined;
    node.handoff = undefined;
    this.#network.detach(id);
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

  /** Starts the failure detector and hint handoff rounds; they run until `stopPeriodic`. */
  startPeriodic(): void {
    this.#periodic = true;
    const [min, max] = this.#config.detectorIntervalMs;
    const detect = (): void => {
      if (!this.#periodic) return;
      this.detectorRound();
      this.#scheduler.after(this.#random.range(min, max), detect);
    };
    const handoff = (): void => {
      if (!this.#periodic) return;
      if (this.#config.hintedHandoff) for (const node of this.#nodes.values()) node.handoff?.tick();
      this.#scheduler.after(this.#config.handoffIntervalMs, handoff);
    };
    this.#scheduler.after(this.#random.range(min, max), detect);
    this.#scheduler.after(this.#config.handoffIntervalMs, handoff);
  }

  /** Stops the periodic rounds, so that the run can become idle. */
  stopPeriodic(): void {
    this.#periodic = false;
  }

  /**
   * One round of the failure detector: each live node sees up itself and the live nodes it can
   * exchange messages with; with probability `flapRate` it gets one other node wrong.
   */
  detectorRound(): void {
    for (const process of this.processes()) {
      const up = new Set<NodeId>([process.self]);
      for (const other of this.ids) {
        if (other === process.self || this.live(other) === undefined) continue;
        if (this.#network.isCut(process.self, other) || this.#network.isCut(other, process.self))
          continue;
        up.add(other);
      }
      if (this.#random.chance(this.flapRate)) {
        const wrong = this.#random.pick(this.ids.filter((other) => other !== process.self));
        if (up.has(wrong)) up.delete(wrong);
        else up.add(wrong);
      }
      process.setUpNodes(up);
    }
  }

  /** Hints not yet delivered, over every live node. */
  hintsPending(): number {
    let count = 0;
    for (const process of this.processes()) {
      for (const target of process.hints.targets()) count += process.hints.totals(target).count;
    }
    return count;
  }

  /** Hand-off counters summed over the current incarnations. */
  handoffStats(): { delivered: number; copiesRemoved: number } {
    let delivered = 0;
    let copiesRemoved = 0;
    for (const node of this.#nodes.values()) {
      delivered += node.handoff?.stats.delivered ?? 0;
      copiesRemoved += node.handoff?.stats.copiesRemoved ?? 0;
    }
    return { delivered, copiesRemoved };
  }

  #node(id: NodeId): SimNode {
    const node = this.#nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }
}
