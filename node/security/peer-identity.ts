// Who is at the other end of a TLS connection, read from the certificate the handshake verified:
// a node (its SAN names `dkv:node:<id>`), a user (`dkv:user:<name>`), or anonymous. Pure; a few
// microseconds per certificate, so a server may ask on every call.

import type { PeerCertificate } from "node:tls";
import { isValidNodeId, type NodeId } from "../core/node-id.js";
import { NODE_URI_PREFIX, USER_URI_PREFIX, isValidUserName } from "./certificate-policy.js";
import { uriSansOf } from "./certificate-uris.js";

/** The identity a verified certificate proves. */
export type PeerIdentity =
  | { readonly kind: "node"; readonly nodeId: NodeId }
  | { readonly kind: "user"; readonly user: string }
  | { readonly kind: "anonymous"; readonly reason: string };

/**
 * The identity a DER certificate names. A certificate must name exactly one dkv identity: one
 * that names two (a node and a user, or two nodes) is anonymous, never the first of them. It
 * proves nothing by itself: pass only a certificate the TLS handshake verified.
 */
export function identityOfCertificate(der: Uint8Array): PeerIdentity {
  const uris = uriSansOf(der)?.filter((uri) => uri.startsWith("dkv:"));
  if (uris === undefined) return { kind: "anonymous", reason: "unreadable certificate" };
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

/**
 * The identity of the peer certificate grpc-js reports:
 * `identityOfPeer(call.getAuthContext().sslPeerCertificate)`. grpc-js gives one only when the
 * TLS handshake verified it against the CA, so an identity here is proven.
 */
export function identityOfPeer(certificate: PeerCertificate | undefined): PeerIdentity {
  if (certificate?.raw === undefined) {
    return { kind: "anonymous", reason: "no verified client certificate" };
  }
  return identityOfCertificate(certificate.raw);
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
