// The local cluster a bench run starts for itself: `dkv serve` processes on probed free ports
// of 127.0.0.1 with their data in a fresh temp directory, all registered with the run's
// process set; stopping it removes the data (kept, with the logs, when the start failed).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  stopProcess,
  waitForPeersAnswered,
  waitForServing,
  clusterClientSecurity,
} from "../local-cluster.js";
import type { BenchProcesses } from "./bench-processes.js";

/** A running bench cluster. */
export interface BenchCluster {
  readonly addresses: readonly string[];
  readonly pids: readonly number[];
  readonly dir: string;
  /** Stops every node and removes the data directory. */
  stop(): Promise<void>;
}

/** How long a node may take to serve, and to stop gracefully. */
const NODE_START_TIMEOUT_MS = 30_000;
const NODE_STOP_GRACE_MS = 5_000;

/** Starts the nodes and waits until every one serves. */
export async function startBenchCluster(options: {
  readonly nodes: number;
  readonly storage: string;
  readonly partitions: number;
  readonly serveArgs: readonly string[];
  readonly processes: BenchProcesses;
}): Promise<BenchCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-bench-"));
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(options.nodes),
    clusterDir: dir,
    storage: options.storage,
    partitionCount: options.partitions,
    // Only warnings and errors: a node logs nothing per request, but the bench should not
    // measure log output either.
    logLevel: "warn",
    serveArgs: options.serveArgs,
  });
  const children = specs.map((spec) => options.processes.add(spawnNode(spec)));
  const stopNodes = (): Promise<void> =>
    Promise.all(children.map((child) => stopProcess(child, NODE_STOP_GRACE_MS))).then(() => {});
  try {
    const security = clusterClientSecurity(dir);
    await Promise.all(
      specs.map((spec) => waitForServing(spec.address, NODE_START_TIMEOUT_MS, security)),
    );
    // The preload's first writes then find every node seeing the others up.
    await Promise.all(
      specs.map((spec) =>
        waitForPeersAnswered(spec.address, spec.id, NODE_START_TIMEOUT_MS, security),
      ),
    );
  } catch (error) {
    await stopNodes();
    throw new Error(
      `bench cluster did not start: ${(error as Error).message}; node logs are in ${dir}`,
    );
  }
  return {
    addresses: specs.map((spec) => spec.address),
    pids: children.map((child) => child.pid ?? 0),
    dir,
    stop: async () => {
      await stopNodes();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
