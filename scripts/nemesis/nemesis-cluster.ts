// The local cluster a nemesis run owns: real `dkv serve` processes on probed free ports of
// 127.0.0.1, a cluster.json so the fault-script helpers (restartNode) can drive it, and a
// teardown that kills every process it started or restarted by pid, resuming paused ones first
// (also synchronously on exit and on SIGINT/SIGTERM).

import { mkdirSync } from "node:fs";
import path from "node:path";
import { writeClusterFile } from "../../cli/cluster-file.js";
import {
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  waitForServing,
  type LocalNodeSpec,
} from "../../cli/local-cluster.js";
import {
  builtMainScript,
  isAlive,
  restartNode,
  signal,
  waitForExit,
} from "../lib/fault-cluster.js";

/** Options of the cluster's nodes. */
export interface NemesisClusterOptions {
  readonly nodes: number;
  readonly dir: string;
  readonly storage: string;
  /** Further `dkv serve` flags, e.g. a short anti-entropy interval. */
  readonly serveArgs: readonly string[];
}

/** A running local cluster. */
export class NemesisCluster {
  readonly dir: string;
  readonly specs: readonly LocalNodeSpec[];
  readonly #pids = new Map<string, number>();
  readonly #paused = new Set<string>();
  readonly #storage: string;
  #cleanup: (() => void) | undefined;

  private constructor(dir: string, specs: LocalNodeSpec[], storage: string) {
    this.dir = dir;
    this.specs = specs;
    this.#storage = storage;
  }

  /** Starts every node and waits until each serves; kills what started when one does not. */
  static async start(options: NemesisClusterOptions): Promise<NemesisCluster> {
    mkdirSync(options.dir, { recursive: true });
    const specs = localClusterSpecs({
      ports: await probeFreePorts(options.nodes),
      clusterDir: path.resolve(options.dir),
      storage: options.storage,
      partitionCount: 64,
      logLevel: "info",
      mainScript: builtMainScript(),
      serveArgs: options.serveArgs,
    });
    const cluster = new NemesisCluster(path.resolve(options.dir), specs, options.storage);
    cluster.#installExitHandlers();
    try {
      for (const spec of specs) {
        const child = spawnNode(spec);
        if (child.pid === undefined) throw new Error(`could not start ${spec.id}`);
        cluster.#pids.set(spec.id, child.pid);
      }
      cluster.#writeClusterFile();
      await Promise.all(specs.map((spec) => waitForServing(spec.address, 30_000)));
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

  #writeClusterFile(): void {
    writeClusterFile(this.dir, {
      version: 1,
      supervisorPid: process.pid,
      storage: this.#storage,
      partitionCount: 64,
      nodes: this.specs.map((spec) => ({ ...spec, pid: this.#pids.get(spec.id) ?? 0 })),
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
