// A local cluster whose nodes live in their own network namespaces, joined by a bridge, so that
// real packet-level faults (iptables DROP, tc netem) can be injected by fault-netem.ts. Root.
// Run: sudo npx tsx scripts/netns-cluster.ts up [--nodes 3] | down   (see docs/OPERATIONS.md)

import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync } from "node:fs";
import path from "node:path";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { clusterFilePath, readClusterFile, writeClusterFile } from "../cli/cluster-file.js";
import { ensureClusterKeyFile, waitForServing } from "../cli/local-cluster.js";
import {
  builtMainScript,
  isAlive,
  say,
  signal,
  waitForExit,
  type FaultClusterFile,
  type NetnsPlacement,
} from "./lib/fault-cluster.js";
import {
  netnsLayout,
  requireNetnsSupport,
  runCommand,
  type NetnsLayout,
} from "./netns-commands.js";

/** Where netns clusters live unless told otherwise (relative to the cwd). */
const DEFAULT_NETNS_CLUSTER_DIR = path.join(".dkv", "netns-cluster");
/** Every node listens on this port of its own address. */
const NODE_PORT = 7000;

interface UpOptions {
  readonly clusterDir: string;
  readonly layout: NetnsLayout;
  readonly nodes: number;
  readonly storage: string;
  readonly partitions: number;
  readonly logLevel: string;
}

/** Creates the bridge, one namespace and veth per node, starts the nodes, writes cluster.json. */
async function up(options: UpOptions): Promise<void> {
  requireNetnsSupport();
  const clusterDir = path.resolve(options.clusterDir);
  const existing = readClusterFile(clusterDir);
  if (existing !== undefined && existing.nodes.some((node) => isAlive(node.pid))) {
    throw new Error(`a netns cluster is already running from ${clusterDir}; run down first`);
  }
  mkdirSync(clusterDir, { recursive: true });
  const { layout } = options;
  if (runCommand("ip", ["link", "show", layout.bridge], { allowFailure: true, quiet: true }).ok) {
    throw new Error(
      `slot ${layout.slot} is in use (bridge ${layout.bridge} exists): pick another --slot, ` +
        "or run down with the cluster dir that created it",
    );
  }
  try {
    createNetwork(layout, options.nodes);
  } catch (error) {
    say(
      `network setup failed; \`netns-cluster.ts down --slot ${layout.slot}\` removes what was created`,
    );
    throw error;
  }
  const ids = Array.from({ length: options.nodes }, (_, index) => `n${index + 1}`);
  const address = (index: number): string => `${layout.node(index + 1).ip}:${NODE_PORT}`;
  const peers = ids.map((id, index) => `${id}=${address(index)}`).join(",");
  const main = builtMainScript();
  const keyFile = ensureClusterKeyFile(clusterDir);
  const placements: Record<string, NetnsPlacement> = {};
  const nodes = ids.map((id, index) => {
    const { namespace, veth, ip } = layout.node(index + 1);
    placements[id] = { namespace, veth, ip };
    const dataDir = path.join(clusterDir, id);
    const args = [
      main,
      "serve",
      `--id=${id}`,
      `--listen=${address(index)}`,
      `--peers=${peers}`,
      `--data-dir=${dataDir}`,
      `--storage=${options.storage}`,
      `--partitions=${options.partitions}`,
      `--log-level=${options.logLevel}`,
      `--cluster-key=${keyFile}`,
    ];
    const logFile = path.join(dataDir, "node.log");
    const pid = startInNamespace(namespace, args, dataDir, logFile);
    say(`started ${id} in ${namespace} at ${address(index)} as pid ${pid}; log ${logFile}`);
    return { id, address: address(index), dataDir, pid, logFile, args };
  });
  const file: FaultClusterFile = {
    version: 1,
    supervisorPid: process.pid,
    storage: options.storage,
    partitionCount: options.partitions,
    nodes,
    netns: placements,
    netnsBridge: layout.bridge,
  };
  writeClusterFile(clusterDir, file);
  await Promise.all(nodes.map((node) => waitForServing(node.address, 20_000)));
  say(`netns cluster of ${nodes.length} nodes is up; cluster file ${clusterFilePath(clusterDir)}`);
  say(`try: npx dkv status --cluster-dir ${options.clusterDir}`);
}

function createNetwork(layout: NetnsLayout, count: number): void {
  const { bridge } = layout;
  runCommand("ip", ["link", "add", bridge, "type", "bridge"]);
  runCommand("ip", ["link", "set", bridge, "up"]);
  runCommand("ip", ["addr", "add", `${layout.bridgeIp}/24`, "dev", bridge]);
  for (let index = 1; index <= count; index++) {
    const { namespace, veth, bridgeSide, ip } = layout.node(index);
    runCommand("ip", ["netns", "add", namespace]);
    runCommand("ip", ["link", "add", veth, "type", "veth", "peer", "name", bridgeSide]);
    runCommand("ip", ["link", "set", veth, "netns", namespace]);
    runCommand("ip", ["link", "set", bridgeSide, "master", bridge, "up"]);
    runCommand("ip", ["-n", namespace, "addr", "add", `${ip}/24`, "dev", veth]);
    runCommand("ip", ["-n", namespace, "link", "set", veth, "up"]);
    runCommand("ip", ["-n", namespace, "link", "set", "lo", "up"]);
  }
}

/** Starts `node ARGS` inside a namespace, detached, output appended to logFile; returns its pid. */
function startInNamespace(
  namespace: string,
  args: readonly string[],
  dataDir: string,
  logFile: string,
): number {
  mkdirSync(dataDir, { recursive: true });
  const log = openSync(logFile, "a");
  try {
    // `ip netns exec` execs the command after entering the namespace: the pid is the node's.
    const command = ["netns", "exec", namespace, process.execPath, ...args];
    const child = spawn("ip", command, { stdio: ["ignore", log, log], detached: true });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start a node in ${namespace}`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** Stops the nodes by pid, then removes namespaces, veths and the bridge. Idempotent. */
async function down(clusterDir: string, layout: NetnsLayout): Promise<void> {
  requireNetnsSupport();
  const file = readClusterFile(path.resolve(clusterDir)) as FaultClusterFile | undefined;
  for (const node of file?.nodes ?? []) {
    signal(node.pid, "SIGCONT"); // a paused node cannot shut down
    if (signal(node.pid, "SIGTERM")) say(`SIGTERM ${node.id} (pid ${node.pid})`);
  }
  for (const node of file?.nodes ?? []) {
    if (await waitForExit(node.pid, 10_000)) continue;
    signal(node.pid, "SIGKILL");
    say(`SIGKILL ${node.id} (pid ${node.pid}): it did not stop within 10 s`);
    await waitForExit(node.pid, 5000);
  }
  // Without a cluster file, clean up the layout of --slot (a setup that failed half-way).
  const namespaces = new Set(Object.values(file?.netns ?? {}).map((place) => place.namespace));
  const listed = runCommand("ip", ["netns", "list"], { quiet: true }).output;
  const prefix = layout.node(1).namespace.replace(/1$/, "");
  for (const match of listed.matchAll(/^(\S+)/gm)) {
    const name = match[1] ?? "";
    if (file === undefined && name.startsWith(prefix) && /\d+$/.test(name)) namespaces.add(name);
  }
  // Deleting a namespace deletes the veth inside it, and with it the bridge-side peer.
  for (const namespace of namespaces) {
    runCommand("ip", ["netns", "del", namespace], { allowFailure: true });
  }
  const bridge = file?.netnsBridge ?? layout.bridge;
  runCommand("ip", ["link", "del", bridge], { allowFailure: true });
  rmSync(clusterFilePath(path.resolve(clusterDir)), { force: true });
  say("netns cluster is down");
}

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .usage(
      "$0 up|down [options]\n\nA dkv cluster inside network namespaces (root): a bridge " +
        `dkvbr0 at 10.77.0.254/24, node i in namespace dkv-n<i> at 10.77.0.<i>:${NODE_PORT} ` +
        "(--slot k: dkvbr<k>, dkv<k>-n<i>, 10.77.<k>.x). Faults: scripts/fault-netem.ts; the " +
        "process faults (fault-kill, fault-pause) work on it too.",
    )
    .option("cluster-dir", {
      type: "string",
      default: DEFAULT_NETNS_CLUSTER_DIR,
      describe: "Where the nodes keep data, logs and cluster.json",
    })
    .option("slot", {
      type: "number",
      default: 0,
      describe: "Network slot 0-250, so that several netns clusters can coexist",
    })
    .command(
      "up",
      "Create the network and start the nodes",
      (command) =>
        command
          .option("nodes", { type: "number", default: 3, describe: "How many nodes (1-20)" })
          .option("storage", {
            type: "string",
            default: "log",
            describe: "Storage engine: log, lmdb or memory",
          })
          .option("partitions", { type: "number", default: 64, describe: "Ring partitions" })
          .option("log-level", { type: "string", default: "info" }),
      async (args) => {
        if (!Number.isInteger(args.nodes) || args.nodes < 1 || args.nodes > 20) {
          throw new Error(`--nodes must be an integer from 1 to 20, got ${args.nodes}`);
        }
        await up({
          clusterDir: args["cluster-dir"],
          layout: netnsLayout(args.slot),
          nodes: args.nodes,
          storage: args.storage,
          partitions: args.partitions,
          logLevel: args["log-level"],
        });
      },
    )
    .command(
      "down",
      "Stop the nodes and remove the network",
      (command) => command,
      async (args) => {
        await down(args["cluster-dir"], netnsLayout(args.slot));
      },
    )
    .demandCommand(1, "name a command: up or down")
    .strict()
    .help()
    .fail((message, error) => {
      // One plain line instead of yargs' usage dump; the usage is one --help away.
      throw error ?? new Error(`${message} (see --help)`);
    })
    .parseAsync();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
