// Goal: only a bundle that can really be served passes: the key is the certificate's, a CA of
// the bundle signed it, it is valid now and names the node expected; each refusal says why.
// Method: certificates made at a fixed time, checked at chosen times, one row per case.

import { beforeAll, describe, expect, it } from "vitest";
import { nodeId } from "../../../../node/core/node-id.js";
import {
  createClusterCa,
  issueNodeCertificate,
  type PemCredential,
} from "../../../../node/security/certificates.js";
import {
  checkCredential,
  type CredentialBundle,
} from "../../../../node/security/credential-check.js";

const NOW_MS = Date.parse("2030-06-01T00:00:00Z");
const DAY_MS = 24 * 60 * 60 * 1000;
let ca: PemCredential;
let nextCa: PemCredential;
let n1: PemCredential;
let n1Again: PemCredential;
let n1OfNextCa: PemCredential;

beforeAll(async () => {
  [ca, nextCa] = await Promise.all([
    createClusterCa({ nowMs: NOW_MS }),
    createClusterCa({ nowMs: NOW_MS }),
  ]);
  const options = { nodeId: nodeId("n1"), hosts: [], nowMs: NOW_MS, validDays: 10 };
  [n1, n1Again, n1OfNextCa] = await Promise.all([
    issueNodeCertificate(ca, options),
    issueNodeCertificate(ca, options),
    issueNodeCertificate(nextCa, options),
  ]);
});

function bundle(caPem: string, leaf: PemCredential, keyPem = leaf.keyPem): CredentialBundle {
  return { ca: Buffer.from(caPem), cert: Buffer.from(leaf.certPem), key: Buffer.from(keyPem) };
}

describe("checkCredential", () => {
  it("passes a good bundle and says what it serves", () => {
    const check = checkCredential(bundle(ca.certPem, n1), NOW_MS, nodeId("n1"));
    expect(check).toMatchObject({ ok: true, subject: "CN=n1", caCount: 1 });
    expect(check.ok && check.notAfterMs).toBe(NOW_MS + 10 * DAY_MS);
  });

  it("passes a certificate of either CA while a bundle holds the old and the new", () => {
    const both = ca.certPem + nextCa.certPem;
    expect(checkCredential(bundle(both, n1OfNextCa), NOW_MS)).toMatchObject({ caCount: 2 });
    expect(checkCredential(bundle(both, n1), NOW_MS)).toMatchObject({ ok: true });
  });

  const late = NOW_MS + 11 * DAY_MS;
  const early = NOW_MS - DAY_MS;
  const garbage = (): CredentialBundle => ({ ...bundle(ca.certPem, n1), cert: Buffer.from("x") });
  // prettier-ignore
  const refusals: [string, () => CredentialBundle, number, string | undefined, RegExp][] = [
    ["a certificate another CA signed",      () => bundle(nextCa.certPem, n1),           NOW_MS, undefined, /not signed by a CA/],
    ["a key of another certificate",         () => bundle(ca.certPem, n1, n1Again.keyPem), NOW_MS, undefined, /the key does not match/],
    ["an expired certificate",               () => bundle(ca.certPem, n1),               late,   undefined, /CN=n1 expired/],
    ["a certificate not yet valid",          () => bundle(ca.certPem, n1),               early,  undefined, /CN=n1 is not valid before/],
    ["another node's certificate",           () => bundle(ca.certPem, n1),               NOW_MS, "n2",      /names node n1, not n2/],
    ["a leaf in the CA file",                () => bundle(n1.certPem, n1),               NOW_MS, undefined, /CN=n1 is not a CA/],
    ["an empty CA file",                     () => bundle("", n1),                       NOW_MS, undefined, /holds no certificate/],
    ["a certificate that is no certificate", garbage,                                    NOW_MS, undefined, /unreadable certificate/],
    ["a key that is no key",                 () => bundle(ca.certPem, n1, "x"),          NOW_MS, undefined, /unreadable key/],
  ];

  it.each(refusals)("refuses %s", (_name, make, atMs, expected, reason) => {
    const check = checkCredential(
      make(),
      atMs,
      expected === undefined ? undefined : nodeId(expected),
    );
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toMatch(reason);
  });
});
