// Goal: mutual TLS from a credentials directory: members connect and are named by their
// certificates, strangers are refused, and certificates rotate under a stream of calls with none
// failing: open connections keep the old certificate, new ones get the new certificate.
// Method: a grpc-js server on 127.0.0.1 port 0 with a one-method service that reports what
// call.getAuthContext() shows, and real clients with certificates from this CA, another CA or none.

import * as grpc from "@grpc/grpc-js";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_CLOCK } from "../../../../node/clock.js";
import { nodeId } from "../../../../node/core/node-id.js";
import {
  createClusterCa,
  issueNodeCertificate,
  type PemCredential,
} from "../../../../node/security/certificates.js";
import {
  caFiles,
  clientCredentialFiles,
  nodeCredentialFiles,
  writeCredential,
} from "../../../../node/security/credential-files.js";
import { identityOfPeer, type PeerIdentity } from "../../../../node/security/peer-identity.js";
import {
  ReloadingCertificateProvider,
  tlsChannelCredentials,
  tlsServerCredentials,
  type ClientCertificates,
  type ReloadResult,
} from "../../../../node/security/tls-credentials.js";
import { PATH, SERVICE, same, writeTestCredentials } from "./peer-service.js";

const n1 = nodeId("n1");
const n2 = nodeId("n2");

interface Seen {
  /** Who the server says called, and the serial of the client certificate it saw. */
  identity: PeerIdentity;
  clientSerial: string | null;
  /** The server certificate the client saw. */
  serverFingerprint: string | undefined;
}

const dir = mkdtempSync(path.join(tmpdir(), "dkv-tls-"));
const nowMs = (): number => SYSTEM_CLOCK.nowMs();
let ca: PemCredential;
let servers: { server: grpc.Server; address: string }[] = [];
let providers: ReloadingCertificateProvider[] = [];
let clients: grpc.Client[] = [];

async function provider(files = nodeCredentialFiles(dir, n1), expectNodeId = n1) {
  const opened = await ReloadingCertificateProvider.open(files, {
    clock: SYSTEM_CLOCK,
    expectNodeId,
  });
  providers.push(opened);
  return opened;
}

async function startServer(
  credentials: ReloadingCertificateProvider,
  clientCertificates: ClientCertificates = "require",
): Promise<string> {
  const server = new grpc.Server();
  server.addService(SERVICE, {
    WhoAmI: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
      const certificate = call.getAuthContext().sslPeerCertificate;
      const body = {
        identity: identityOfPeer(certificate),
        clientSerial: certificate?.serialNumber ?? null,
      };
      done(null, Buffer.from(JSON.stringify(body)));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      tlsServerCredentials(credentials, clientCertificates),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  const address = `127.0.0.1:${port}`;
  servers.push({ server, address });
  return address;
}

/** A client on its own subchannel pool: its connection is its own, never shared. */
function client(address: string, credentials: grpc.ChannelCredentials): grpc.Client {
  const made = new grpc.Client(address, credentials, { "grpc.use_local_subchannel_pool": 1 });
  clients.push(made);
  return made;
}

function whoAmI(caller: grpc.Client): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const call = caller.makeUnaryRequest(
      PATH,
      same,
      same,
      Buffer.alloc(0),
      { deadline: nowMs() + 5_000 },
      (error, reply) => {
        if (error !== null || reply === undefined) {
          reject(error ?? new Error("no reply"));
          return;
        }
        const body = JSON.parse(reply.toString("utf8")) as Omit<Seen, "serverFingerprint">;
        const server = call.getAuthContext()?.sslPeerCertificate;
        resolve({ ...body, serverFingerprint: server?.fingerprint256 });
      },
    );
  });
}

async function issueNode(id = n1): Promise<PemCredential> {
  return issueNodeCertificate(ca, { nodeId: id, hosts: ["127.0.0.1"], nowMs: nowMs() });
}

function fingerprintOf(credential: PemCredential): string {
  return new X509Certificate(credential.certPem).fingerprint256;
}

beforeAll(async () => {
  ca = await writeTestCredentials(dir);
});

afterAll(async () => {
  for (const made of clients) made.close();
  for (const opened of providers) opened.close();
  await Promise.all(
    servers.map(
      ({ server }) => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    ),
  );
  rmSync(dir, { recursive: true, force: true });
});

describe("mutual TLS", () => {
  let address: string;
  let member: ReloadingCertificateProvider;

  beforeAll(async () => {
    address = await startServer(await provider());
    member = await provider(nodeCredentialFiles(dir, n2), n2);
  });

  it("lets a member in and tells the server its node id", async () => {
    const seen = await whoAmI(client(address, tlsChannelCredentials(member)));
    expect(seen.identity).toEqual({ kind: "node", nodeId: "n2" });
    expect(seen.clientSerial).toBe(member.current.ok ? member.current.serialNumber : "");
  });

  it("tells the server a user's name from a client certificate", async () => {
    const alice = await ReloadingCertificateProvider.open(clientCredentialFiles(dir, "alice"), {
      clock: SYSTEM_CLOCK,
    });
    const seen = await whoAmI(client(address, tlsChannelCredentials(alice, n1)));
    expect(seen.identity).toEqual({ kind: "user", user: "alice" });
  });

  it("refuses a client whose certificate another CA signed, and one with none", async () => {
    const otherCa = await createClusterCa({ nowMs: nowMs() });
    const stranger = await issueNodeCertificate(otherCa, { nodeId: n2, hosts: [], nowMs: nowMs() });
    const caPem = Buffer.from(ca.certPem);
    const foreign = grpc.credentials.createSsl(
      caPem,
      Buffer.from(stranger.keyPem),
      Buffer.from(stranger.certPem),
    );
    const anonymous = grpc.credentials.createSsl(caPem);
    for (const credentials of [foreign, anonymous]) {
      await expect(whoAmI(client(address, credentials))).rejects.toMatchObject({
        code: grpc.status.UNAVAILABLE,
      });
    }
  });

  it("refuses a server that does not prove the node id the client expects", async () => {
    await expect(whoAmI(client(address, tlsChannelCredentials(member, n2)))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringMatching(/server certificate names node n1, not n2/),
    });
    const seen = await whoAmI(client(address, tlsChannelCredentials(member, n1)));
    expect(seen.identity).toEqual({ kind: "node", nodeId: "n2" });
  });

  it("lets an anonymous client in where certificates are only requested", async () => {
    const open = await startServer(await provider(), "request");
    const anonymous = grpc.credentials.createSsl(Buffer.from(ca.certPem));
    const seen = await whoAmI(client(open, anonymous));
    expect(seen.identity).toEqual({ kind: "anonymous", reason: "no verified client certificate" });
    expect((await whoAmI(client(open, tlsChannelCredentials(member)))).identity.kind).toBe("node");
  });
});

describe("rotation", () => {
  it("serves a new certificate to new connections while a busy channel keeps working", async () => {
    const serving = await provider();
    const address = await startServer(serving);
    const member = await provider(nodeCredentialFiles(dir, n2), n2);
    const busy = client(address, tlsChannelCredentials(member, n1));
    const before = await whoAmI(busy);
    expect(before.serverFingerprint).toBe(serving.current.ok && serving.current.fingerprint256);

    // Four callers back to back for the whole rotation; every call must succeed.
    let rotated = false;
    let calls = 0;
    const callers = [0, 1, 2, 3].map(async () => {
      let afterRotation = 0;
      while (afterRotation < 25) {
        await whoAmI(busy);
        calls += 1;
        if (rotated) afterRotation += 1;
      }
    });
    const next = await issueNode(n1);
    await writeCredential(nodeCredentialFiles(dir, n1), next);
    const result = await serving.reload();
    rotated = true;
    await Promise.all(callers);
    expect(result).toMatchObject({ ok: true, changed: true, fingerprint256: fingerprintOf(next) });
    expect(calls).toBeGreaterThanOrEqual(100);

    // The busy channel still rides its first connection; a new one gets the new certificate.
    expect((await whoAmI(busy)).serverFingerprint).toBe(before.serverFingerprint);
    const fresh = await whoAmI(client(address, tlsChannelCredentials(member, n1)));
    expect(fresh.serverFingerprint).toBe(fingerprintOf(next));
    expect(fresh.serverFingerprint).not.toBe(before.serverFingerprint);
  });

  it("presents a rotated client certificate on the client's next connection", async () => {
    const address = await startServer(await provider());
    const member = await provider(nodeCredentialFiles(dir, n2), n2);
    const first = await whoAmI(client(address, tlsChannelCredentials(member)));
    const next = await issueNode(n2);
    await writeCredential(nodeCredentialFiles(dir, n2), next);
    expect((await member.reload()).ok).toBe(true);
    const second = await whoAmI(client(address, tlsChannelCredentials(member)));
    expect(second.clientSerial).toBe(new X509Certificate(next.certPem).serialNumber);
    expect(second.clientSerial).not.toBe(first.clientSerial);
  });

  it("keeps serving the last good set when a reload finds a half-written one", async () => {
    const serving = await provider();
    const address = await startServer(serving);
    const member = await provider(nodeCredentialFiles(dir, n2), n2);
    const served = serving.current.ok && serving.current.fingerprint256;
    const next = await issueNode(n1);
    // The key is written first: a reload now sees the new key with the old certificate.
    await writeCredential(
      { certFile: path.join(dir, "unused.crt"), keyFile: nodeCredentialFiles(dir, n1).keyFile },
      next,
    );
    expect(await serving.reload()).toEqual({
      ok: false,
      reason: "the key does not match the certificate",
    });
    const during = await whoAmI(client(address, tlsChannelCredentials(member, n1)));
    expect(during.serverFingerprint).toBe(served);

    await writeCredential(nodeCredentialFiles(dir, n1), next);
    expect(await serving.reload()).toMatchObject({ ok: true, changed: true });
    expect(await serving.reload()).toMatchObject({ ok: true, changed: false });
  });

  it("refuses to serve another node's certificate, or none", async () => {
    const wrong = { ...nodeCredentialFiles(dir, n2), caFile: caFiles(dir).certFile };
    await expect(provider(wrong, n1)).rejects.toThrow(/names node n2, not n1/);
    const missing = nodeCredentialFiles(dir, nodeId("n9"));
    await expect(provider(missing, nodeId("n9"))).rejects.toThrow(/ENOENT/);
  });

  it("picks up new files by itself when watching", async () => {
    const results: ReloadResult[] = [];
    const watched = await ReloadingCertificateProvider.open(nodeCredentialFiles(dir, n1), {
      clock: SYSTEM_CLOCK,
      expectNodeId: n1,
      onReload: (result) => results.push(result),
    });
    providers.push(watched);
    watched.watch(20);
    const next = await issueNode(n1);
    await writeCredential(nodeCredentialFiles(dir, n1), next);
    await expect
      .poll(() => watched.current.ok && watched.current.fingerprint256, { timeout: 2_000 })
      .toBe(fingerprintOf(next));
    expect(results.filter((result) => result.ok && result.changed)).toHaveLength(2);
  });
});
