// The identity a call's TLS connection proves, read once per connection instead of once per call.
// grpc-js's getAuthContext() asks the socket for a fresh PeerCertificate on every call (subject,
// issuer, three fingerprints, a copy of the DER) and identityOfPeer then parses the DER: on the
// coordinator of a 400 ops/s load that was 5.2% of its busy time (51 µs per call), the largest
// single function after the garbage collector. So the identity is read at a connection's first
// call and kept with its HTTP/2 session, dropped with it. TLS 1.3 has no renegotiation; a TLS 1.2
// client that renegotiates can only present another certificate it proves it holds, as it could
// on a new connection, so the kept identity is always one the peer proved. Membership and grants
// are still checked on every call.

import type * as grpc from "@grpc/grpc-js";
import { identityOfPeer, type PeerIdentity } from "./peer-identity.js";

/** Identities by HTTP/2 session; a closed session is collected with its entry. */
const bySession = new WeakMap<object, PeerIdentity>();

/** Interceptor layers walked at most looking for grpc-js's base call. */
const LAYERS_MAX = 16;

/**
 * The HTTP/2 session a server call arrived on, found in grpc-js's interceptor chain (each
 * interceptor's call wraps the next in `nextCall`, down to the base call that holds `stream`).
 * Not public API: undefined when a grpc-js version is shaped otherwise, and then every call
 * reads its certificate as before (connection-identity.test.ts fails on the pinned version if
 * the shape changes, so an upgrade cannot lose this quietly).
 */
export function sessionOfCall(call: grpc.ServerInterceptingCallInterface): object | undefined {
  let layer: unknown = call;
  for (let depth = 0; depth < LAYERS_MAX; depth++) {
    if (typeof layer !== "object" || layer === null) return undefined;
    const stream: unknown = Reflect.get(layer, "stream");
    if (typeof stream === "object" && stream !== null) {
      const session: unknown = Reflect.get(stream, "session");
      return typeof session === "object" && session !== null ? session : undefined;
    }
    layer = Reflect.get(layer, "nextCall");
  }
  return undefined;
}

/** Who is calling, by the certificate the TLS handshake of the call's connection verified. */
export function connectionIdentity(call: grpc.ServerInterceptingCallInterface): PeerIdentity {
  const session = sessionOfCall(call);
  const known = session === undefined ? undefined : bySession.get(session);
  if (known !== undefined) return known;
  const identity = identityOfPeer(call.getAuthContext().sslPeerCertificate);
  if (session !== undefined) bySession.set(session, identity);
  return identity;
}
