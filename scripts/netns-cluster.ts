// A local cluster whose nodes live in their own network namespaces, joined by a bridge, so that
// real packet-level faults (iptables DROP, tc netem) can be injected by fault-netem.ts, and so
// that a cluster can be grown as on several machines (up --join: one node, the others joined).
// Root. Run: sudo npx tsx scripts/netns-cluster.ts up [--nodes 3] [--join] | down
// (see docs/OPERATIONS.md)

import { LOCAL_HOSTS, certDirOf, ensureLocalCredentials } from "../cli/local-credentials.js";
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync } from "node:fs";
import path from "node:path";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import {
  clusterFilePath,
  readClusterFile,
  writeClusterFile,
  type ClusterFileNode,
} from "../cli/cluster-file.js";
import {
  ensureClusterKeyFile,
  waitForServing,
  clusterClientSecurity,
} from "../cli/local-cluster.js";
import {
  FAULT_INJECTION_FLAG,
  builtMainScript,
  isAlive,
  say,
  signal,
  waitForExit,
  type FaultClusterFile,
  type NetnsPlacement,
} from "./lib/fault-cluster.js";
import { commitWithCli, waitJoinsStaged, waitLayoutSettled } from "./lib/join-commit.js";
import {
  netnsLayout,
  requireNetnsSupport,
  runCommand,
  type NetnsLayout,
} from "./netns-commands.js";

/** Where netns clusters live unless told otherwise (relative to the cwd). */
const DEFAULT_NETNS_CLUSTER_DIR = path.join(".dkv", "netns-cluster");
/** Every node listens on this port: of its own address, or with --join of all its addresses. */
const NODE_PORT = 7000;

interface UpOptions {
  readonly clusterDir: string;
  readonly layout: NetnsLayout;
  readonly nodes: number;
  readonly storage: string;
  readonly partitions: number;
  readonly logLevel: string;
  /** Start node 1 alone and join the others to it (else every node starts with --peers). */
  readonly join: boolean;
  /** More flags for every `dkv serve`, e.g. --drop-grace-ms=500. */
  readonly serveArgs: readonly string[];
  /** --join: how long the joined layout may take to settle on every node. */
  readonly settleTimeoutMs: number;
}

/** How long a node may take to serve after it starts. */
const SERVING_TIMEOUT_MS = 20_000;

/** Checks that nothing runs from the directory or slot yet, then creates the network. */
function prepareNetwork(options: UpOptions): string {
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
  return clusterDir;
}

/**
 * Creates the bridge, one namespace and veth per node, starts the nodes, writes cluster.json
 * (again after each start, so that `down` finds every pid even when a later step fails).
 */
async function up(options: UpOptions): Promise<void> {
  const clusterDir = prepareNetwork(options);
  const { layout } = options;
  const ids = Array.from({ length: options.nodes }, (_, index) => `n${index + 1}`);
  const address = (index: number): string => `${layout.node(index + 1).ip}:${NODE_PORT}`;
  const peers = ids.map((id, index) => `${id}=${address(index)}`).join(",");
  const main = builtMainScript();
  const keyFile = ensureClusterKeyFile(clusterDir);
  // Each node's certificate names every node's address: clients check the host they dial.
  const certDir = path.resolve(certDirOf(clusterDir));
  const ips = ids.map((_, index) => layout.node(index + 1).ip);
  await ensureLocalCredentials(certDir, ids, [...LOCAL_HOSTS, ...ips]);
  const common = [
    `--storage=${options.storage}`,
    `--partitions=${options.partitions}`,
    `--log-level=${options.logLevel}`,
    `--cluster-key=${keyFile}`,
    `--tls-dir=${certDir}`,
    // A netns cluster is a fault-test cluster: fault-partition.ts and fault-link.ts drive it too.
    FAULT_INJECTION_FLAG,
    ...options.serveArgs,
  ];
  // --join: every node listens on all its addresses and advertises the one peers reach it at;
  // node 1 starts alone, the others learn the cluster from it.
  const placeArgs = (index: number): string[] =>
    options.join
      ? [`--listen=0.0.0.0:${NODE_PORT}`, `--advertise=${address(index)}`].concat(
          index === 0 ? [] : [`--join=${address(0)}`],
        )
      : [`--listen=${address(index)}`, `--peers=${peers}`];
  const placements: Record<string, NetnsPlacement> = {};
  const nodes: ClusterFileNode[] = [];
  const record = (): void => {
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
  };
  const start = (index: number): ClusterFileNode => {
    const id = ids[index] ?? `n${index + 1}`;
    const { namespace, veth, ip } = layout.node(index + 1);
    placements[id] = { namespace, veth, ip };
    const dataDir = path.join(clusterDir, id);
    const args = [main, "serve", `--id=${id}`, ...placeArgs(index), `--data-dir=${dataDir}`];
    args.push(...common);
    const logFile = path.join(dataDir, "node.log");
    const pid = startInNamespace(namespace, args, dataDir, logFile);
    say(`started ${id} in ${namespace} at ${address(index)} as pid ${pid}; log ${logFile}`);
    const node = { id, address: address(index), dataDir, pid, logFile, args };
    nodes.push(node);
    record();
    return node;
  };
  const serving = (started: readonly ClusterFileNode[]): Promise<unknown> =>
    Promise.all(
      started.map((node) =>
        waitForServing(node.address, SERVING_TIMEOUT_MS, clusterClientSecurity(clusterDir)),
      ),
    );
  if (!options.join) {
    await serving(ids.map((_, index) => start(index)));
  } else {
    await serving([start(0)]);
    const joiners = ids.slice(1).map((_, index) => start(index + 1));
    await serving(joiners);
    await joinAll(main, nodes, options.settleTimeoutMs, clusterDir);
  }
  say(`netns cluster of ${nodes.length} nodes is up; cluster file ${clusterFilePath(clusterDir)}`);
  say(`try: npx dkv status --cluster-dir ${options.clusterDir}`);
}

/** --join: commits the joins staged on node 1 and waits until every node has settled. */
async function joinAll(
  main: string,
  nodes: readonly ClusterFileNode[],
  settleTimeoutMs: number,
  clusterDir: string,
): Promise<void> {
  const [seed, ...joiners] = nodes;
  if (seed === undefined || joiners.length === 0) return;
  const security = clusterClientSecurity(clusterDir);
  await waitJoinsStaged(
    seed.address,
    joiners.map((node) => node.id),
    SERVING_TIMEOUT_MS,
    security,
  );
  say(`${seed.id} holds the staged joins of ${joiners.map((node) => node.id).join(", ")}`);
  await commitWithCli(main, seed.address, clusterDir);
  const addresses = nodes.map((node) => node.address);
  const version = await waitLayoutSettled(addresses, nodes.length, settleTimeoutMs, security);
  say(`every node holds layout version ${version}: ${nodes.length} valid members, no transition`);
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
          .option("log-level", { type: "string", default: "info" })
          .option("join", {
            type: "boolean",
            default: false,
            describe:
              "Start n1 alone, start the others with --join n1 and --advertise, commit the " +
              "joins with `dkv cluster commit`, and wait until every node holds the new layout",
          })
          .option("serve-arg", {
            type: "string",
            array: true,
            default: [] as string[],
            describe:
              "One more flag for every dkv serve (repeatable), e.g. --serve-arg=--drop-grace-ms=500",
          })
          .option("settle-timeout-ms", {
            type: "number",
            default: 120_000,
            describe: "--join: how long the joined layout may take to settle on every node",
          }),
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
          join: args.join,
          serveArgs: args["serve-arg"],
          settleTimeoutMs: args["settle-timeout-ms"],
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
