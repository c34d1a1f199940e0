// Options shared by the client commands (put, get, delete, status) and how they become a client.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Argv } from "yargs";
import {
  DkvClient,
  parseQuorumText,
  type CallOptions,
  type QuorumText,
} from "../coordinator/client.js";
import { DEFAULT_CLUSTER_DIR, readClusterFile } from "./cluster-file.js";
import { UsageError, isHostPort } from "./usage.js";
import { certDirOf } from "./local-credentials.js";
import { caFiles } from "../node/security/credential-files.js";
import {
  localClientCredentials,
  securityOf,
  type ClientCredentialsPem,
  type ClientSecurity,
} from "../node/security/client-security.js";

/** The parsed shared options. */
export interface ClientArgs {
  node: string | undefined;
  "cluster-dir": string;
  bucket: string | undefined;
  n: number | undefined;
  r: string | undefined;
  w: string | undefined;
  dw: string | undefined;
  pr: string | undefined;
  pw: string | undefined;
  "strict-quorum": boolean;
  timeout: number;
  json: boolean;
  ca: string | undefined;
  cert: string | undefined;
  "cert-key": string | undefined;
  token: string | undefined;
  insecure: boolean;
}

/** Adds the shared options to a command. */
export function withClientOptions<T>(yargs: Argv<T>): Argv<T & ClientArgs> {
  return yargs
    .option("node", {
      type: "string",
      describe:
        "host:port of the node to ask (comma-separated for several); default: the local cluster, or $DKV_NODE",
    })
    .option("cluster-dir", {
      type: "string",
      default: DEFAULT_CLUSTER_DIR,
      describe: "Where `dkv cluster up` runs its cluster",
    })
    .option("bucket", { type: "string", describe: 'Bucket (default: "default")' })
    .option("n", { type: "number", describe: "Replicas of the key (default: the bucket's n)" })
    .option("r", { type: "string", describe: "Read quorum: a count or one|quorum|all" })
    .option("w", { type: "string", describe: "Write quorum: a count or one|quorum|all" })
    .option("dw", { type: "string", describe: "Durable write quorum" })
    .option("pr", { type: "string", describe: "Primary read quorum" })
    .option("pw", { type: "string", describe: "Primary write quorum" })
    .option("strict-quorum", {
      type: "boolean",
      default: false,
      describe: "Count primaries only (sloppy quorum off)",
    })
    .option("timeout", { type: "number", default: 5000, describe: "Request timeout in ms" })
    .option("json", {
      type: "boolean",
      default: false,
      describe: "Print JSON for scripts",
    })
    .option("ca", {
      type: "string",
      describe:
        "CA certificate the nodes' certificates are checked against; default: $DKV_CA, or the local cluster's",
    })
    .option("cert", {
      type: "string",
      describe:
        "Client certificate (with --cert-key); default: $DKV_CERT, or the local cluster's admin",
    })
    .option("cert-key", { type: "string", describe: "Key of --cert; default: $DKV_CERT_KEY" })
    .option("token", {
      type: "string",
      describe:
        "Bearer token (`dkv user add`); default: $DKV_TOKEN. Prefer the variable: argv is visible to others",
    })
    .option("insecure", {
      type: "boolean",
      default: false,
      describe: "Plaintext, for nodes started with --insecure",
    }) as unknown as Argv<T & ClientArgs>;
}

/** The node addresses to talk to: --node, then $DKV_NODE, then the local cluster file. */
export function nodeAddresses(args: ClientArgs): string[] {
  const text = args.node ?? process.env["DKV_NODE"];
  if (text !== undefined && text !== "") {
    const addresses = text.split(",").map((part) => part.trim());
    for (const address of addresses) {
      if (!isHostPort(address)) throw new UsageError(`--node must be host:port, got '${address}'`);
    }
    return addresses;
  }
  const file = readClusterFile(path.resolve(args["cluster-dir"]));
  if (file === undefined || file.nodes.length === 0) {
    throw new UsageError(
      `no node to talk to: pass --node host:port, set DKV_NODE, or start a local cluster with \`npm start\` (looked in ${args["cluster-dir"]})`,
    );
  }
  return file.nodes.map((node) => node.address);
}

/** A client for the chosen nodes. */
export function openClient(args: ClientArgs): DkvClient {
  return new DkvClient(nodeAddresses(args), { security: clientSecurity(args) });
}

/** The per-request options of the shared flags, validated. */
export function callOptions(args: ClientArgs): CallOptions {
  const options: { -readonly [K in keyof CallOptions]: CallOptions[K] } = {
    timeoutMs: positive("timeout", args.timeout),
    strictQuorum: args["strict-quorum"],
  };
  if (args.bucket !== undefined) options.bucket = args.bucket;
  if (args.n !== undefined) options.n = positive("n", args.n);
  for (const field of ["r", "w", "dw", "pr", "pw"] as const) {
    const text = args[field];
    if (text === undefined) continue;
    const value: QuorumText | undefined = parseQuorumText(text);
    if (value === undefined) {
      throw new UsageError(`--${field} must be a count or one|quorum|all, got '${text}'`);
    }
    options[field] = value;
  }
  return options;
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`--${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** Parses a context given on the command line (base64url, as printed by get and put). */
export function parseContextArg(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) {
    throw new UsageError("--context must be the base64url text printed by get or put");
  }
  return new Uint8Array(Buffer.from(text, "base64url"));
}

/** Formats a context for printing. */
export function formatContext(context: Uint8Array): string {
  return Buffer.from(context).toString("base64url");
}

/** The security options of a command, without the rest of the client options. */
export type SecurityArgs = Pick<
  ClientArgs,
  "ca" | "cert" | "cert-key" | "token" | "insecure" | "cluster-dir"
>;

/**
 * How to reach the nodes: --insecure is plaintext; else TLS trusting --ca ($DKV_CA), or the
 * local cluster's CA (`<cluster-dir>/certs/ca.crt`), presenting --cert/--cert-key ($DKV_CERT,
 * $DKV_CERT_KEY) and/or --token ($DKV_TOKEN), or else the local cluster's admin certificate. With no
 * CA anywhere it is plaintext (a local cluster started with --insecure).
 */
export function clientSecurity(args: SecurityArgs): ClientSecurity {
  return securityOf(clientCredentials(args));
}

/** The credentials of {@link clientSecurity}, as text; undefined for plaintext. */
export function clientCredentials(args: SecurityArgs): ClientCredentialsPem | undefined {
  const env = (name: string): string | undefined => {
    const value = process.env[name];
    return value === undefined || value === "" ? undefined : value;
  };
  const ca = args.ca ?? env("DKV_CA");
  const cert = args.cert ?? env("DKV_CERT");
  const key = args["cert-key"] ?? env("DKV_CERT_KEY");
  const token = args.token ?? env("DKV_TOKEN");
  if (args.insecure) {
    if (args.ca !== undefined || args.cert !== undefined || args.token !== undefined) {
      throw new UsageError("--insecure excludes --ca, --cert and --token: those need TLS");
    }
    return undefined;
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("--cert and --cert-key go together (or $DKV_CERT and $DKV_CERT_KEY)");
  }
  const certDir = certDirOf(path.resolve(args["cluster-dir"]));
  const caFile = ca ?? caFiles(certDir).certFile;
  if (!existsSync(caFile)) {
    if (ca !== undefined) throw new UsageError(`--ca ${ca}: no such file`);
    if (cert !== undefined || token !== undefined) {
      throw new UsageError(`--cert and --token need TLS: pass --ca FILE (looked in ${caFile})`);
    }
    return undefined;
  }
  if (cert === undefined && token === undefined && ca === undefined) {
    return localClientCredentials(certDir);
  }
  return {
    ca: readArgFile("ca", caFile),
    ...(cert === undefined || key === undefined
      ? {}
      : { cert: readArgFile("cert", cert), key: readArgFile("cert-key", key) }),
    ...(token === undefined ? {} : { token }),
  };
}

function readArgFile(option: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`--${option} ${file}: ${(error as Error).message}`);
  }
}
