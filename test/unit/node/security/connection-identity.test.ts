// Goal: a server reads a connection's verified certificate once, not on every call, and still
// names every connection by its own certificate. Method: a grpc-js server on 127.0.0.1 port 0
// with mutual TLS and two interceptors (the identity is asked for under the outer one, as the
// call guard is installed among others); real clients with a node's and a user's certificates;
// the server sockets' getPeerCertificate calls counted. It fails if grpc-js (pinned) changes the
// shape connection-identity.ts walks, so an upgrade cannot quietly bring back the per-call cost.

import * as grpc from "@grpc/grpc-js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SYSTEM_CLOCK } from "../../../../node/clock.js";
import { nodeId } from "../../../../node/core/node-id.js";
import {
  clientCredentialFiles,
  nodeCredentialFiles,
} from "../../../../node/security/credential-files.js";
import {
  connectionIdentity,
  sessionOfCall,
} from "../../../../node/security/connection-identity.js";
import type { PeerIdentity } from "../../../../node/security/peer-identity.js";
import {
  ReloadingCertificateProvider,
  tlsChannelCredentials,
  tlsServerCredentials,
} from "../../../../node/security/tls-credentials.js";
import { PATH, SERVICE, same, writeTestCredentials } from "./peer-service.js";

const n1 = nodeId("n1");
const n2 = nodeId("n2");

const dir = mkdtempSync(path.join(tmpdir(), "dkv-conn-id-"));
const providers: ReloadingCertificateProvider[] = [];
const clients: grpc.Client[] = [];
let server: grpc.Server;
let port = 0;
/** The identity the interceptor saw for each call, in order, and whether it found a session. */
const seen: { identity: PeerIdentity; session: boolean }[] = [];

async function open(files: ReturnType<typeof nodeCredentialFiles>, expectNodeId?: typeof n1) {
  const opened = await ReloadingCertificateProvider.open(files, {
    clock: SYSTEM_CLOCK,
    ...(expectNodeId === undefined ? {} : { expectNodeId }),
  });
  providers.push(opened);
  return opened;
}

function whoAmI(caller: grpc.Client): Promise<void> {
  return new Promise((resolve, reject) => {
    caller.makeUnaryRequest(
      PATH,
      same,
      same,
      Buffer.alloc(0),
      { deadline: SYSTEM_CLOCK.nowMs() + 5_000 },
      (error) => (error === null ? resolve() : reject(error)),
    );
  });
}

beforeAll(async () => {
  await writeTestCredentials(dir);
  const outer: grpc.ServerInterceptor = (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        seen.push({
          identity: connectionIdentity(call),
          session: sessionOfCall(call) !== undefined,
        });
        next();
      },
    });
  const inner: grpc.ServerInterceptor = (_method, call) => new grpc.ServerInterceptingCall(call);
  server = new grpc.Server({ interceptors: [inner, outer] });
  server.addService(SERVICE, {
    WhoAmI: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) =>
      done(null, Buffer.alloc(0)),
  });
  const credentials = tlsServerCredentials(await open(nodeCredentialFiles(dir, n1), n1), "require");
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", credentials, (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
});

afterAll(async () => {
  for (const made of clients) made.close();
  for (const opened of providers) opened.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

async function clientWith(files: ReturnType<typeof nodeCredentialFiles>): Promise<grpc.Client> {
  const credentials = tlsChannelCredentials(await open(files), n1);
  const made = new grpc.Client(`127.0.0.1:${port}`, credentials, {
    "grpc.use_local_subchannel_pool": 1,
  });
  clients.push(made);
  return made;
}

describe("a connection's identity", () => {
  it("is read from its certificate once, and each connection is named by its own", async () => {
    const reads = vi.spyOn(TLSSocket.prototype, "getPeerCertificate");
    const serverReads = (): number =>
      reads.mock.contexts.filter((socket) => (socket as TLSSocket).localPort === port).length;
    try {
      const node = await clientWith(nodeCredentialFiles(dir, n2));
      for (let call = 0; call < 5; call++) await whoAmI(node);
      expect(serverReads()).toBe(1);
      const user = await clientWith(clientCredentialFiles(dir, "alice"));
      await Promise.all([whoAmI(user), whoAmI(node), whoAmI(user)]);
      expect(serverReads()).toBe(2);
    } finally {
      reads.mockRestore();
    }
    expect(seen.every((call) => call.session)).toBe(true);
    const named = seen.map((call) => JSON.stringify(call.identity));
    const node = JSON.stringify({ kind: "node", nodeId: n2 });
    const user = JSON.stringify({ kind: "user", user: "alice" });
    expect(named.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => node));
    // The three calls of two connections at once arrive in any order.
    expect(named.slice(5).sort()).toEqual([node, user, user].sort());
  });
});
