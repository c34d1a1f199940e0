// Certificate rotation under load: every node's certificate is reissued and the nodes are told
// with SIGHUP while clients keep writing; not one request fails, and a new connection is served
// the new certificate.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { connect as tlsConnect } from "node:tls";
import { TestCluster } from "./local-cluster-harness.js";
import { certDirOf } from "../../cli/local-credentials.js";
import {
  caFiles,
  nodeCredentialFiles,
  readCredential,
  writeCredential,
} from "../../node/security/credential-files.js";
import { nodeId } from "../../node/core/node-id.js";

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ nodes: 3 });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** The serial of the certificate a new TLS connection to `address` is served. */
function servedSerial(address: string, ca: string): Promise<string> {
  const port = Number(address.slice(address.lastIndexOf(":") + 1));
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      // The chain is checked against the CA; which node it names does not matter here.
      { host: "127.0.0.1", port, ca, ALPNProtocols: ["h2"], checkServerIdentity: () => undefined },
      () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.destroy();
      },
    );
    socket.on("error", reject);
  });
}

describe("certificate rotation", () => {
  it("reloads reissued certificates on SIGHUP while clients write, failing no request", async () => {
    const certDir = path.resolve(certDirOf(cluster.dir));
    const ca = await readCredential(caFiles(certDir));
    const before = await servedSerial(cluster.spec("n1").address, ca.certPem);
    const clients = ["n1", "n2", "n3"].map((id) => cluster.client(id));
    let stop = false;
    let written = 0;
    const failures: string[] = [];
    const writers = clients.map(async (client, index) => {
      for (let round = 0; !stop; round++) {
        try {
          await client.put(`rotating-${index}-${round % 50}`, `v${round}`, { w: 2 });
          written++;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    });
    const { issueNodeCertificate } = await import("../../node/security/certificates.js");
    for (const id of ["n1", "n2", "n3"]) {
      const issued = await issueNodeCertificate(ca, {
        nodeId: nodeId(id),
        hosts: ["localhost", "127.0.0.1", "::1"],
        nowMs: Date.now(),
      });
      await writeCredential(nodeCredentialFiles(certDir, nodeId(id)), issued);
      process.kill(cluster.pid(id) ?? 0, "SIGHUP");
    }
    // New connections take the new certificate once the reload is done.
    let after = before;
    for (let attempt = 0; attempt < 50 && after === before; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await servedSerial(cluster.spec("n1").address, ca.certPem);
    }
    // Writes keep going after the reload: at least 20 more, on connections old and new.
    const mark = written;
    for (let waited = 0; written < mark + 20 && waited < 20_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    stop = true;
    await Promise.all(writers);
    expect(failures).toEqual([]);
    expect(written).toBeGreaterThanOrEqual(mark + 20);
    expect(after).not.toBe(before);
    expect(cluster.log("n1")).toMatch(/TLS credentials loaded/);
    // Node-to-node channels reconnect with the new certificates too: a fresh write at w=3.
    await cluster.client("n2").put("after-rotation", "v", { w: 3 });
  }, 60_000);
});
