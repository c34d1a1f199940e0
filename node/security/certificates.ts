// The cluster's certificates: a cluster CA, node certificates that name their node id, client
// certificates that name a user (the rules: certificate-policy.ts). No IO and no clock: the
// caller passes `nowMs` and writes the PEM text where it belongs (credential-files.ts). ECDSA
// P-256 keys over WebCrypto. Loading this module costs about 0.5 s: import it only to issue.

// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API
// before the library loads: this import must stay first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { X509Certificate, createPrivateKey, webcrypto } from "node:crypto";
import { isIP } from "node:net";
import { isValidNodeId, type NodeId } from "../core/node-id.js";
import {
  CA_VALID_DAYS_DEFAULT,
  LEAF_VALID_DAYS_DEFAULT,
  NODE_URI_PREFIX,
  USER_URI_PREFIX,
  VALID_DAYS_MAX,
  isValidHost,
  isValidUserName,
} from "./certificate-policy.js";

/** A certificate with its private key, both PEM: what one party presents in a TLS handshake. */
export interface PemCredential {
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * How far before `nowMs` a certificate becomes valid: a node whose clock is a little behind the
 * machine that issued the certificate still accepts it.
 */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** ECDSA over P-256 with SHA-256: short keys, fast handshakes, accepted by every TLS stack. */
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const CRYPTO = webcrypto;

/** Options shared by every certificate this module makes. */
export interface ValidityOptions {
  /** Wall-clock milliseconds since the epoch: when the certificate is made. */
  readonly nowMs: number;
  /** Days from `nowMs` until the certificate expires. */
  readonly validDays?: number;
}

/** Creates a cluster CA: a fresh key and a self-signed certificate that may sign leaves only. */
export async function createClusterCa(
  options: ValidityOptions & { readonly commonName?: string },
): Promise<PemCredential> {
  const keys = await generateKeys();
  const serialNumber = randomSerial();
  // The serial in the name tells two clusters' CAs apart in error messages and `openssl x509`.
  const name = `CN=${options.commonName ?? `dkv cluster CA ${serialNumber.slice(0, 8)}`}`;
  const validity = validityOf(options, CA_VALID_DAYS_DEFAULT);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber,
      name,
      ...validity,
      keys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        // pathLength 0: the CA signs node and client certificates, never another CA.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, CRYPTO),
      ],
    },
    CRYPTO,
  );
  return { certPem: certificate.toString("pem"), keyPem: await exportKeyPem(keys.privateKey) };
}

/** What a node certificate names. */
export interface NodeCertificateOptions extends ValidityOptions {
  readonly nodeId: NodeId;
  /**
   * Host names and IP addresses the node is reached at, for the standard TLS host check of
   * clients that dial an address (`127.0.0.1`, `localhost`, `db1.example.com`).
   */
  readonly hosts: readonly string[];
}

/**
 * Issues a node certificate signed by `ca`: its SAN names the node (`URI:dkv:node:<id>`) and its
 * hosts; it serves TLS and authenticates as a client to other nodes (both extended key usages).
 */
export async function issueNodeCertificate(
  ca: PemCredential,
  options: NodeCertificateOptions,
): Promise<PemCredential> {
  if (!isValidNodeId(options.nodeId)) {
    throw new Error(`invalid node id ${JSON.stringify(options.nodeId)}`);
  }
  const names: x509.JsonGeneralName[] = [{ type: "url", value: NODE_URI_PREFIX + options.nodeId }];
  for (const host of options.hosts) {
    if (!isValidHost(host)) throw new Error(`invalid host ${JSON.stringify(host)}`);
    names.push({ type: isIP(host) === 0 ? "dns" : "ip", value: host });
  }
  return issueLeaf(ca, `CN=${options.nodeId}`, names, options, [
    x509.ExtendedKeyUsage.serverAuth,
    x509.ExtendedKeyUsage.clientAuth,
  ]);
}

/** Issues a client certificate signed by `ca` naming `user` (`URI:dkv:user:<name>`). */
export async function issueClientCertificate(
  ca: PemCredential,
  options: ValidityOptions & { readonly user: string },
): Promise<PemCredential> {
  if (!isValidUserName(options.user)) {
    throw new Error(`invalid user name ${JSON.stringify(options.user)}`);
  }
  const names: x509.JsonGeneralName[] = [{ type: "url", value: USER_URI_PREFIX + options.user }];
  // clientAuth only: a user's certificate cannot serve as a node's.
  return issueLeaf(ca, `CN=${options.user}`, names, options, [x509.ExtendedKeyUsage.clientAuth]);
}

async function issueLeaf(
  ca: PemCredential,
  subject: string,
  names: x509.JsonGeneralName[],
  options: ValidityOptions,
  usages: readonly string[],
): Promise<PemCredential> {
  const caCertificate = checkedCa(ca);
  const caKey = await CRYPTO.subtle.importKey("pkcs8", pemBody(ca.keyPem), ALGORITHM, false, [
    "sign",
  ]);
  const keys = await generateKeys();
  const validity = validityOf(options, LEAF_VALID_DAYS_DEFAULT);
  if (validity.notAfter.getTime() > caCertificate.notAfter.getTime()) {
    throw new Error(
      `the certificate would outlive its CA (CA expires ${caCertificate.notAfter.toISOString()})`,
    );
  }
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject,
      issuer: caCertificate.subject,
      ...validity,
      signingKey: caKey,
      publicKey: keys.publicKey,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([...usages], false),
        new x509.SubjectAlternativeNameExtension(names, false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, CRYPTO),
        await x509.AuthorityKeyIdentifierExtension.create(caCertificate, false, CRYPTO),
      ],
    },
    CRYPTO,
  );
  return { certPem: certificate.toString("pem"), keyPem: await exportKeyPem(keys.privateKey) };
}

/** Parses the CA and checks that it can sign: a CA certificate whose key is the one given. */
function checkedCa(ca: PemCredential): x509.X509Certificate {
  const native = new X509Certificate(ca.certPem);
  if (!native.ca) throw new Error(`${native.subject} is not a CA certificate`);
  if (!native.checkPrivateKey(createPrivateKey(ca.keyPem))) {
    throw new Error("the CA key does not belong to the CA certificate");
  }
  return new x509.X509Certificate(ca.certPem);
}

function validityOf(
  options: ValidityOptions,
  defaultDays: number,
): { notBefore: Date; notAfter: Date } {
  const days = options.validDays ?? defaultDays;
  if (!Number.isInteger(days) || days < 1 || days > VALID_DAYS_MAX) {
    throw new Error(`validity must be 1 to ${VALID_DAYS_MAX} days, got ${days}`);
  }
  if (!Number.isFinite(options.nowMs)) throw new Error(`invalid time ${options.nowMs}`);
  return {
    notBefore: new Date(options.nowMs - CLOCK_SKEW_MS),
    notAfter: new Date(options.nowMs + days * DAY_MS),
  };
}

function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return CRYPTO.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await CRYPTO.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

/** The DER bytes of the first block of a PEM text (a PKCS #8 key here). */
function pemBody(pem: string): ArrayBuffer {
  const [first] = x509.PemConverter.decode(pem);
  if (first === undefined) throw new Error("no PEM block in the CA key");
  return first;
}

/**
 * 16 random bytes with the top bit clear: a positive serial (RFC 5280 §4.1.2.2, at most 20
 * octets) that no two certificates of one CA share.
 */
function randomSerial(): string {
  const bytes = CRYPTO.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}
