// The local cluster a nemesis run owns: real `dkv serve` processes on probed free ports of
// 127.0.0.1, a cluster.json so the fault-script helpers (restartNode) can drive it, nodes added
// with `--join` and nodes dropped from it (a --membership run), and a teardown that kills every
// process it started or restarted by pid, resuming paused ones first (also synchronously on exit
// and on SIGINT/SIGTERM).

import { useClusterSecurity } from "../lib/script-security.js";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { writeClusterFile } from "../../cli/cluster-file.js";
import {
  ensureCredentialsFor,
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  waitForServing,
  type LocalNodeSpec,
  clusterClientSecurity,
} from "../../cli/local-cluster.js";
import {
  builtMainScript,
  isAlive,
  restartNode,
  signal,
  waitForExit,
  FAULT_INJECTION_FLAG,
} from "../lib/fault-cluster.js";

/** Options of the cluster's nodes. */
export interface NemesisClusterOptions {
  readonly nodes: number;
  readonly dir: string;
  readonly storage: string;
  /** Further `dkv serve` flags, e.g. a short anti-entropy interval. */
  readonly serveArgs: readonly string[];
}

/** How long a node added with --join may take to serve. */
const ADD_NODE_TIMEOUT_MS = 30_000;

/** A running local cluster. */
export class NemesisCluster {
  readonly dir: string;
  /** Nodes the fault lane is acting on (killed, paused, links shaped): no step picks them. */
  readonly underFault = new Set<string>();
  /** Nodes a membership step is acting on: the fault lane leaves them alone. */
  readonly reserved = new Set<string>();
  #specs: LocalNodeSpec[];
  /** The `dkv serve` flags every node shares (no id, addresses, peers or data dir). */
  readonly #sharedArgs: readonly string[];
  readonly #pids = new Map<string, number>();
  /** Nodes added and not serving yet. */
  readonly #starting = new Map<string, LocalNodeSpec>();
  readonly #paused = new Set<string>();
  readonly #storage: string;
  #lock: Promise<unknown> = Promise.resolve();
  #cleanup: (() => void) | undefined;

  private constructor(dir: string, specs: LocalNodeSpec[], storage: string) {
    this.dir = dir;
    this.#specs = specs;
    this.#storage = storage;
    this.#sharedArgs = (specs[0]?.args ?? []).filter(
      (arg) => !/^--(id|listen|peers|data-dir|metrics-listen|join)=/.test(arg),
    );
    // A joining node's argv is built as <main script> serve <own flags> <shared flags>.
    if (this.#sharedArgs[1] !== "serve") throw new Error("node argv must start <main> serve");
  }

  /** The nodes of the cluster now (joined ones included, dropped ones not). */
  get specs(): readonly LocalNodeSpec[] {
    return this.#specs;
  }

  /** Starts every node and waits until each serves; kills what started when one does not. */
  static async start(options: NemesisClusterOptions): Promise<NemesisCluster> {
    mkdirSync(options.dir, { recursive: true });
    const specs = await localClusterSpecs({
      ports: await probeFreePorts(options.nodes),
      clusterDir: path.resolve(options.dir),
      storage: options.storage,
      partitionCount: 64,
      logLevel: "info",
      mainScript: builtMainScript(),
      // The nemesis partitions and shapes links through the Admin service (nemesis/faults.ts).
      serveArgs: [FAULT_INJECTION_FLAG, ...options.serveArgs],
    });
    useClusterSecurity(options.dir);
    const cluster = new NemesisCluster(path.resolve(options.dir), specs, options.storage);
    cluster.#installExitHandlers();
    try {
      for (const spec of specs) cluster.#spawn(spec);
      cluster.#writeClusterFile();
      await Promise.all(
        specs.map((spec) =>
          waitForServing(spec.address, 30_000, clusterClientSecurity(cluster.dir)),
        ),
      );
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get ids(): string[] {
    return this.specs.map((spec) => spec.id);
  }

  get addresses(): string[] {
    return this.specs.map((spec) => spec.address);
  }

  address(id: string): string {
    const spec = this.specs.find((candidate) => candidate.id === id);
    if (spec === undefined) throw new Error(`no node ${id}`);
    return spec.address;
  }

  /**
   * Starts new nodes with `dkv serve --join <via>` (an address of a member), with the flags the
   * others share, and waits until each serves; each stages its own join. From then on they are
   * nodes of the cluster (ids, faults, heals, teardown, cluster.json).
   */
  async addNodes(ids: readonly string[], via: string): Promise<LocalNodeSpec[]> {
    for (const id of ids) {
      if (this.#pids.has(id) || this.#specs.some((spec) => spec.id === id)) {
        throw new Error(`${id} is a node already`);
      }
    }
    await ensureCredentialsFor(this.#sharedArgs, ids);
    // One probe for all: probes made one by one could be handed the same free port.
    const ports = await probeFreePorts(ids.length);
    const specs = ids.map((id, index) => this.#joiningSpec(id, ports[index] as number, via));
    // Listed in cluster.json at once (a last-resort cleanup finds the pids there), but nodes of
    // the cluster — which faults and heals address — only once they serve.
    for (const spec of specs) {
      this.#starting.set(spec.id, spec);
      this.#spawn(spec);
    }
    this.#writeClusterFile();
    await Promise.all(
      specs.map((spec) =>
        waitForServing(spec.address, ADD_NODE_TIMEOUT_MS, clusterClientSecurity(this.dir)),
      ),
    );
    for (const spec of specs) {
      this.#starting.delete(spec.id);
      this.#specs.push(spec);
    }
    return specs;
  }

  #joiningSpec(id: string, port: number, via: string): LocalNodeSpec {
    const address = `127.0.0.1:${port}`;
    const dataDir = path.join(this.dir, id);
    return {
      id,
      address,
      dataDir,
      logFile: path.join(dataDir, "node.log"),
      args: [
        ...this.#sharedArgs.slice(0, 2), // the main script and `serve`
        `--id=${id}`,
        `--listen=${address}`,
        `--join=${via}`,
        `--data-dir=${dataDir}`,
        ...this.#sharedArgs.slice(2),
      ],
    };
  }

  /**
   * Drops a node the cluster no longer has (removed, or about to be force-removed): kill -9 by
   * pid, wait until it is gone, and forget it (no fault, heal or final read reaches it again).
   */
  async drop(id: string): Promise<void> {
    const pid = this.#pids.get(id);
    if (pid !== undefined && isAlive(pid)) {
      if (this.#paused.delete(id)) signal(pid, "SIGCONT");
      signal(pid, "SIGKILL");
      if (!(await waitForExit(pid, 10_000))) {
        throw new Error(`${id} (pid ${pid}) survived kill -9`);
      }
    }
    this.#pids.delete(id);
    this.#specs = this.#specs.filter((spec) => spec.id !== id);
    this.#writeClusterFile();
  }

  /** Runs `action` when no other exclusive action runs: faults and membership steps take turns. */
  exclusive<T>(action: () => Promise<T>): Promise<T> {
    const result = this.#lock.then(action);
    this.#lock = result.catch(() => undefined);
    return result;
  }

  /** Every pid this cluster is responsible for (for a caller's own last-resort cleanup). */
  pids(): number[] {
    return [...this.#pids.values()];
  }

  /** kill -9, and wait until the process is gone. */
  async kill(id: string): Promise<void> {
    const pid = this.#pids.get(id);
    if (pid === undefined || !isAlive(pid)) return;
    if (this.#paused.delete(id)) signal(pid, "SIGCONT");
    signal(pid, "SIGKILL");
    if (!(await waitForExit(pid, 10_000))) throw new Error(`${id} (pid ${pid}) survived kill -9`);
  }

  /** Starts a killed node again with its argv and log file (scripts/lib/fault-cluster.ts restartNode). */
  async restart(id: string): Promise<number> {
    const pid = await restartNode(this.dir, id);
    this.#pids.set(id, pid);
    return pid;
  }

  isRunning(id: string): boolean {
    const pid = this.#pids.get(id);
    return pid !== undefined && isAlive(pid);
  }

  pause(id: string): void {
    const pid = this.#pids.get(id);
    if (pid === undefined) throw new Error(`${id} is not running`);
    this.#paused.add(id);
    signal(pid, "SIGSTOP");
  }

  resume(id: string): void {
    const pid = this.#pids.get(id);
    this.#paused.delete(id);
    if (pid !== undefined) signal(pid, "SIGCONT");
  }

  /** Resumes paused nodes, SIGKILLs every node by pid and waits for them to go. */
  async stop(): Promise<void> {
    this.#killAllNow();
    await Promise.all([...this.#pids.values()].map((pid) => waitForExit(pid, 10_000)));
    this.#removeExitHandlers();
  }

  #killAllNow(): void {
    for (const [id, pid] of this.#pids) {
      if (this.#paused.delete(id)) signal(pid, "SIGCONT");
      signal(pid, "SIGKILL");
    }
  }

  #spawn(spec: LocalNodeSpec): void {
    const child = spawnNode(spec);
    if (child.pid === undefined) throw new Error(`could not start ${spec.id}`);
    this.#pids.set(spec.id, child.pid);
  }

  #writeClusterFile(): void {
    writeClusterFile(this.dir, {
      version: 1,
      supervisorPid: process.pid,
      storage: this.#storage,
      partitionCount: 64,
      nodes: [...this.#specs, ...this.#starting.values()].map((spec) => ({
        ...spec,
        pid: this.#pids.get(spec.id) ?? 0,
      })),
    });
  }

  /** Kill the nodes even when the run dies: on exit, and on Ctrl-C / SIGTERM. */
  #installExitHandlers(): void {
    const onExit = (): void => this.#killAllNow();
    const onSignal = (name: NodeJS.Signals): void => {
      console.error(`${new Date().toISOString()}  ${name}: killing the cluster's nodes`);
      this.#killAllNow();
      process.exit(name === "SIGINT" ? 130 : 143);
    };
    process.on("exit", onExit);
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    this.#cleanup = () => {
      process.off("exit", onExit);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    };
  }

  #removeExitHandlers(): void {
    this.#cleanup?.();
    this.#cleanup = undefined;
  }
}
