// `dkv serve`: runs one node in the foreground until SIGINT/SIGTERM, then shuts down gracefully.

import { mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { Argv, ArgumentsCamelCase } from "yargs";
import { isValidNodeId, type NodeId } from "../../node/core/node-id.js";
import { isValidPartitionCount } from "../../node/core/ring.js";
import { createLogger } from "../../node/logger.js";
import { missingNodeFlags } from "../node-flags.js";
import { SYSTEM_CLOCK } from "../../node/clock.js";
import { limitsWith } from "../../node/core/limits.js";
import { REPLICA_LINGER_MS_MAX } from "../../node/replica-stream-client.js";
import { STORAGE_ENGINES, type StorageEngineName } from "../../node/storage/storage-engines.js";
import type { Member } from "../../node/cluster-view.js";
import {
  UsageError,
  isHostPort,
  isLoopbackHostPort,
  nonNegativeArg,
  positiveIntegerArg,
} from "../usage.js";
import { loadContextKeyFile } from "../../node/context-key-file.js";
import type { ContextKeys } from "../../node/core/key-context.js";
import {
  failureDetectorOptions,
  type FailureDetectorOptions,
} from "../../node/membership/failure-detector-options.js";

interface ServeArgs {
  id: string;
  listen: string;
  peers: string | undefined;
  join: string | undefined;
  advertise: string | undefined;
  "drop-grace-ms": number;
  "replica-linger-ms": number;
  "data-dir": string;
  storage: string;
  partitions: number;
  "log-level": string;
  "read-repair": boolean;
  "aae-interval-ms": number;
  "tombstone-grace-ms": number;
  "hinted-handoff": boolean;
  "anti-entropy": boolean;
  "handoff-bytes-per-second": number;
  "transfer-bytes-per-second": number;
  "transfers-max": number;
  "heartbeat-interval-ms": number;
  "phi-threshold": number;
  "metrics-listen": string | undefined;
  "metrics-public": boolean;
  "connections-per-address-max": number | undefined;
  "cluster-key": string | undefined;
  "tls-dir": string | undefined;
  insecure: boolean;
  "enable-fault-injection": boolean;
  limit: string[] | undefined;
}

export const command = "serve";
export const describe = "Run one dkv node in the foreground";

export function builder(yargs: Argv): Argv<ServeArgs> {
  return yargs
    .option("id", { type: "string", demandOption: true, describe: "This node's id, e.g. n1" })
    .option("listen", {
      type: "string",
      default: "127.0.0.1:0",
      describe: "host:port to listen on (port 0 picks a free one; single-node use only)",
    })
    .option("peers", {
      type: "string",
      describe: "Every member as id=host:port, comma-separated, this node included",
    })
    .option("join", {
      type: "string",
      describe:
        "host:port of a member of a running cluster: a new node learns the cluster from it and " +
        "asks it to stage its join (then run `dkv cluster plan` and `dkv cluster commit`)",
    })
    .option("advertise", {
      type: "string",
      describe:
        "host:port other nodes and clients reach this node at (default: the --listen address)",
    })
    .option("drop-grace-ms", {
      type: "number",
      default: 60_000,
      describe:
        "After a membership change completes, how long a node keeps the partitions it handed over",
    })
    .option("replica-linger-ms", {
      type: "number",
      default: 0,
      describe:
        `How long a call to another replica waits for more to share its message ` +
        `(0-${REPLICA_LINGER_MS_MAX}): fewer wake-ups under light load, that much more latency`,
    })
    .option("data-dir", {
      type: "string",
      default: ".dkv/node",
      describe: "Where this node keeps its data",
    })
    .option("storage", {
      type: "string",
      default: STORAGE_ENGINES[0],
      choices: [...STORAGE_ENGINES],
      describe:
        "Storage engine: log (Bitcask-style, durable), lmdb, or memory (nothing survives a restart)",
    })
    .option("partitions", {
      type: "number",
      default: 64,
      describe: "Ring partitions Q (a power of two, same on every node)",
    })
    .option("read-repair", {
      type: "boolean",
      default: true,
      describe: "Repair stale replicas after gets (--no-read-repair to test anti-entropy alone)",
    })
    .option("anti-entropy", {
      type: "boolean",
      default: true,
      describe:
        "Merkle-tree anti-entropy and tombstone reaping (--no-anti-entropy: off; deleted keys then keep their tombstones)",
    })
    .option("hinted-handoff", {
      type: "boolean",
      default: true,
      describe: "Sloppy quorum with durable hints for down primaries (--no-hinted-handoff: off)",
    })
    .option("handoff-bytes-per-second", {
      type: "number",
      default: 1024 * 1024,
      describe: "Throttle of hint delivery per primary",
    })
    .option("transfer-bytes-per-second", {
      type: "number",
      default: 1024 * 1024,
      describe:
        "Throttle of ownership transfer: bytes per second this node sends over all its partition streams, and receives (0: unthrottled)",
    })
    .option("transfers-max", {
      type: "number",
      default: 2,
      describe:
        "Partitions a node streams at once in a membership change, sending and receiving each",
    })
    .option("aae-interval-ms", {
      type: "number",
      default: 600_000,
      describe: "Anti-entropy compares every pair of replicas once per this many ms",
    })
    .option("tombstone-grace-ms", {
      type: "number",
      default: 3_000,
      describe: "A tombstone is reaped once every primary holds it and it is this old",
    })
    .option("heartbeat-interval-ms", {
      type: "number",
      default: 500,
      describe: "How often each peer is pinged by the failure detector",
    })
    .option("phi-threshold", {
      type: "number",
      default: 8,
      describe: "Phi-accrual suspicion at which a peer is marked down",
    })
    .option("metrics-listen", {
      type: "string",
      describe:
        "host:port for Prometheus metrics at GET /metrics, plain HTTP (port 0 picks a free " +
        "one); off unless given; a loopback address unless --metrics-public",
    })
    .option("metrics-public", {
      type: "boolean",
      default: false,
      describe:
        "Let --metrics-listen take a non-loopback address: the metrics are plain HTTP, " +
        "unauthenticated (firewall the port to the Prometheus hosts)",
    })
    .option("connections-per-address-max", {
      type: "number",
      describe:
        "Open connections to the gRPC port from one IP address (default 1024); more are closed " +
        "at once. Raise it for clients behind one NAT or proxy address",
    })
    .option("cluster-key", {
      type: "string",
      describe:
        "File of the cluster's context keys (hex or base64, one per line, mode 600; the first " +
        "seals, all open); `dkv cluster up` makes one. SIGHUP reloads it",
    })
    .option("tls-dir", {
      type: "string",
      describe:
        "Credentials directory with ca.crt, node-<id>.crt and node-<id>.key (`dkv cert`): TLS " +
        "on every connection, every call checked. SIGHUP or a change on disk reloads them",
    })
    .option("insecure", {
      type: "boolean",
      default: false,
      describe:
        "Run without a cluster key and without TLS: plaintext, unchecked calls, forgeable " +
        "client contexts (development only)",
    })
    .option("enable-fault-injection", {
      type: "boolean",
      default: false,
      describe:
        "Serve Admin.SetDroppedPeers and Admin.SetLinkFaults, which cut and slow this node's " +
        "links (the fault scripts and nemesis need them; test clusters only, never production)",
    })
    .option("limit", {
      type: "string",
      array: true,
      describe:
        "Override a limit of node/core/limits.ts as NAME=VALUE (repeatable), e.g. " +
        "--limit siblingsMax=50 --limit hintBytesMax=268435456",
    })
    .option("log-level", {
      type: "string",
      default: "info",
      choices: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
    }) as unknown as Argv<ServeArgs>;
}

export async function handler(args: ArgumentsCamelCase<ServeArgs>): Promise<void> {
  if (!isValidNodeId(args.id))
    throw new UsageError(`--id must be 1-64 characters of A-Z a-z 0-9 _ . -, got '${args.id}'`);
  if (!isHostPort(args.listen))
    throw new UsageError(`--listen must be host:port, got '${args.listen}'`);
  if (!isValidPartitionCount(args.partitions)) {
    throw new UsageError(
      `--partitions must be a power of two from 1 to 4096, got ${args.partitions}`,
    );
  }
  const metricsListen = args["metrics-listen"];
  if (metricsListen !== undefined && !isHostPort(metricsListen)) {
    throw new UsageError(
      `--metrics-listen must be host:port (port 0 picks a free one), got '${metricsListen}'`,
    );
  }
  if (metricsListen !== undefined && !args["metrics-public"] && !isLoopbackHostPort(metricsListen))
    throw new UsageError(
      `--metrics-listen ${metricsListen} is not a loopback address: the metrics are plain, ` +
        "unauthenticated HTTP; add --metrics-public to serve them there (firewall the port)",
    );
  const self = args.id as NodeId;
  const advertise = args.advertise;
  if (advertise !== undefined && !isHostPort(advertise))
    throw new UsageError(`--advertise must be host:port, got '${advertise}'`);
  const join = args.join;
  if (join !== undefined && !isHostPort(join))
    throw new UsageError(`--join must be host:port of a running member, got '${join}'`);
  if (join !== undefined && args.peers !== undefined)
    throw new UsageError(
      "--join and --peers exclude each other: a joining node learns the members",
    );
  // The layout records where this node is reached, so port 0 becomes a port picked now.
  const listen = await withConcretePort(args.listen);
  const members = join === undefined ? parsePeers(args.peers, self, advertise ?? listen) : [];
  const keyFile = clusterKeyArg(args["cluster-key"], args.insecure);
  const tlsDir = tlsDirArg(args["tls-dir"], args.insecure);
  const perAddress = args["connections-per-address-max"];
  const limited = limitsWith([
    ...(args.limit ?? []),
    ...(perAddress === undefined ? [] : [`addressConnectionsMax=${perAddress}`]),
  ]);
  if (!limited.ok) throw new UsageError(`--limit: ${limited.reason}`);
  const limits = limited.limits;
  let contextKeys = keyFile === undefined ? undefined : loadKeys(keyFile);
  const logger = createLogger({ node: self, level: args["log-level"] });
  if (keyFile === undefined) {
    logger.warn(
      "INSECURE (--insecure): no TLS, no authentication and no cluster key. Anyone who reaches " +
        "this port can read, write and delete any key, call the internal services and forge " +
        "client contexts. Never run this on a network.",
    );
  }
  const faultInjection = args["enable-fault-injection"];
  if (faultInjection) {
    logger.warn(
      "FAULT INJECTION ENABLED (--enable-fault-injection): anyone who reaches this node can " +
        "partition it or slow its links with Admin.SetDroppedPeers and Admin.SetLinkFaults. " +
        "Test clusters only.",
    );
  }
  const missingFlags = missingNodeFlags();
  if (missingFlags.length > 0) {
    logger.warn(
      { missing: missingFlags },
      `Node.js runs without ${missingFlags.join(" ")}: with many keys, expect full collections ` +
        `that stop this node for tenths of a second, often (docs/OPERATIONS.md, "The Node.js ` +
        `process"). The installed dkv command passes them; node …/main.js serve does not.`,
    );
  }
  mkdirSync(args["data-dir"], { recursive: true });
  // Loaded on demand: the server stack is not needed by the client commands.
  const { createStorage } = await import("../../node/storage/create-storage.js");
  const { startNode } = await import("../start-node.js");
  const { INSECURE_NODE, openNodeSecurity } = await import("../../node/security/node-security.js");
  const security =
    tlsDir === undefined
      ? INSECURE_NODE
      : await openNodeSecurity({ dir: tlsDir, self, clock: SYSTEM_CLOCK, logger }).catch(
          (error: unknown) => {
            throw new UsageError(`--tls-dir ${tlsDir}: ${(error as Error).message}`);
          },
        );
  const engine = args.storage as StorageEngineName;
  const storage = await createStorage(engine, args["data-dir"], limits);
  const hintDir = path.join(args["data-dir"], "hints");
  // Hints are written once and read once, at delivery: a cache would only copy them.
  const hintStorage = await createStorage(engine, hintDir, limits, 0);
  const node = await startNode({
    self,
    listen,
    ...(advertise === undefined ? {} : { advertise }),
    ...(join === undefined ? {} : { join }),
    members,
    partitionCount: args.partitions,
    storage,
    dataDir: args["data-dir"],
    logger,
    readRepair: args["read-repair"],
    aaeIntervalMs: aaeIntervalMs(args["aae-interval-ms"]),
    tombstoneGraceMs: tombstoneGraceMs(args["tombstone-grace-ms"]),
    dropGraceMs: nonNegativeArg("drop-grace-ms", args["drop-grace-ms"]),
    replicaLingerMs: nonNegativeArg(
      "replica-linger-ms",
      args["replica-linger-ms"],
      REPLICA_LINGER_MS_MAX,
    ),
    hintStorage,
    failureDetector: detectorArgs(args["heartbeat-interval-ms"], args["phi-threshold"]),
    hintedHandoff: args["hinted-handoff"],
    antiEntropy: args["anti-entropy"],
    handoffBytesPerSecond: positiveArg(
      "handoff-bytes-per-second",
      args["handoff-bytes-per-second"],
    ),
    transferBytesPerSecond: nonNegativeArg(
      "transfer-bytes-per-second",
      args["transfer-bytes-per-second"],
    ),
    transfersMax: positiveIntegerArg("transfers-max", args["transfers-max"]),
    ...(metricsListen === undefined ? {} : { metricsListen }),
    contextKeys: () => contextKeys,
    limits,
    faultInjection,
    security,
  });
  logger.info(
    { address: node.address, members: members.length, storage: storage.engine },
    "listening",
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, "shutting down");
      node.close().then(
        () => {
          security.close();
          resolve();
        },
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          resolve();
        },
      );
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
    // Key rotation without a restart: a bad file keeps the keys in use.
    process.on("SIGHUP", () => {
      void security.reload();
      if (keyFile === undefined) return;
      try {
        contextKeys = loadContextKeyFile(keyFile);
        logger.info({ keys: contextKeys.byId.size, file: keyFile }, "cluster key file reloaded");
      } catch (error) {
        logger.error({ reason: (error as Error).message }, "cluster key file not reloaded");
      }
    });
  });
  logger.info("stopped");
}

/** The credentials directory; a node without one refuses to start unless --insecure says so. */
function tlsDirArg(dir: string | undefined, insecure: boolean): string | undefined {
  if (dir !== undefined && insecure)
    throw new UsageError("--tls-dir and --insecure exclude each other");
  if (dir === undefined && !insecure) {
    throw new UsageError(
      "a node needs --tls-dir DIR (the cluster CA and this node's certificate; `dkv cluster up` " +
        "makes them, or `dkv cert init` and `dkv cert issue --node ID`), or --insecure for development",
    );
  }
  return dir;
}

/** The key file to use; a node without one refuses to start unless --insecure says so. */
function clusterKeyArg(file: string | undefined, insecure: boolean): string | undefined {
  if (file !== undefined && insecure) {
    throw new UsageError("--cluster-key and --insecure exclude each other");
  }
  if (file === undefined && !insecure) {
    throw new UsageError(
      "a node needs --cluster-key FILE (the cluster's context keys; `dkv cluster up` makes one, " +
        "or `openssl rand -hex 32 > FILE; chmod 600 FILE`), or --insecure for development",
    );
  }
  return file;
}

function loadKeys(file: string): ContextKeys {
  try {
    return loadContextKeyFile(file);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The detector flags, validated by the detector's own checks (named in the message). */
function detectorArgs(
  heartbeatIntervalMs: number,
  phiThreshold: number,
): Partial<FailureDetectorOptions> {
  const overrides = { heartbeatIntervalMs, phiThreshold };
  try {
    failureDetectorOptions(overrides);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return overrides;
}

function positiveArg(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} must be a positive number, got ${value}`);
  }
  return value;
}

/** Parses --peers; without it the node is a cluster of one at its listen address. */
export function parsePeers(text: string | undefined, self: NodeId, listen: string): Member[] {
  if (text === undefined || text.trim() === "") return [{ node: self, address: listen }];
  const members: Member[] = [];
  for (const entry of text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")) {
    const equals = entry.indexOf("=");
    const id = entry.slice(0, equals);
    const address = entry.slice(equals + 1);
    if (equals <= 0 || !isValidNodeId(id) || !isHostPort(address)) {
      throw new UsageError(`--peers entries must be id=host:port, got '${entry}'`);
    }
    if (members.some((member) => member.node === id))
      throw new UsageError(`--peers names ${id} twice`);
    members.push({ node: id as NodeId, address });
  }
  if (!members.some((member) => member.node === self)) {
    throw new UsageError(`--peers must include this node (${self})`);
  }
  return members;
}

function tombstoneGraceMs(value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new UsageError(`--tombstone-grace-ms must be a number >= 0, got ${value}`);
  }
  return value;
}

function aaeIntervalMs(value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new UsageError(`--aae-interval-ms must be a positive number, got ${value}`);
  }
  return value;
}

/** `listen` with port 0 replaced by a free port of its host (probed, then released). */
async function withConcretePort(listen: string): Promise<string> {
  const colon = listen.lastIndexOf(":");
  if (listen.slice(colon + 1) !== "0") return listen;
  const host = listen.slice(0, colon);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host.replace(/^\[|\]$/g, ""), () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `${host}:${port}`;
}
