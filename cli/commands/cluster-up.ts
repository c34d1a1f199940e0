// `dkv cluster up`: starts a local cluster of `dkv serve` processes on 127.0.0.1, prints where
// they are, stays in the foreground, and stops every node gracefully on Ctrl-C.

import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import type { Argv, ArgumentsCamelCase } from "yargs";
import { isValidPartitionCount } from "../../node/core/ring.js";
import { STORAGE_ENGINES } from "../../node/storage/storage-engines.js";
import {
  localClusterSpecs,
  previousPorts,
  probeFreePorts,
  spawnNode,
  stopProcess,
  waitForServing,
  clusterClientSecurity,
} from "../local-cluster.js";
import {
  DEFAULT_CLUSTER_DIR,
  readClusterFile,
  removeClusterFile,
  writeClusterFile,
  type ClusterFile,
} from "../cluster-file.js";
import { UsageError } from "../usage.js";
import { takeSupervisorLock } from "../supervisor-lock.js";

interface ClusterUpArgs {
  nodes: number;
  "data-dir": string;
  storage: string;
  partitions: number;
  "log-level": string;
  "aae-interval-ms"?: number;
  "serve-flag": string[];
  insecure: boolean;
}

export const command = "up";
export const describe = "Start a local cluster on 127.0.0.1 and stay in the foreground";

export function builder(yargs: Argv): Argv<ClusterUpArgs> {
  return yargs
    .option("nodes", { type: "number", default: 3, describe: "How many nodes" })
    .option("data-dir", {
      type: "string",
      default: DEFAULT_CLUSTER_DIR,
      describe: "Where the nodes keep data and logs",
    })
    .option("storage", {
      type: "string",
      default: STORAGE_ENGINES[0],
      choices: [...STORAGE_ENGINES],
      describe: "Storage engine of every node",
    })
    .option("partitions", {
      type: "number",
      default: 64,
      describe: "Ring partitions Q (a power of two)",
    })
    .option("log-level", { type: "string", default: "info" })
    .option("aae-interval-ms", {
      type: "number",
      describe:
        "Anti-entropy compares every pair of replicas once per this interval (default 10 min)",
    })
    .option("insecure", {
      type: "boolean",
      default: false,
      describe:
        "Run the nodes --insecure: no TLS, no authentication, no cluster key (development only)",
    })
    .option("serve-flag", {
      type: "string",
      array: true,
      default: [],
      describe: "A further `dkv serve` flag for every node, e.g. --serve-flag=--no-read-repair",
    }) as unknown as Argv<ClusterUpArgs>;
}

export async function handler(args: ArgumentsCamelCase<ClusterUpArgs>): Promise<void> {
  if (!Number.isInteger(args.nodes) || args.nodes < 1 || args.nodes > 64) {
    throw new UsageError(`--nodes must be an integer from 1 to 64, got ${args.nodes}`);
  }
  if (!isValidPartitionCount(args.partitions)) {
    throw new UsageError(
      `--partitions must be a power of two from 1 to 4096, got ${args.partitions}`,
    );
  }
  const aaeIntervalMs = args["aae-interval-ms"];
  if (aaeIntervalMs !== undefined && !(Number.isFinite(aaeIntervalMs) && aaeIntervalMs > 0)) {
    throw new UsageError(`--aae-interval-ms must be a positive number, got ${aaeIntervalMs}`);
  }
  const badFlag = args["serve-flag"].find((flag) => !flag.startsWith("--"));
  if (badFlag !== undefined) {
    throw new UsageError(`--serve-flag takes a dkv serve flag starting with --, got ${badFlag}`);
  }
  const clusterDir = path.resolve(args["data-dir"]);
  mkdirSync(clusterDir, { recursive: true });
  const taken = await takeSupervisorLock(clusterDir);
  if (!taken.ok) {
    const pid = taken.runningPid === undefined ? "" : ` (pid ${taken.runningPid})`;
    throw new UsageError(`a cluster is already running from ${clusterDir}${pid}; stop it first`);
  }
  const lock = taken.lock;
  // Nodes a supervisor killed with SIGKILL left behind still hold their data dirs; two nodes
  // on one data dir would corrupt it, so they stop before new ones start.
  await stopLeftoverNodes(clusterDir);
  // One probe for both kinds of port, so no metrics port repeats a gRPC port. A restarted
  // cluster keeps its gRPC ports: the members' addresses are in the layout on disk.
  const kept = await previousPorts(clusterDir, args.nodes);
  const probed = (await probeFreePorts(args.nodes * 3)).filter((port) => !kept?.includes(port));
  const ports = [
    ...(kept ?? probed.slice(0, args.nodes)),
    ...probed.slice(args.nodes, args.nodes * 2),
  ];
  const specs = await localClusterSpecs({
    ports: ports.slice(0, args.nodes),
    metricsPorts: ports.slice(args.nodes),
    clusterDir,
    storage: args.storage,
    partitionCount: args.partitions,
    logLevel: args["log-level"],
    serveArgs: [
      ...(aaeIntervalMs === undefined ? [] : [`--aae-interval-ms=${aaeIntervalMs}`]),
      ...args["serve-flag"],
      ...(args.insecure && !args["serve-flag"].includes("--insecure") ? ["--insecure"] : []),
    ],
  });
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  for (const spec of specs) {
    const child = spawnNode(spec);
    children.set(spec.id, child);
    child.on("exit", (code, signal) => {
      if (!stopping)
        console.log(
          `node ${spec.id} (pid ${child.pid}) exited: ${signal ?? `code ${code}`}; see ${spec.logFile}`,
        );
    });
  }
  const stopAll = async (): Promise<void> => {
    stopping = true;
    await Promise.all([...children.values()].map((child) => stopProcess(child, 10_000)));
    await stopAdopted(clusterDir, new Set([...children.values()].map((child) => child.pid)));
    removeClusterFile(clusterDir);
    await lock.release();
  };
  try {
    await Promise.all(
      specs.map((spec) => waitForServing(spec.address, 20_000, clusterClientSecurity(clusterDir))),
    );
  } catch (error) {
    await stopAll();
    throw new Error(
      `cluster did not start: ${(error as Error).message}; logs are in ${clusterDir}`,
    );
  }
  const file: ClusterFile = {
    version: 1,
    supervisorPid: process.pid,
    storage: args.storage,
    partitionCount: args.partitions,
    nodes: specs.map((spec) => ({ ...spec, pid: children.get(spec.id)?.pid ?? 0 })),
  };
  writeClusterFile(clusterDir, file);
  printSummary(file, clusterDir);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      console.log("stopping every node ...");
      stopAll().then(resolve, resolve);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  console.log("cluster stopped");
}

/**
 * Stops nodes a fault script restarted (their pid in cluster.json is not one of our children):
 * SIGTERM, then SIGKILL after 10 s.
 */
async function stopAdopted(
  clusterDir: string,
  ours: ReadonlySet<number | undefined>,
): Promise<void> {
  const file = readClusterFile(clusterDir);
  const adopted = (file?.nodes ?? []).map((node) => node.pid).filter((pid) => !ours.has(pid));
  await stopPids(adopted, (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

/** SIGTERM to every pid that is `alive`, then SIGKILL to those still alive after 10 s. */
async function stopPids(pids: readonly number[], alive: (pid: number) => boolean): Promise<void> {
  const signal = (pid: number, name: NodeJS.Signals): void => {
    try {
      process.kill(pid, name);
    } catch {
      // gone since it was checked
    }
  };
  for (const pid of pids.filter(alive)) signal(pid, "SIGTERM");
  const giveUpAtMs = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < giveUpAtMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const pid of pids.filter(alive)) signal(pid, "SIGKILL");
}

/**
 * Stops the nodes of the last cluster.json that still run: the supervisor that listed them is
 * gone (this one holds the lock), so they are orphans. A pid counts only while it still runs
 * `dkv serve` on the listed data dir (/proc/<pid>/cmdline), so a reused pid or a zombie is left
 * alone; where there is no /proc nothing is stopped.
 */
async function stopLeftoverNodes(clusterDir: string): Promise<void> {
  const file = readClusterFile(clusterDir);
  const leftovers = (file?.nodes ?? []).filter((node) => servesDataDir(node.pid, node.dataDir));
  if (leftovers.length === 0) return;
  console.log(
    `stopping ${leftovers.length} node(s) left by the previous supervisor: pid ${leftovers.map((node) => node.pid).join(", ")}`,
  );
  const dataDirOf = new Map(leftovers.map((node) => [node.pid, node.dataDir]));
  await stopPids([...dataDirOf.keys()], (pid) => servesDataDir(pid, dataDirOf.get(pid) ?? ""));
  removeClusterFile(clusterDir);
}

function servesDataDir(pid: number, dataDir: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.includes("serve") && argv.some((arg) => arg.includes(dataDir));
  } catch {
    return false;
  }
}

function printSummary(file: ClusterFile, clusterDir: string): void {
  console.log(
    `dkv cluster of ${file.nodes.length} nodes is up (storage: ${file.storage}, partitions: ${file.partitionCount})`,
  );
  for (const node of file.nodes) {
    const metrics = node.metricsAddress === undefined ? "" : `  metrics ${node.metricsAddress}`;
    console.log(`  ${node.id}  ${node.address}${metrics}  pid ${node.pid}  data ${node.dataDir}`);
  }
  console.log(`cluster file: ${path.join(clusterDir, "cluster.json")}`);
  const insecure = file.nodes.some((node) => node.args.includes("--insecure"));
  console.log(
    insecure
      ? "INSECURE: plaintext, no authentication (--insecure); development only"
      : `security: TLS, every call checked; certificates in ${path.join(clusterDir, "certs")} ` +
          "(the CLI uses the admin one)",
  );
  console.log("try: npx dkv put greeting hello && npx dkv get greeting && npx dkv status");
  console.log("press Ctrl-C to stop every node");
}
