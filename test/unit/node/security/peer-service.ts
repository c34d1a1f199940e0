// What the TLS tests share: a one-method raw gRPC service (bytes in, bytes out, no codec, so a
// test sees only what the transport and its credentials do) and a credentials directory.

import type * as grpc from "@grpc/grpc-js";
import { SYSTEM_CLOCK } from "../../../../node/clock.js";
import { nodeId } from "../../../../node/core/node-id.js";
import {
  createClusterCa,
  issueClientCertificate,
  issueNodeCertificate,
  type PemCredential,
} from "../../../../node/security/certificates.js";
import {
  caFiles,
  clientCredentialFiles,
  nodeCredentialFiles,
  writeCredential,
} from "../../../../node/security/credential-files.js";

export const PATH = "/dkv.test.Peer/WhoAmI";
export const same = (bytes: Buffer): Buffer => bytes;
export const SERVICE: grpc.ServiceDefinition = {
  WhoAmI: {
    path: PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  },
};

/** Writes into `dir` a new cluster CA, node certificates for n1 and n2 and a client "alice"; the CA. */
export async function writeTestCredentials(dir: string): Promise<PemCredential> {
  const nowMs = SYSTEM_CLOCK.nowMs();
  const ca = await createClusterCa({ nowMs });
  await writeCredential(caFiles(dir), ca);
  for (const id of [nodeId("n1"), nodeId("n2")]) {
    const issued = await issueNodeCertificate(ca, { nodeId: id, hosts: ["127.0.0.1"], nowMs });
    await writeCredential(nodeCredentialFiles(dir, id), issued);
  }
  const alice = await issueClientCertificate(ca, { user: "alice", nowMs });
  await writeCredential(clientCredentialFiles(dir, "alice"), alice);
  return ca;
}
