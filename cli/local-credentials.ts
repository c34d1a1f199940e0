// The certificates of a local cluster (`dkv cluster up`, the test and benchmark harnesses): a CA,
// one certificate per node and the bootstrap admin's client certificate, under
// `<cluster-dir>/certs`, made on first use and kept across restarts.

import { existsSync } from "node:fs";
import path from "node:path";
import { isValidNodeId, type NodeId } from "../node/core/node-id.js";
import {
  caFiles,
  clientCredentialFiles,
  nodeCredentialFiles,
  readCredential,
  writeCredential,
} from "../node/security/credential-files.js";
import { BOOTSTRAP_ADMIN } from "../node/security/node-security.js";

/** Where a cluster directory keeps its certificates. */
export function certDirOf(clusterDir: string): string {
  return path.join(clusterDir, "certs");
}

/** Host names a local node's certificate is good for when none are given. */
export const LOCAL_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "::1"];

/**
 * Makes what is missing under `certDir`: the CA, a certificate for each of `nodeIds` (good for
 * `hosts`), and the bootstrap admin's client certificate. Existing files are kept, so a
 * restarted or grown cluster keeps its CA.
 */
export async function ensureLocalCredentials(
  certDir: string,
  nodeIds: readonly string[],
  hosts: readonly string[] = LOCAL_HOSTS,
): Promise<void> {
  const ca = caFiles(certDir);
  const wanted = nodeIds.map((id) => {
    if (!isValidNodeId(id)) throw new Error(`invalid node id ${JSON.stringify(id)}`);
    return id as NodeId;
  });
  const missingNodes = wanted.filter(
    (id) => !existsSync(nodeCredentialFiles(certDir, id).certFile),
  );
  const admin = clientCredentialFiles(certDir, BOOTSTRAP_ADMIN);
  const caMissing = !existsSync(ca.certFile);
  if (!caMissing && missingNodes.length === 0 && existsSync(admin.certFile)) return;
  // Loaded only when something is issued: the X.509 library takes about 0.5 s to load.
  const certificates = await import("../node/security/certificates.js");
  const nowMs = Date.now();
  if (caMissing) await writeCredential(ca, await certificates.createClusterCa({ nowMs }));
  const caCredential = await readCredential(ca);
  for (const nodeId of missingNodes) {
    const issued = await certificates.issueNodeCertificate(caCredential, { nodeId, hosts, nowMs });
    await writeCredential(nodeCredentialFiles(certDir, nodeId), issued);
  }
  if (!existsSync(admin.certFile)) {
    const issued = await certificates.issueClientCertificate(caCredential, {
      user: BOOTSTRAP_ADMIN,
      nowMs,
    });
    await writeCredential(admin, issued);
  }
}
