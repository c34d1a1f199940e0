// The nemesis of a simulation run applies the fault schedule the live nemesis draws from
// (scripts/nemesis/core/schedule.ts), with overlapping lanes and the kinds only a simulation
// can apply: crashes that lose unsynced writes and restarts, pauses, partitions (halves, one
// node, bridge, majorities ring, one-way), one node's links delayed, lossy, duplicating or
// reordering, and a jump of one node's wall clock. `healAll` ends every fault still holding.

import type { NodeId } from "../../node/core/node-id.js";
import {
  FAULT_KINDS,
  describeFault,
  scheduleFaults,
  type FaultKind,
  type ScheduledFault,
} from "../nemesis/core/schedule.js";
import type { SimCluster } from "./sim-cluster.js";
import type { SimEndpoint } from "./sim-endpoint.js";
import type { NetworkFaults, SimNetwork } from "./sim-network.js";
import type { SeededRandom } from "../../node/core/seeded-random.js";
import type { SimScheduler } from "./sim-scheduler.js";
import type { SimTrace } from "./sim-trace.js";

/** What the nemesis may do, and how often. */
export interface NemesisConfig {
  /** The schedule's seed (drawn from the run's seed). */
  readonly seed: number;
  /** One fault starts per interval per lane. */
  readonly intervalMs: number;
  /** How many faults may hold at once. */
  readonly lanes: number;
  readonly kinds?: readonly FaultKind[];
  /** The network when no link fault holds. */
  readonly baseFaults: NetworkFaults;
}

/** Injects the scheduled faults into a cluster until told to stop. */
export class SimNemesis {
  readonly #cluster: SimCluster;
  readonly #network: SimNetwork<SimEndpoint>;
  readonly #scheduler: SimScheduler;
  readonly #random: SeededRandom;
  readonly #trace: SimTrace;
  readonly #config: NemesisConfig;
  /** Faults started and not yet ended, in start order. */
  readonly #active: ScheduledFault[] = [];
  /** The link faults each active link fault drew when it started. */
  readonly #linkFaults = new Map<ScheduledFault, NetworkFaults>();
  readonly faultsUsed = new Map<string, number>();

  constructor(options: {
    readonly cluster: SimCluster;
    readonly network: SimNetwork<SimEndpoint>;
    readonly scheduler: SimScheduler;
    readonly random: SeededRandom;
    readonly trace: SimTrace;
    readonly config: NemesisConfig;
  }) {
    this.#cluster = options.cluster;
    this.#network = options.network;
    this.#scheduler = options.scheduler;
    this.#random = options.random;
    this.#trace = options.trace;
    this.#config = options.config;
  }

  /**
   * Applies the schedule, drawn as it goes, from now until `stop()` holds (checked before every
   * start and end). At one instant ends come first, so a node restarted and killed at once ends
   * up down.
   */
  async run(stop: () => boolean): Promise<void> {
    const startMs = this.#scheduler.nowMs;
    const faults = scheduleFaults({
      seed: this.#config.seed,
      nodes: this.#cluster.ids,
      kinds: this.#config.kinds ?? FAULT_KINDS,
      durationMs: Infinity,
      intervalMs: this.#config.intervalMs,
      lanes: this.#config.lanes,
    });
    /** Started faults, by end time. */
    const ending: ScheduledFault[] = [];
    let next = faults.next();
    for (;;) {
      const nextStartMs = next.done === true ? Infinity : next.value.startMs;
      const end = ending[0];
      const ends = end !== undefined && end.endMs <= nextStartMs;
      const atMs = ends ? end.endMs : nextStartMs;
      const waitMs = startMs + atMs - this.#scheduler.nowMs;
      if (waitMs > 0) await this.#scheduler.sleep(waitMs);
      if (stop()) return;
      if (ends) {
        ending.shift();
        await this.#end(end);
      } else if (next.done !== true) {
        const fault = next.value;
        next = faults.next();
        const at = ending.findIndex((other) => other.endMs > fault.endMs);
        ending.splice(at < 0 ? ending.length : at, 0, fault);
        await this.#start(fault);
      } else return;
    }
  }

  /** Ends every fault still holding, calms the network and starts every down node. */
  async healAll(): Promise<void> {
    for (const fault of [...this.#active].reverse()) await this.#end(fault);
    this.#network.heal();
    this.#network.setFaults(this.#config.baseFaults);
    for (const id of this.#cluster.ids) this.#cluster.resume(id);
    for (const id of this.#cluster.downIds()) await this.#cluster.start(id);
    this.#trace.record("nemesis heal-all");
  }

  async #start(fault: ScheduledFault): Promise<void> {
    this.faultsUsed.set(fault.kind, (this.faultsUsed.get(fault.kind) ?? 0) + 1);
    this.#trace.record(`nemesis start ${describeFault(fault)}`);
    this.#active.push(fault);
    switch (fault.kind) {
      case "kill":
        this.#cluster.crash(fault.node as NodeId);
        break;
      case "pause":
        this.#cluster.pause(fault.node as NodeId);
        break;
      case "clock-jump":
        this.#cluster.jumpClock(fault.node as NodeId, fault.jumpMs);
        break;
      case "delay":
      case "loss":
      case "duplicate":
      case "reorder":
        this.#linkFaults.set(fault, this.#drawLinkFaults(fault.kind));
        this.#applyLinks();
        break;
      default:
        this.#applyLinks();
    }
  }

  async #end(fault: ScheduledFault): Promise<void> {
    const index = this.#active.indexOf(fault);
    if (index < 0) return;
    this.#active.splice(index, 1);
    this.#trace.record(`nemesis end ${describeFault(fault)}`);
    switch (fault.kind) {
      case "kill":
        await this.#cluster.start(fault.node as NodeId);
        break;
      case "pause":
        this.#cluster.resume(fault.node as NodeId);
        break;
      case "clock-jump":
        this.#cluster.jumpClock(fault.node as NodeId, -fault.jumpMs);
        break;
      default:
        this.#linkFaults.delete(fault);
        this.#applyLinks();
    }
  }

  /** Sets the network's cuts and per-node faults to what the active faults together say. */
  #applyLinks(): void {
    this.#network.heal();
    for (const node of this.#cluster.ids) this.#network.setNodeFaults(node, undefined);
    for (const fault of this.#active) {
      if ("grudges" in fault) {
        for (const [node, peers] of fault.grudges) {
          for (const peer of peers) this.#network.cut(node as NodeId, peer as NodeId);
        }
      }
      const faults = this.#linkFaults.get(fault);
      if (faults !== undefined && "node" in fault) {
        this.#network.setNodeFaults(fault.node as NodeId, faults);
      }
    }
  }

  /** One node's links under a link fault, drawn when it starts. */
  #drawLinkFaults(kind: "delay" | "loss" | "duplicate" | "reorder"): NetworkFaults {
    const random = this.#random;
    const base = this.#config.baseFaults;
    switch (kind) {
      case "delay":
        return { ...base, delayMs: [random.range(20, 100), random.range(150, 600)] };
      case "loss":
        return { ...base, dropRate: 0.05 + 0.4 * random.next() };
      case "duplicate":
        return { ...base, duplicateRate: 0.2 + 0.6 * random.next() };
      case "reorder":
        return {
          ...base,
          delayMs: [1, random.range(5, 40)],
          spikeRate: 0.1 + 0.3 * random.next(),
          spikeMsMax: random.range(100, 1500),
        };
    }
  }
}
