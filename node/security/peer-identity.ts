// Who is at the other end of a TLS connection, read from the certificate the handshake verified:
// a node (its SAN names `dkv:node:<id>`), a user (`dkv:user:<name>`), or anonymous. Pure but for
// a bounded cache: parsing a certificate costs about 2 ms, a call far less.

// @peculiar/x509 needs the Reflect metadata API before it loads (see certificates.ts).
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { PeerCertificate } from "node:tls";
import { isValidNodeId, type NodeId } from "../core/node-id.js";
import { PEER_IDENTITIES_CACHED_MAX } from "../core/limits.js";

/** The URI SAN prefix that names a node: `dkv:node:n1`. */
export const NODE_URI_PREFIX = "dkv:node:";
/** The URI SAN prefix that names a user: `dkv:user:alice`. */
export const USER_URI_PREFIX = "dkv:user:";

/** The identity a verified certificate proves. */
export type PeerIdentity =
  | { readonly kind: "node"; readonly nodeId: NodeId }
  | { readonly kind: "user"; readonly user: string }
  | { readonly kind: "anonymous"; readonly reason: string };

/** 1..64 characters of `[A-Za-z0-9_.@-]`: safe in a URI, a file name, a log line. */
export function isValidUserName(name: string): boolean {
  return /^[A-Za-z0-9_.@-]{1,64}$/.test(name);
}

/**
 * The identity a DER certificate names. A certificate must name exactly one dkv identity: one
 * that names two (a node and a user, or two nodes) is anonymous, never the first of them. It
 * proves nothing by itself: pass only a certificate the TLS handshake verified.
 */
export function identityOfCertificate(der: Uint8Array): PeerIdentity {
  let uris: string[];
  try {
    const san = new x509.X509Certificate(der).getExtension(x509.SubjectAlternativeNameExtension);
    uris = (san?.names.toJSON() ?? [])
      .filter((name) => name.type === "url" && name.value.startsWith("dkv:"))
      .map((name) => name.value);
  } catch (error: unknown) {
    return { kind: "anonymous", reason: `unreadable certificate: ${String(error)}` };
  }
  if (uris.length !== 1) {
    return { kind: "anonymous", reason: `certificate names ${uris.length} dkv identities` };
  }
  const uri = uris[0] ?? "";
  if (uri.startsWith(NODE_URI_PREFIX)) {
    const id = uri.slice(NODE_URI_PREFIX.length);
    if (isValidNodeId(id)) return { kind: "node", nodeId: id as NodeId };
  } else if (uri.startsWith(USER_URI_PREFIX)) {
    const user = uri.slice(USER_URI_PREFIX.length);
    if (isValidUserName(user)) return { kind: "user", user };
  }
  return { kind: "anonymous", reason: `certificate names a malformed identity ${uri}` };
}

/** The node id a DER certificate names, or undefined when it names no node. */
export function nodeIdOfCertificate(der: Uint8Array): NodeId | undefined {
  const identity = identityOfCertificate(der);
  return identity.kind === "node" ? identity.nodeId : undefined;
}

/** True when the DER certificate names exactly the node `nodeId`. */
export function certificateNamesNode(der: Uint8Array, nodeId: NodeId): boolean {
  return nodeIdOfCertificate(der) === nodeId;
}

/**
 * Identities of peer certificates, each parsed once. Feed it what grpc-js reports:
 * `identities.of(call.getAuthContext().sslPeerCertificate)`. grpc-js gives a peer certificate
 * only when the TLS handshake verified it against the CA, so an identity here is proven.
 */
export class PeerIdentities {
  /** Keyed by the SHA-256 fingerprint; Map order is insertion order, so the first is oldest. */
  readonly #cache = new Map<string, PeerIdentity>();
  readonly #capacity: number;

  constructor(capacity: number = PEER_IDENTITIES_CACHED_MAX) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`bad capacity ${capacity}`);
    this.#capacity = capacity;
  }

  /** The identity of a verified peer certificate; anonymous when there is none. */
  of(certificate: PeerCertificate | undefined): PeerIdentity {
    if (certificate?.raw === undefined) {
      return { kind: "anonymous", reason: "no verified client certificate" };
    }
    const key = certificate.fingerprint256;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const identity = identityOfCertificate(certificate.raw);
    if (this.#cache.size >= this.#capacity) {
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    this.#cache.set(key, identity);
    return identity;
  }

  /** How many identities are cached (for tests and metrics). */
  get size(): number {
    return this.#cache.size;
  }
}
