// What every fault script shares: reading the cluster.json of `dkv cluster up` (or of
// netns-cluster.ts), timestamped output, process signals by pid, restarting a node with its
// original argv and log file, and an Admin client for node-level partitions.

import { scriptSecurity, useClusterSecurity } from "./script-security.js";
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import {
  DEFAULT_CLUSTER_DIR,
  readClusterFile,
  writeClusterFile,
  type ClusterFile,
  type ClusterFileNode,
} from "../../cli/cluster-file.js";
import { waitForServing, clusterClientSecurity } from "../../cli/local-cluster.js";
import { loadProto } from "../../proto/load-proto.js";
import type { AdminClient } from "../../proto/generated/dkv/v1/Admin.js";

/** Where a node of a netns cluster lives: its namespace, its interface there, its address. */
export interface NetnsPlacement {
  readonly namespace: string;
  readonly veth: string;
  readonly ip: string;
}

/**
 * A cluster file, possibly written by netns-cluster.ts, which adds each node's network namespace
 * so that a restarted node lands in it again and fault-netem.ts knows where to put its rules.
 */
export interface FaultClusterFile extends ClusterFile {
  readonly netns?: Readonly<Record<string, NetnsPlacement>>;
  /** The bridge of a netns cluster, removed by `netns-cluster.ts down`. */
  readonly netnsBridge?: string;
}

/** The --cluster-dir option every fault script takes. */
export const CLUSTER_DIR_OPTION = {
  type: "string",
  default: DEFAULT_CLUSTER_DIR,
  describe: "Directory of the cluster (holds cluster.json), as given to `dkv cluster up`",
} as const;

/**
 * The compiled dkv entry point (dist/cli/main.js) of this checkout, found from this file whether
 * it runs as TypeScript under tsx or compiled under dist/.
 */
export function builtMainScript(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("cannot find the project root (package.json)");
    dir = parent;
  }
  const main = path.join(dir, "dist", "cli", "main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build`);
  return main;
}

/** Prints one line prefixed with the wall-clock time, so runs can be lined up with node logs. */
export function say(message: string): void {
  console.log(`${new Date().toISOString()}  ${message}`);
}

/** Resolves after ms. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The cluster file of clusterDir; throws a message saying how to start one when missing. */
export function loadCluster(clusterDir: string): FaultClusterFile {
  const file = readClusterFile(path.resolve(clusterDir));
  useClusterSecurity(clusterDir);
  if (file === undefined) {
    throw new Error(
      `no cluster.json in ${clusterDir}: start a cluster with \`dkv cluster up --data-dir ${clusterDir}\``,
    );
  }
  return file as FaultClusterFile;
}

/** One node of the cluster by id; throws naming the members when unknown. */
export function clusterNode(file: ClusterFile, id: string): ClusterFileNode {
  const node = file.nodes.find((candidate) => candidate.id === id);
  if (node === undefined) {
    const ids = file.nodes.map((candidate) => candidate.id).join(", ");
    throw new Error(`no node ${id} in the cluster: members are ${ids}`);
  }
  return node;
}

/** True while the process exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

/** Sends a signal by pid; false when the process is already gone. */
export function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/** Resolves true once the process is gone, false after timeoutMs. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const giveUpAtMs = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= giveUpAtMs) return false;
    await sleep(20);
  }
  return true;
}

/**
 * Starts a node again with the argv that started it (inside its network namespace for a netns
 * cluster), appending to its log file, detached so that it outlives this script. Waits until it
 * serves, records the new pid in cluster.json and returns it.
 */
export async function restartNode(clusterDir: string, id: string): Promise<number> {
  const file = loadCluster(clusterDir);
  const node = clusterNode(file, id);
  if (isAlive(node.pid)) throw new Error(`${id} is still running as pid ${node.pid}`);
  const namespace = file.netns?.[id]?.namespace;
  const [command, args] =
    namespace === undefined
      ? [process.execPath, [...node.args]]
      : ["ip", ["netns", "exec", namespace, process.execPath, ...node.args]];
  const log = openSync(node.logFile, "a");
  let pid: number | undefined;
  try {
    const child = spawn(command, args, { stdio: ["ignore", log, log], detached: true });
    pid = child.pid;
    child.unref();
  } finally {
    closeSync(log);
  }
  if (pid === undefined) throw new Error(`could not start ${id}: ${command} did not spawn`);
  // Re-read before writing: another script may have restarted a different node meanwhile.
  const latest = loadCluster(clusterDir);
  const nodes = latest.nodes.map((entry) => (entry.id === id ? { ...entry, pid } : entry));
  writeClusterFile(path.resolve(clusterDir), { ...latest, nodes });
  await waitForServing(node.address, 20_000, clusterClientSecurity(clusterDir));
  return pid;
}

/**
 * The `dkv serve` flag without which a node refuses SetDroppedPeers and SetLinkFaults: every
 * cluster a fault script or the nemesis drives is started with it.
 */
export const FAULT_INJECTION_FLAG = "--enable-fault-injection";

/** A failed fault-injection call as an Error; a node started without the flag says how to fix it. */
function faultCallError(address: string, error: grpc.ServiceError): Error {
  const message = `${address}: ${error.details || error.message}`;
  if (error.code !== grpc.status.FAILED_PRECONDITION) return new Error(message);
  return new Error(
    `${message}; start the cluster with \`dkv cluster up --serve-flag=${FAULT_INJECTION_FLAG}\``,
  );
}

/** An Admin client for one node (Status, SetDroppedPeers); close it when done. */
export function adminClient(address: string): AdminClient {
  const { grpcObject } = loadProto();
  const secured = scriptSecurity().channel(address);
  return new grpcObject.dkv.v1.Admin(address, secured.credentials, secured.options);
}

/** Admin.SetDroppedPeers on one node, with a deadline; resolves with the peers now dropped. */
export function setDroppedPeers(
  address: string,
  peers: readonly string[],
  timeoutMs = 5000,
): Promise<string[]> {
  const client = adminClient(address);
  return new Promise<string[]>((resolve, reject) => {
    client.SetDroppedPeers(
      { peers: [...peers] },
      { deadline: Date.now() + timeoutMs },
      (error, reply) => {
        client.close();
        if (error) reject(faultCallError(address, error));
        else resolve(reply?.peers ?? []);
      },
    );
  });
}

/** One link's fault, as Admin.SetLinkFaults takes it. */
export interface LinkFaultSpec {
  readonly peer: string;
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly loss: number;
}

/**
 * Admin.SetLinkFaults on one node (replaces its link faults; [] heals), with a deadline;
 * resolves with the faults now in force there.
 */
export function setLinkFaults(
  address: string,
  faults: readonly LinkFaultSpec[],
  timeoutMs = 5000,
): Promise<LinkFaultSpec[]> {
  const client = adminClient(address);
  const wire = faults.map((fault) => ({
    peer: fault.peer,
    delay_ms: fault.delayMs,
    jitter_ms: fault.jitterMs,
    loss: fault.loss,
  }));
  return new Promise((resolve, reject) => {
    client.SetLinkFaults({ faults: wire }, { deadline: Date.now() + timeoutMs }, (error, reply) => {
      client.close();
      if (error) return reject(faultCallError(address, error));
      resolve(
        (reply?.faults ?? []).map((fault) => ({
          peer: fault.peer,
          delayMs: fault.delay_ms,
          jitterMs: fault.jitter_ms,
          loss: fault.loss,
        })),
      );
    });
  });
}

/**
 * Parses `--groups n1,n2/n3,n4`: each group is cut off from every other one. Nodes named in no
 * group form one more group, so `--groups n1` isolates n1 from the rest.
 */
export function parseGroups(text: string, members: readonly string[]): string[][] {
  const groups = text
    .split("/")
    .map((group) =>
      group
        .split(",")
        .map((id) => id.trim())
        .filter((id) => id !== ""),
    )
    .filter((group) => group.length > 0);
  const named = groups.flat();
  for (const id of named) {
    if (!members.includes(id)) {
      throw new Error(`--groups names ${id}, which is not a member (${members.join(", ")})`);
    }
  }
  if (new Set(named).size !== named.length) throw new Error("--groups names a node twice");
  const rest = members.filter((id) => !named.includes(id));
  if (rest.length > 0) groups.push(rest);
  if (groups.length < 2) throw new Error("--groups must describe at least two groups");
  return groups;
}

/** For each node, the nodes in other groups (what it must stop talking to). */
export function grudges(groups: readonly string[][]): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const group of groups) {
    const others = groups.filter((other) => other !== group).flat();
    for (const id of group) result.set(id, others);
  }
  return result;
}

/**
 * Runs `heal` on every node of the cluster at once and says how many it reached: a node that
 * fails is named, the others still heal. `state` ends the line: "healed: 2 of 3 nodes <state>".
 */
export async function healEveryNode(
  file: FaultClusterFile,
  heal: (node: ClusterFileNode) => Promise<unknown>,
  state: string,
): Promise<void> {
  const results = await Promise.allSettled(file.nodes.map(heal));
  results.forEach((result, index) => {
    if (result.status === "rejected") {
      say(`${file.nodes[index]?.id ?? "?"}: heal failed: ${String(result.reason)}`);
    }
  });
  const healed = results.filter((result) => result.status === "fulfilled").length;
  say(`healed: ${healed} of ${file.nodes.length} nodes ${state}`);
}

/** On Ctrl-C, runs `heal` and exits 130 (1 if healing failed). */
export function healOnInterrupt(heal: () => Promise<void>): void {
  process.once("SIGINT", () => {
    heal().then(
      () => process.exit(130),
      () => process.exit(1),
    );
  });
}
