// Whether a CA bundle, a certificate and a key belong together and may be served now: the key is
// the certificate's, a CA of the bundle signed it, it is within its validity, and it names the
// node expected. Pure: the caller reads the files and passes the time.

import { X509Certificate, createPrivateKey } from "node:crypto";
import type { NodeId } from "../core/node-id.js";
import { nodeIdOfCertificate } from "./peer-identity.js";

/** The bytes of one party's TLS credential, PEM, as read from its files. */
export interface CredentialBundle {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** The verdict on a bundle: what it proves, or why it may not be served. */
export type CredentialCheck =
  | {
      readonly ok: true;
      readonly subject: string;
      readonly serialNumber: string;
      readonly fingerprint256: string;
      readonly notAfterMs: number;
      /** CA certificates in the bundle: more than one while a CA is being rotated. */
      readonly caCount: number;
    }
  | { readonly ok: false; readonly reason: string };

const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/**
 * Checks a bundle at `nowMs`. `expectNodeId`, when given, must be the node the certificate
 * names (a node never serves another node's certificate by mistake).
 */
export function checkCredential(
  bundle: CredentialBundle,
  nowMs: number,
  expectNodeId?: NodeId,
): CredentialCheck {
  let cas: X509Certificate[];
  let cert: X509Certificate;
  try {
    cas = (bundle.ca.toString("utf8").match(CERTIFICATE_PEM) ?? []).map(
      (pem) => new X509Certificate(pem),
    );
    cert = new X509Certificate(bundle.cert);
  } catch (error: unknown) {
    return { ok: false, reason: `unreadable certificate: ${messageOf(error)}` };
  }
  if (cas.length === 0) return { ok: false, reason: "the CA file holds no certificate" };
  const notCa = cas.find((ca) => !ca.ca);
  if (notCa !== undefined) return { ok: false, reason: `${notCa.subject} is not a CA` };
  try {
    if (!cert.checkPrivateKey(createPrivateKey(bundle.key))) {
      return { ok: false, reason: "the key does not match the certificate" };
    }
  } catch (error: unknown) {
    return { ok: false, reason: `unreadable key: ${messageOf(error)}` };
  }
  if (!cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
    return { ok: false, reason: `${cert.subject} is not signed by a CA of the CA file` };
  }
  const notBeforeMs = Date.parse(cert.validFrom);
  const notAfterMs = Date.parse(cert.validTo);
  if (!(nowMs >= notBeforeMs)) {
    return { ok: false, reason: `${cert.subject} is not valid before ${cert.validFrom}` };
  }
  if (!(nowMs <= notAfterMs)) {
    return { ok: false, reason: `${cert.subject} expired ${cert.validTo}` };
  }
  if (expectNodeId !== undefined) {
    const named = nodeIdOfCertificate(cert.raw);
    if (named !== expectNodeId) {
      return {
        ok: false,
        reason: `the certificate names node ${named ?? "(none)"}, not ${expectNodeId}`,
      };
    }
  }
  return {
    ok: true,
    subject: cert.subject,
    serialNumber: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    notAfterMs,
    caCount: cas.length,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
