// Goal: a connection's identity is read once at its handshake, found by the call's address
// tuple while the connection is open, and forgotten when it closes, never handed to a later
// connection that reuses the tuple; an unverified certificate proves nothing.
// Method: a stand-in server emitting 'secureConnection' with stand-in TLS sockets.

import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { EventEmitter } from "node:events";
import { webcrypto } from "node:crypto";
import type net from "node:net";
import { TLSSocket } from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import { PeerIdentities } from "../../../../node/security/peer-identities.js";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
let nodeCertificate: Buffer;

beforeAll(async () => {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
  const extensions = [
    new x509.SubjectAlternativeNameExtension([{ type: "url", value: "dkv:node:n2" }]),
  ];
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    { name: "CN=test", keys, signingAlgorithm: ALGORITHM, extensions },
    webcrypto,
  );
  nodeCertificate = Buffer.from(cert.rawData);
});

const TUPLE = {
  localAddress: "127.0.0.1",
  localPort: 7001,
  remoteAddress: "127.0.0.1",
  remotePort: 50_000,
};

/** A TLS socket as the server hands it over: its tuple, whether verified, its certificate. */
function fakeSocket(authorized: boolean, tuple = TUPLE): TLSSocket {
  const socket = Object.create(TLSSocket.prototype) as TLSSocket;
  EventEmitter.call(socket);
  for (const [name, value] of Object.entries({ ...tuple, authorized })) {
    Object.defineProperty(socket, name, { value });
  }
  Object.defineProperty(socket, "getPeerCertificate", {
    value: () => ({ raw: nodeCertificate }),
  });
  return socket;
}

function setup(): { identities: PeerIdentities; server: EventEmitter } {
  const identities = new PeerIdentities();
  const server = new EventEmitter();
  identities.attach(server as unknown as net.Server);
  return { identities, server };
}

describe("PeerIdentities", () => {
  it("knows a verified connection's identity until it closes", () => {
    const { identities, server } = setup();
    expect(identities.identityOf(TUPLE)).toBeUndefined();
    const socket = fakeSocket(true);
    server.emit("secureConnection", socket);
    expect(identities.identityOf(TUPLE)).toEqual({ kind: "node", nodeId: "n2" });
    expect(identities.identityOf({ ...TUPLE, remotePort: 50_001 })).toBeUndefined();
    socket.emit("close");
    expect(identities.identityOf(TUPLE)).toBeUndefined();
    expect(identities.size).toBe(0);
  });

  it("treats an unverified certificate as anonymous, as grpc-js does", () => {
    const { identities, server } = setup();
    server.emit("secureConnection", fakeSocket(false));
    expect(identities.identityOf(TUPLE)?.kind).toBe("anonymous");
  });

  it("keeps a later connection's identity when an earlier one on the same tuple closes late", () => {
    const { identities, server } = setup();
    const first = fakeSocket(false);
    server.emit("secureConnection", first);
    const second = fakeSocket(true);
    server.emit("secureConnection", second);
    first.emit("close");
    expect(identities.identityOf(TUPLE)).toEqual({ kind: "node", nodeId: "n2" });
  });
});
