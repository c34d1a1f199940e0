// Test harness: a cluster of real `dkv serve` processes (the compiled dist/ build) on probed
// free ports of 127.0.0.1, with a temp data dir, and a teardown that kills every process it
// started by pid.

import { existsSync, mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import {
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  stopProcess,
  waitForServing,
  type LocalNodeSpec,
} from "../../cli/local-cluster.js";
import { DkvClient } from "../../coordinator/client.js";

/** The built CLI; `npm test` builds it first. */
export const MAIN_SCRIPT = path.resolve("dist/cli/main.js");

/** A running test cluster. */
export class TestCluster {
  readonly specs: LocalNodeSpec[];
  readonly dir: string;
  readonly #children = new Map<string, ChildProcess>();
  readonly #clients: DkvClient[] = [];

  private constructor(specs: LocalNodeSpec[], dir: string) {
    this.specs = specs;
    this.dir = dir;
  }

  /** Starts `nodes` nodes and waits until every one serves. */
  static async start(options: {
    nodes: number;
    storage?: string;
    partitions?: number;
    /** Further `dkv serve` flags for every node. */
    serveArgs?: readonly string[];
  }): Promise<TestCluster> {
    if (!existsSync(MAIN_SCRIPT)) throw new Error(`${MAIN_SCRIPT} is missing: run npm run build`);
    const dir = mkdtempSync(path.join(tmpdir(), "dkv-test-"));
    const specs = localClusterSpecs({
      ports: await probeFreePorts(options.nodes),
      clusterDir: dir,
      storage: options.storage ?? "memory",
      partitionCount: options.partitions ?? 64,
      logLevel: "info",
      mainScript: MAIN_SCRIPT,
      serveArgs: options.serveArgs ?? [],
    });
    const cluster = new TestCluster(specs, dir);
    try {
      await Promise.all(specs.map((spec) => cluster.startNode(spec.id)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  spec(id: string): LocalNodeSpec {
    const spec = this.specs.find((candidate) => candidate.id === id);
    if (spec === undefined) throw new Error(`no node ${id}`);
    return spec;
  }

  /** Starts (or restarts) one node at its original address. */
  async startNode(id: string): Promise<void> {
    const spec = this.spec(id);
    const child = spawnNode(spec);
    this.#children.set(id, child);
    try {
      await waitForServing(spec.address, 20_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${this.log(id)}`);
    }
  }

  /** Stops one node: SIGTERM (graceful) by default, or SIGKILL. */
  async stopNode(id: string, how: "graceful" | "kill" = "graceful"): Promise<void> {
    const child = this.#children.get(id);
    if (child === undefined) return;
    if (how === "kill") {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    } else {
      await stopProcess(child, 10_000);
    }
    this.#children.delete(id);
  }

  /** A client that talks only to the given node. */
  client(id: string): DkvClient {
    const client = new DkvClient([this.spec(id).address]);
    this.#clients.push(client);
    return client;
  }

  pid(id: string): number | undefined {
    return this.#children.get(id)?.pid;
  }

  log(id: string): string {
    try {
      return readFileSync(this.spec(id).logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** Kills every process this cluster started and removes its data. */
  async stop(): Promise<void> {
    for (const client of this.#clients) client.close();
    await Promise.all([...this.#children.keys()].map((id) => this.stopNode(id, "kill")));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
