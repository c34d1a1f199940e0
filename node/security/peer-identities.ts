// The identity of each open TLS connection to a node, read once when its handshake completes,
// so that the call guard does not ask the socket for its peer certificate (an object built and
// a DER parsed again) on every call. Calls find their connection by its address tuple.

import type net from "node:net";
import { TLSSocket } from "node:tls";
import { identityOfPeer, type PeerIdentity } from "./peer-identity.js";

/** The address tuple grpc-js reports for a call (`call.getConnectionInfo()`). */
export interface ConnectionTuple {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

/**
 * Identities of the open connections of every server attached, keyed by their address tuple
 * (unique among open TCP connections). An entry is made at 'secureConnection', before the
 * connection can carry a call, and removed at 'close', so a tuple reused by a later connection
 * never finds its predecessor's identity. The certificate cannot change on a connection:
 * HTTP/2 forbids TLS renegotiation (RFC 7540 §9.2.1), and TLS 1.3 has none.
 */
export class PeerIdentities {
  readonly #byTuple = new Map<string, PeerIdentity>();

  /** Open connections known. */
  get size(): number {
    return this.#byTuple.size;
  }

  /** Watches `server`'s TLS connections (a `tls.Server`, as http2.createSecureServer makes). */
  attach(server: net.Server): void {
    server.on("secureConnection", (socket: TLSSocket) => this.#connected(socket));
  }

  /**
   * The identity of the connection a call came on; undefined when it is not known here (the
   * caller then asks the call itself, as before).
   */
  identityOf(tuple: ConnectionTuple): PeerIdentity | undefined {
    return this.#byTuple.get(keyOf(tuple));
  }

  #connected(socket: TLSSocket): void {
    if (!(socket instanceof TLSSocket)) return;
    const key = keyOf(socket);
    // As grpc-js getAuthContext: a certificate counts only when the handshake verified it.
    const identity = identityOfPeer(socket.authorized ? socket.getPeerCertificate() : undefined);
    this.#byTuple.set(key, identity);
    socket.once("close", () => {
      if (this.#byTuple.get(key) === identity) this.#byTuple.delete(key);
    });
  }
}

function keyOf(tuple: ConnectionTuple): string {
  return `${tuple.localAddress ?? "?"}|${tuple.localPort ?? "?"}|${tuple.remoteAddress ?? "?"}|${tuple.remotePort ?? "?"}`;
}
