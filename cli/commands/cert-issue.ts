// `dkv cert issue`: signs a node certificate (`--node ID`, naming the node id and its hosts) or a
// client certificate (`--client NAME`, naming a user) with the cluster CA, and writes it with its
// key into the credentials directory. Reissuing replaces the files whole: a running node picks
// the new ones up when it reloads.

import { LOCAL_HOSTS } from "../local-credentials.js";
import { existsSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import type { Argv, ArgumentsCamelCase } from "yargs";
import { isValidNodeId, nodeId, type NodeId } from "../../node/core/node-id.js";
import {
  LEAF_VALID_DAYS_DEFAULT,
  isValidHost,
  isValidUserName,
} from "../../node/security/certificate-policy.js";
import type { PemCredential } from "../../node/security/certificates.js";
import {
  caFiles,
  clientCredentialFiles,
  nodeCredentialFiles,
  readCredential,
  writeCredential,
  type CredentialFiles,
} from "../../node/security/credential-files.js";
import { daysOf, withCertDirOptions, type CertDirArgs } from "../cert-dir.js";
import { UsageError } from "../usage.js";

interface CertIssueArgs extends CertDirArgs {
  node?: string;
  host?: string[];
  client?: string;
}

/** Hosts a node certificate names when --host is not given: a node on this machine. */
const DAY_MS = 24 * 60 * 60 * 1000;

export const command = "issue";
export const describe =
  "Issue a node certificate (--node ID) or a client certificate (--client NAME)";

export function builder(yargs: Argv): Argv<CertIssueArgs> {
  return withCertDirOptions(yargs)
    .option("node", { type: "string", describe: "Node id the certificate names (SAN dkv:node:ID)" })
    .option("host", {
      type: "string",
      array: true,
      describe: `Host name or IP address the node is reached at (default: ${LOCAL_HOSTS.join(" ")})`,
    })
    .option("client", {
      type: "string",
      describe: "User the client certificate names (SAN dkv:user:NAME)",
    }) as unknown as Argv<CertIssueArgs>;
}

export async function handler(args: ArgumentsCamelCase<CertIssueArgs>): Promise<void> {
  const days = daysOf(args) ?? LEAF_VALID_DAYS_DEFAULT;
  const request = requestOf(args);
  const ca = await readCa(args.dir);
  const nowMs = Date.now();
  const caValidTo = Date.parse(new X509Certificate(ca.certPem).validTo);
  if (nowMs + days * DAY_MS > caValidTo) {
    throw new UsageError(
      `--days ${days} outlives the CA, valid until ${new Date(caValidTo).toISOString()}`,
    );
  }
  // Loaded here, not at the top: the X.509 library takes about 0.5 s to load, which every other
  // dkv command would pay.
  const { issueClientCertificate, issueNodeCertificate } =
    await import("../../node/security/certificates.js");
  const issued =
    request.kind === "node"
      ? await issueNodeCertificate(ca, {
          nodeId: request.nodeId,
          hosts: request.hosts,
          nowMs,
          validDays: days,
        })
      : await issueClientCertificate(ca, { user: request.user, nowMs, validDays: days });
  const files =
    request.kind === "node"
      ? nodeCredentialFiles(args.dir, request.nodeId)
      : clientCredentialFiles(args.dir, request.user);
  const replaced = existsSync(files.certFile) || existsSync(files.keyFile);
  await writeCredential(files, issued);
  report(issued, files, replaced);
}

type Request = { kind: "node"; nodeId: NodeId; hosts: string[] } | { kind: "client"; user: string };

/** What to issue, from the arguments; a UsageError for every mistake. */
function requestOf(args: CertIssueArgs): Request {
  if (args.node !== undefined && args.client !== undefined) {
    throw new UsageError("--node and --client exclude each other: issue one certificate at a time");
  }
  if (args.node !== undefined) {
    if (!isValidNodeId(args.node)) {
      throw new UsageError(`--node must be 1 to 64 of [A-Za-z0-9_.-], got '${args.node}'`);
    }
    const hosts = args.host ?? [...LOCAL_HOSTS];
    const bad = hosts.find((host) => !isValidHost(host));
    if (bad !== undefined) {
      throw new UsageError(`--host must be a host name or an IP address, got '${bad}'`);
    }
    return { kind: "node", nodeId: nodeId(args.node), hosts: [...new Set(hosts)] };
  }
  if (args.client !== undefined) {
    if (args.host !== undefined) throw new UsageError("--host goes with --node, not --client");
    if (!isValidUserName(args.client)) {
      throw new UsageError(`--client must be 1 to 64 of [A-Za-z0-9_.@-], got '${args.client}'`);
    }
    return { kind: "client", user: args.client };
  }
  throw new UsageError("name what to issue for: --node ID or --client NAME");
}

async function readCa(dir: string): Promise<PemCredential> {
  const files = caFiles(dir);
  if (!existsSync(files.certFile) || !existsSync(files.keyFile)) {
    throw new UsageError(`no CA in ${dir}: run 'dkv cert init --dir ${dir}' first`);
  }
  return readCredential(files);
}

function report(issued: PemCredential, files: CredentialFiles, replaced: boolean): void {
  const cert = new X509Certificate(issued.certPem);
  console.log(`${replaced ? "replaced" : "issued"} ${cert.subject}: ${cert.subjectAltName ?? ""}`);
  console.log(`  certificate ${files.certFile}`);
  console.log(`  key         ${files.keyFile} (mode 0600)`);
  console.log(`  CA          ${files.caFile}`);
  console.log(`  valid until ${new Date(cert.validTo).toISOString()}`);
}
