// The nemesis of a simulation run (Jepsen's, FoundationDB's clogging): at random intervals it
// partitions the network (halves, one node, a bridge, a majorities ring, one-way cuts), makes it
// lossy, crashes and restarts nodes, or makes the failure detector err; `healAll` undoes it all.

import type { NodeId } from "../../node/core/node-id.js";
import type { SimCluster } from "./sim-cluster.js";
import type { SimEndpoint } from "./sim-endpoint.js";
import type { NetworkFaults, SimNetwork } from "./sim-network.js";
import type { SimRandom } from "./sim-random.js";
import type { SimScheduler } from "./sim-scheduler.js";
import type { SimTrace } from "./sim-trace.js";

/** What the nemesis may do, and how often. */
export interface NemesisConfig {
  readonly intervalMs: readonly [number, number];
  readonly crashes: boolean;
  readonly restartAfterMs: readonly [number, number];
  /** The network when no loss fault is active. */
  readonly baseFaults: NetworkFaults;
}

/** One kind of fault and its weight. */
type Action = readonly [name: string, weight: number, run: () => void];

/** Injects faults into a cluster until told to stop. */
export class SimNemesis {
  readonly #cluster: SimCluster;
  readonly #network: SimNetwork<SimEndpoint>;
  readonly #scheduler: SimScheduler;
  readonly #random: SimRandom;
  readonly #trace: SimTrace;
  readonly #config: NemesisConfig;
  readonly #actions: readonly Action[];
  readonly faultsUsed = new Map<string, number>();

  constructor(options: {
    readonly cluster: SimCluster;
    readonly network: SimNetwork<SimEndpoint>;
    readonly scheduler: SimScheduler;
    readonly random: SimRandom;
    readonly trace: SimTrace;
    readonly config: NemesisConfig;
  }) {
    this.#cluster = options.cluster;
    this.#network = options.network;
    this.#scheduler = options.scheduler;
    this.#random = options.random;
    this.#trace = options.trace;
    this.#config = options.config;
    const crash: readonly Action[] = options.config.crashes
      ? [
          ["crash", 12, () => this.#crash()],
          ["restart", 6, () => this.#restart()],
        ]
      : [];
    this.#actions = [
      ["partition-halves", 8, () => this.#partition(this.#halves())],
      ["partition-one", 8, () => this.#partition(this.#isolateOne())],
      ["partition-bridge", 5, () => this.#bridge()],
      ["partition-ring", 5, () => this.#majoritiesRing()],
      ["cut-one-way", 5, () => this.#cutOneWay()],
      ["heal", 15, () => this.#network.heal()],
      ["lossy", 10, () => this.#lossy()],
      ["calm", 6, () => this.#network.setFaults(this.#config.baseFaults)],
      ["detector-flaps", 4, () => (this.#cluster.flapRate = 0.1 + 0.2 * this.#random.next())],
      ["detector-steady", 4, () => (this.#cluster.flapRate = 0)],
      ...crash,
    ];
  }

  /** Injects one fault per interval until `stop()` holds. */
  async run(stop: () => boolean): Promise<void> {
    const [min, max] = this.#config.intervalMs;
    for (;;) {
      await this.#scheduler.sleep(this.#random.range(min, max));
      if (stop()) return;
      const action = this.#pick();
      this.faultsUsed.set(action[0], (this.faultsUsed.get(action[0]) ?? 0) + 1);
      this.#trace.record(`nemesis ${action[0]}`);
      action[2]();
    }
  }

  /** Heals every link, calms the network, steadies the detector and starts every down node. */
  async healAll(): Promise<void> {
    this.#network.heal();
    this.#network.setFaults(this.#config.baseFaults);
    this.#cluster.flapRate = 0;
    for (const id of this.#cluster.downIds()) await this.#cluster.start(id);
    this.#trace.record("nemesis heal-all");
  }

  #pick(): Action {
    const total = this.#actions.reduce((sum, action) => sum + action[1], 0);
    let roll = this.#random.next() * total;
    for (const action of this.#actions) {
      roll -= action[1];
      if (roll < 0) return action;
    }
    return this.#actions[this.#actions.length - 1] as Action;
  }

  /** Cuts, both ways, every link between nodes of different groups. */
  #partition(groups: readonly (readonly NodeId[])[]): void {
    this.#network.heal();
    const groupOf = new Map<NodeId, number>();
    groups.forEach((group, index) => group.forEach((node) => groupOf.set(node, index)));
    for (const a of this.#cluster.ids) {
      for (const b of this.#cluster.ids) {
        if (a !== b && groupOf.get(a) !== groupOf.get(b)) this.#network.cut(a, b);
      }
    }
    this.#trace.record(`partition ${groups.map((group) => group.join(",")).join(" | ")}`);
  }

  #halves(): NodeId[][] {
    const nodes = this.#random.shuffle(this.#cluster.ids);
    const half = Math.floor(nodes.length / 2);
    return [nodes.slice(0, half), nodes.slice(half)];
  }

  #isolateOne(): NodeId[][] {
    const nodes = this.#random.shuffle(this.#cluster.ids);
    return [nodes.slice(0, 1), nodes.slice(1)];
  }

  /** Two halves, and one node that sees both (Jepsen's bridge): not a partition of groups. */
  #bridge(): void {
    const nodes = this.#random.shuffle(this.#cluster.ids);
    const bridge = nodes[0] as NodeId;
    const rest = nodes.slice(1);
    const half = Math.floor(rest.length / 2);
    const [left, right] = [rest.slice(0, half), rest.slice(half)];
    this.#network.heal();
    for (const a of left) for (const b of right) this.#cutBoth(a, b);
    this.#trace.record(`bridge ${left.join(",")} | ${bridge} | ${right.join(",")}`);
  }

  /** Every node sees a majority (itself and its nearest ring neighbours), no two the same set. */
  #majoritiesRing(): void {
    const nodes = this.#random.shuffle(this.#cluster.ids);
    const count = nodes.length;
    const reach = Math.ceil(Math.floor(count / 2) / 2);
    this.#network.heal();
    nodes.forEach((a, i) =>
      nodes.forEach((b, j) => {
        const distance = Math.min(Math.abs(i - j), count - Math.abs(i - j));
        if (distance > reach) this.#network.cut(a, b);
      }),
    );
    this.#trace.record(`majorities-ring ${nodes.join(",")}`);
  }

  #cutOneWay(): void {
    const cuts = this.#random.range(1, 3);
    for (let index = 0; index < cuts; index++) {
      const [a, b] = this.#random.shuffle(this.#cluster.ids);
      if (a !== undefined && b !== undefined) {
        this.#network.cut(a, b);
        this.#trace.record(`cut ${a}>${b}`);
      }
    }
  }

  #cutBoth(a: NodeId, b: NodeId): void {
    this.#network.cut(a, b);
    this.#network.cut(b, a);
  }

  #lossy(): void {
    const random = this.#random;
    const faults: NetworkFaults = {
      dropRate: 0.02 + 0.25 * random.next(),
      duplicateRate: 0.2 * random.next(),
      delayMs: [1, random.range(5, 40)],
      spikeRate: 0.1 * random.next(),
      spikeMsMax: random.range(100, 1500),
    };
    this.#network.setFaults(faults);
    this.#trace.record(
      `lossy drop=${faults.dropRate.toFixed(3)} dup=${faults.duplicateRate.toFixed(3)}`,
    );
  }

  #crash(): void {
    const live = this.#cluster.processes();
    if (live.length === 0) return;
    const victim = this.#random.pick(live).self;
    this.#cluster.crash(victim);
    const [min, max] = this.#config.restartAfterMs;
    this.#scheduler.after(this.#random.range(min, max), () => void this.#cluster.start(victim));
  }

  #restart(): void {
    const down = this.#cluster.downIds();
    if (down.length > 0) void this.#cluster.start(this.#random.pick(down));
  }
}
