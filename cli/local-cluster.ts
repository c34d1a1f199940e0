// Starting and stopping `dkv serve` processes on 127.0.0.1: used by `dkv cluster up`, by the
// integration tests and by the fault scripts. Ports are probed free (bound to port 0, read,
// released) and kept for the life of the cluster so that a restarted node has its old address.

import { METADATA_FILE } from "../node/membership/metadata-store.js";
import { decodeMetadata } from "../node/core/layout-codec.js";
import { localClientSecurity, type ClientSecurity } from "../node/security/client-security.js";
import { certDirOf, ensureLocalCredentials } from "./local-credentials.js";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, closeSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HealthClient } from "./health-client.js";
import { DkvClient } from "../coordinator/client.js";
import { NODE_PROCESS_FLAGS } from "./node-flags.js";

/** The compiled entry point of the dkv command. */
export function dkvMainScript(): string {
  return fileURLToPath(new URL("./main.js", import.meta.url)).replace(/\.ts$/, ".js");
}

/** Free TCP ports on 127.0.0.1, distinct from each other. */
export async function probeFreePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let index = 0; index < count; index++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** How to start one node of a local cluster. */
export interface LocalNodeSpec {
  readonly id: string;
  readonly address: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly args: readonly string[];
  /** host:port of the node's Prometheus endpoint, when it has one. */
  readonly metricsAddress?: string;
}

/**
 * Builds the specs of an n-node cluster under clusterDir, making its cluster key and
 * certificates (`<clusterDir>/certs`) unless `serveArgs` has --insecure.
 */
export async function localClusterSpecs(options: {
  readonly ports: readonly number[];
  readonly clusterDir: string;
  readonly storage: string;
  readonly partitionCount: number;
  readonly logLevel: string;
  readonly mainScript?: string;
  /** Further `dkv serve` flags given to every node, e.g. ["--no-read-repair"]. */
  readonly serveArgs?: readonly string[];
  /** A metrics port per node (`--metrics-listen`), in node order; none when absent. */
  readonly metricsPorts?: readonly number[];
}): Promise<LocalNodeSpec[]> {
  const insecure = options.serveArgs?.includes("--insecure") ?? false;
  const ids = options.ports.map((_, index) => `n${index + 1}`);
  const keyArgs = insecure ? [] : await secureArgs(options.clusterDir, ids);
  const addresses = options.ports.map((port) => `127.0.0.1:${port}`);
  const peers = ids.map((id, index) => `${id}=${addresses[index]}`).join(",");
  const main = options.mainScript ?? dkvMainScript();
  return ids.map((id, index) => {
    const dataDir = path.resolve(options.clusterDir, id);
    const address = addresses[index] ?? "";
    const metricsPort = options.metricsPorts?.[index];
    const metricsAddress = metricsPort === undefined ? undefined : `127.0.0.1:${metricsPort}`;
    return {
      id,
      address,
      dataDir,
      logFile: path.join(dataDir, "node.log"),
      ...(metricsAddress === undefined ? {} : { metricsAddress }),
      args: [
        main,
        "serve",
        `--id=${id}`,
        `--listen=${address}`,
        `--peers=${peers}`,
        `--data-dir=${dataDir}`,
        `--storage=${options.storage}`,
        `--partitions=${options.partitionCount}`,
        `--log-level=${options.logLevel}`,
        ...keyArgs,
        ...(metricsAddress === undefined ? [] : [`--metrics-listen=${metricsAddress}`]),
        ...(options.serveArgs ?? []),
      ],
    };
  });
}

/**
 * The flags of a secure local node: the cluster key and the certificates (made when missing)
 * for `ids`. Every node of the cluster gets the same flags; each picks its own certificate.
 */
export async function secureArgs(clusterDir: string, ids: readonly string[]): Promise<string[]> {
  const certDir = path.resolve(certDirOf(clusterDir));
  await ensureLocalCredentials(certDir, ids);
  return [`--cluster-key=${ensureClusterKeyFile(clusterDir)}`, `--tls-dir=${certDir}`];
}

/**
 * The cluster's key file (`cluster.key` in the cluster dir), made on first use: 32 random bytes
 * in hex, readable by its owner only. Every node of the cluster seals client contexts with it.
 */
export function ensureClusterKeyFile(clusterDir: string): string {
  const file = path.resolve(clusterDir, "cluster.key");
  if (!existsSync(file)) {
    mkdirSync(clusterDir, { recursive: true });
    const text = `# dkv cluster key: seals client contexts. Keep it secret; see docs/OPERATIONS.md.\n${randomBytes(32).toString("hex")}\n`;
    writeFileSync(file, text, { mode: 0o600, flag: "wx" });
  }
  return file;
}

/** Starts one node process with its output appended to its log file. */
export function spawnNode(spec: LocalNodeSpec): ChildProcess {
  mkdirSync(spec.dataDir, { recursive: true });
  const log = openSync(spec.logFile, "a");
  try {
    return spawn(process.execPath, [...NODE_PROCESS_FLAGS, ...spec.args], {
      stdio: ["ignore", log, log],
    });
  } finally {
    closeSync(log);
  }
}

/** Resolves once the node's health service says SERVING; rejects after timeoutMs. */
export async function waitForServing(
  address: string,
  timeoutMs: number,
  security: ClientSecurity,
): Promise<void> {
  const client = new HealthClient(address, security);
  const giveUpAtMs = Date.now() + timeoutMs;
  try {
    for (;;) {
      const status = await client.check(Math.max(100, Math.min(1000, giveUpAtMs - Date.now())));
      if (status === "SERVING") return;
      if (Date.now() >= giveUpAtMs) {
        throw new Error(`node at ${address} not serving after ${timeoutMs} ms (last: ${status})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.close();
  }
}

/**
 * Resolves once the node `id` at `address` has had an answered ping (a round trip) from every
 * peer in its status: SERVING says the node listens, this says it sees the others up, so a
 * first write does not meet a failure detector that has not heard from its peers yet.
 */
export async function waitForPeersAnswered(
  address: string,
  id: string,
  timeoutMs: number,
  security: ClientSecurity,
): Promise<void> {
  const client = new DkvClient([address], { security });
  try {
    const giveUpAtMs = Date.now() + timeoutMs;
    for (;;) {
      const status = await client.status({ timeoutMs: 2000 }).catch(() => undefined);
      const peers = status?.members.filter((member) => member.node_id !== id) ?? [];
      if (status !== undefined && peers.every((peer) => peer.up && peer.round_trip_ms > 0)) {
        return;
      }
      if (Date.now() > giveUpAtMs) {
        throw new Error(`${id} did not hear from every peer within ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.close();
  }
}

/** Sends SIGTERM, then SIGKILL after graceMs; resolves when the process has exited. */
export async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** How clients reach the local cluster in `clusterDir` (TLS as its admin, or plaintext). */
export function clusterClientSecurity(clusterDir: string): ClientSecurity {
  return localClientSecurity(certDirOf(clusterDir));
}

/**
 * Issues certificates for new nodes `ids` of a local cluster whose nodes run with `args`: into
 * their --tls-dir, from its CA. Nothing to do for a cluster started --insecure.
 */
export async function ensureCredentialsFor(
  args: readonly string[],
  ids: readonly string[],
): Promise<void> {
  const dir = args.find((arg) => arg.startsWith("--tls-dir="))?.slice("--tls-dir=".length);
  if (dir !== undefined) await ensureLocalCredentials(dir, ids);
}

/**
 * The gRPC ports nodes n1..n`count` of a local cluster had in its last run, read from their
 * cluster metadata (`<clusterDir>/nK/cluster-metadata.json`), when every one is still free. A
 * node's address is in the layout every member holds, so a restarted local cluster must come
 * back at the same addresses or its nodes would not find each other. Undefined for a new
 * cluster, or when a port was taken meanwhile.
 */
export async function previousPorts(
  clusterDir: string,
  count: number,
): Promise<number[] | undefined> {
  const ports: number[] = [];
  for (let index = 1; index <= count; index++) {
    const file = path.join(clusterDir, `n${index}`, METADATA_FILE);
    let address: string | undefined;
    try {
      const { layout } = decodeMetadata(readFileSync(file));
      address = layout.members.find((member) => member.node === `n${index}`)?.address;
    } catch {
      return undefined;
    }
    const port = Number(address?.slice(address.lastIndexOf(":") + 1));
    if (!Number.isInteger(port) || port <= 0 || !(await isFree(port))) return undefined;
    ports.push(port);
  }
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
