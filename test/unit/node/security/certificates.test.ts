// Goal: the cluster CA signs node and client certificates that TLS stacks accept and that name
// exactly who holds them; bad input is refused before anything is signed.
// Method: make certificates at a fixed time and read them back with node:crypto's X509Certificate.

import { X509Certificate, createPrivateKey } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createClusterCa,
  issueClientCertificate,
  issueNodeCertificate,
  type PemCredential,
} from "../../../../node/security/certificates.js";
import { isValidHost } from "../../../../node/security/certificate-policy.js";
import { identityOfCertificate } from "../../../../node/security/peer-identity.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";

const NOW_MS = Date.parse("2030-01-02T03:04:05Z");
const DAY_MS = 24 * 60 * 60 * 1000;
const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

let ca: PemCredential;
let otherCa: PemCredential;

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([
    createClusterCa({ nowMs: NOW_MS }),
    createClusterCa({ nowMs: NOW_MS, commonName: "another CA" }),
  ]);
});

describe("createClusterCa", () => {
  it("makes a self-signed CA valid for ten years from a little before now", () => {
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.subject).toMatch(/^CN=dkv cluster CA [0-9a-f]{8}$/);
    expect(Date.parse(cert.validFrom)).toBe(NOW_MS - 5 * 60 * 1000);
    expect(Date.parse(cert.validTo)).toBe(NOW_MS + 3650 * DAY_MS);
    expect(cert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
    expect(createPrivateKey(ca.keyPem).asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("gives two CAs different names and keys", () => {
    expect(new X509Certificate(ca.certPem).subject).not.toBe(
      new X509Certificate(otherCa.certPem).subject,
    );
    expect(ca.keyPem).not.toBe(otherCa.keyPem);
  });
});

describe("issueNodeCertificate", () => {
  it("names the node id and its hosts, chains to the CA, serves and authenticates", async () => {
    const issued = await issueNodeCertificate(ca, {
      nodeId: nodeId("n1"),
      hosts: ["127.0.0.1", "::1", "localhost"],
      nowMs: NOW_MS,
      validDays: 30,
    });
    const cert = new X509Certificate(issued.certPem);
    const caCert = new X509Certificate(ca.certPem);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(otherCa.certPem).publicKey)).toBe(false);
    expect(cert.ca).toBe(false);
    expect(cert.subject).toBe("CN=n1");
    expect(cert.subjectAltName).toBe(
      "URI:dkv:node:n1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost",
    );
    expect(identityOfCertificate(cert.raw)).toEqual({ kind: "node", nodeId: "n1" });
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.keyUsage).toEqual([SERVER_AUTH, CLIENT_AUTH]);
    expect(Date.parse(cert.validTo)).toBe(NOW_MS + 30 * DAY_MS);
    expect(cert.checkPrivateKey(createPrivateKey(issued.keyPem))).toBe(true);
  });

  it("gives every certificate its own key and serial", async () => {
    const options = { nodeId: nodeId("n1"), hosts: [], nowMs: NOW_MS };
    const [a, b] = await Promise.all([
      issueNodeCertificate(ca, options),
      issueNodeCertificate(ca, options),
    ]);
    expect(a.keyPem).not.toBe(b.keyPem);
    expect(new X509Certificate(a.certPem).serialNumber).not.toBe(
      new X509Certificate(b.certPem).serialNumber,
    );
  });
});

describe("issueClientCertificate", () => {
  it("names the user and authenticates clients only", async () => {
    const issued = await issueClientCertificate(ca, { user: "alice@ops", nowMs: NOW_MS });
    const cert = new X509Certificate(issued.certPem);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe("URI:dkv:user:alice@ops");
    expect(identityOfCertificate(cert.raw)).toEqual({ kind: "user", user: "alice@ops" });
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
    expect(Date.parse(cert.validTo)).toBe(NOW_MS + 365 * DAY_MS);
  });
});

describe("refusals", () => {
  const n1 = nodeId("n1");
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ["a malformed node id", () => issue({ nodeId: "n 1" as NodeId }), /invalid node id "n 1"/],
    ["a wildcard host", () => issue({ hosts: ["*.example.com"] }), /invalid host/],
    ["an empty host", () => issue({ hosts: [""] }), /invalid host ""/],
    ["zero days", () => issue({ validDays: 0 }), /validity must be 1 to 36500 days, got 0/],
    ["a leaf outliving its CA", () => issue({ validDays: 4000 }), /would outlive its CA/],
    ["a time that is no time", () => issue({ nowMs: Number.NaN }), /invalid time NaN/],
    [
      "another CA's key",
      () => issueNodeCertificate({ ...ca, keyPem: otherCa.keyPem }, base()),
      /the CA key does not belong to the CA certificate/,
    ],
    [
      "a leaf as the CA",
      async () => issueNodeCertificate(await issue({}), base()),
      /CN=n1 is not a CA certificate/,
    ],
    [
      "a malformed user name",
      () => issueClientCertificate(ca, { user: "bob/../x", nowMs: NOW_MS }),
      /invalid user name/,
    ],
  ];

  function base() {
    return { nodeId: n1, hosts: ["127.0.0.1"], nowMs: NOW_MS };
  }
  function issue(change: Partial<ReturnType<typeof base> & { validDays: number }>) {
    return issueNodeCertificate(ca, { ...base(), ...change });
  }

  it.each(cases)("refuses %s", async (_name, act, error) => {
    await expect(act()).rejects.toThrow(error);
  });

  it.each([
    ["127.0.0.1", true],
    ["fe80::1", true],
    ["db-1.example.com", true],
    ["localhost", true],
    ["-bad.example", false],
    ["a..b", false],
    ["a_b", false],
    ["x".repeat(64), false],
  ] as const)("isValidHost(%j) is %s", (host, valid) => {
    expect(isValidHost(host)).toBe(valid);
  });
});
