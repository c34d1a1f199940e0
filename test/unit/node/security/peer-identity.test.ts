// Goal: a certificate proves one identity or none: a node, a user, or anonymous when it names
// zero, two or a malformed one.
// Method: self-signed certificates with hand-picked SANs, read back as DER.

import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import {
  certificateNamesNode,
  identityOfCertificate,
  identityOfPeer,
  nodeIdOfCertificate,
  type PeerIdentity,
} from "../../../../node/security/peer-identity.js";
import { nodeId } from "../../../../node/core/node-id.js";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
let keys: webcrypto.CryptoKeyPair;

beforeAll(async () => {
  keys = await webcrypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
});

/** A self-signed certificate whose SAN holds `names` ("url:..." and "dns:..." entries). */
async function certificateNaming(names: string[]): Promise<Buffer> {
  const general = names.map((entry) => {
    const colon = entry.indexOf(":");
    return { type: entry.slice(0, colon), value: entry.slice(colon + 1) } as x509.JsonGeneralName;
  });
  const extensions = general.length > 0 ? [new x509.SubjectAlternativeNameExtension(general)] : [];
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    { name: "CN=test", keys, signingAlgorithm: ALGORITHM, extensions },
    webcrypto,
  );
  return Buffer.from(cert.rawData);
}

describe("identityOfCertificate", () => {
  const cases: [string[], PeerIdentity["kind"], string][] = [
    [["url:dkv:node:n1", "dns:localhost", "ip:127.0.0.1"], "node", "n1"],
    [["url:dkv:user:alice"], "user", "alice"],
    [["url:https://example.com", "url:dkv:node:n-2.b_c"], "node", "n-2.b_c"],
    [[], "anonymous", "certificate names 0 dkv identities"],
    [["dns:dkv:node:n1"], "anonymous", "certificate names 0 dkv identities"],
    [["url:dkv:node:n1", "url:dkv:node:n2"], "anonymous", "certificate names 2 dkv identities"],
    [["url:dkv:node:n1", "url:dkv:user:n1"], "anonymous", "certificate names 2 dkv identities"],
    [["url:dkv:node:"], "anonymous", "malformed identity dkv:node:"],
    [["url:dkv:node:n1/x"], "anonymous", "malformed identity dkv:node:n1/x"],
    [["url:dkv:admin:root"], "anonymous", "malformed identity dkv:admin:root"],
  ];

  it.each(cases)("SAN %j is %s %s", async (names, kind, detail) => {
    const identity = identityOfCertificate(await certificateNaming(names));
    expect(identity.kind).toBe(kind);
    if (identity.kind === "node") expect(identity.nodeId).toBe(detail);
    if (identity.kind === "user") expect(identity.user).toBe(detail);
    if (identity.kind === "anonymous") expect(identity.reason).toContain(detail);
  });

  it("calls garbage anonymous instead of throwing", () => {
    expect(identityOfCertificate(Buffer.from("not a certificate")).kind).toBe("anonymous");
  });

  it("checks an id against the certificate", async () => {
    const der = await certificateNaming(["url:dkv:node:n1"]);
    expect(nodeIdOfCertificate(der)).toBe("n1");
    expect(certificateNamesNode(der, nodeId("n1"))).toBe(true);
    expect(certificateNamesNode(der, nodeId("n2"))).toBe(false);
    expect(nodeIdOfCertificate(await certificateNaming(["url:dkv:user:n1"]))).toBeUndefined();
  });
});

describe("identityOfPeer", () => {
  it("reads what grpc-js reports, and is anonymous without a verified certificate", async () => {
    const raw = await certificateNaming(["url:dkv:node:n1"]);
    expect(identityOfPeer({ raw } as PeerCertificate)).toEqual({ kind: "node", nodeId: "n1" });
    expect(identityOfPeer(undefined)).toEqual({
      kind: "anonymous",
      reason: "no verified client certificate",
    });
    expect(identityOfPeer({} as PeerCertificate).kind).toBe("anonymous");
  });
});
