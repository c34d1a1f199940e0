// Every door of a TLS node is locked: the methods a node serves are listed from its reflection
// service, and each one refuses an anonymous caller; a certificate of another CA, an expired
// one, a node that is not a member, a user without grants and a forged dkv-from header are
// refused too; the bootstrap admin and the members get through; a plaintext client cannot talk
// to a TLS node; and keys written first still read back intact.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import path from "node:path";
import { execFile } from "node:child_process";
import { MAIN_SCRIPT, TestCluster } from "./local-cluster-harness.js";
import { certDirOf } from "../../cli/local-credentials.js";
import { loadProto } from "../../proto/load-proto.js";
import { methodsWithRules } from "../../node/security/call-rules.js";
import {
  INSECURE_CLIENT,
  tlsClient,
  type ClientCredentialsPem,
  type ClientSecurity,
} from "../../node/security/client-security.js";
import { caFiles, readCredential } from "../../node/security/credential-files.js";
import type { PemCredential } from "../../node/security/certificates.js";
import { nodeId } from "../../node/core/node-id.js";
import { DkvClient } from "../../coordinator/client.js";

let cluster: TestCluster;
let admin: DkvClient;
let ca: PemCredential;
let certificates: typeof import("../../node/security/certificates.js");
const KEYS = 20;

beforeAll(async () => {
  cluster = await TestCluster.start({ nodes: 3 });
  admin = cluster.client("n1");
  for (let index = 0; index < KEYS; index++) {
    await admin.put(`kept-${index}`, `value ${index}`, { w: 3 });
  }
  ca = await readCredential(caFiles(path.resolve(certDirOf(cluster.dir))));
  certificates = await import("../../node/security/certificates.js");
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Calls `method` once with an empty request message; resolves with the status it ended with. */
function callOnce(
  security: ClientSecurity,
  method: string,
  kind: { requestStream: boolean; responseStream: boolean },
  metadata = new grpc.Metadata(),
): Promise<{ code: number; details: string }> {
  const address = cluster.spec("n1").address;
  const secured = security.channel(address);
  const client = new grpc.Client(address, secured.credentials, secured.options);
  const pass = (bytes: Buffer): Buffer => bytes;
  const deadline = Date.now() + 5000;
  return new Promise((resolve) => {
    const done = (error: grpc.ServiceError | null): void => {
      client.close();
      resolve({ code: error?.code ?? grpc.status.OK, details: error?.details ?? "" });
    };
    if (!kind.requestStream && !kind.responseStream) {
      client.makeUnaryRequest(method, pass, pass, Buffer.alloc(0), metadata, { deadline }, done);
      return;
    }
    if (kind.requestStream && !kind.responseStream) {
      const call = client.makeClientStreamRequest(method, pass, pass, metadata, { deadline }, done);
      call.write(Buffer.alloc(0));
      call.end();
      return;
    }
    const stream = kind.requestStream
      ? client.makeBidiStreamRequest(method, pass, pass, metadata, { deadline })
      : client.makeServerStreamRequest(method, pass, pass, Buffer.alloc(0), metadata, {
          deadline,
        });
    stream.on("data", () => undefined);
    stream.on("status", (status: grpc.StatusObject) =>
      done(status.code === grpc.status.OK ? null : (status as unknown as grpc.ServiceError)),
    );
    stream.on("error", () => undefined);
    if (kind.requestStream) {
      (stream as grpc.ClientDuplexStream<Buffer, Buffer>).write(Buffer.alloc(0));
      (stream as grpc.ClientDuplexStream<Buffer, Buffer>).end();
    }
  });
}

/** The methods the node serves, by path, from its reflection service (asked as admin). */
async function servedMethods(): Promise<string[]> {
  const services = await reflectionServices(cluster.security);
  const { definition } = loadProto();
  const known = new Map<string, string[]>();
  for (const [name, entry] of Object.entries(definition)) {
    if (typeof entry !== "object" || entry === null || "format" in entry) continue;
    const methods = Object.values(entry as Record<string, { path: string }>).map((m) => m.path);
    known.set(name, methods);
  }
  known.set("grpc.health.v1.Health", [
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
  ]);
  known.set("grpc.reflection.v1.ServerReflection", [
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  ]);
  known.set("grpc.reflection.v1alpha.ServerReflection", [
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
  ]);
  return services.flatMap((service) => {
    const methods = known.get(service);
    if (methods === undefined) throw new Error(`reflection lists ${service}, which no test knows`);
    return methods;
  });
}

function reflectionServices(security: ClientSecurity): Promise<string[]> {
  const address = cluster.spec("n1").address;
  const secured = security.channel(address);
  const client = new grpc.Client(address, secured.credentials, secured.options);
  // ServerReflectionRequest { list_services = 7 } and the names in
  // ServerReflectionResponse { list_services_response = 6 { service = 1 { name = 1 } } }.
  const request = Buffer.from([0x3a, 0x00]);
  return new Promise((resolve, reject) => {
    const stream = client.makeBidiStreamRequest(
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
    );
    stream.on("data", (reply: Buffer) => {
      resolve(
        [...reply.toString("latin1").matchAll(/[a-z][a-z0-9_]*(?:\.[A-Za-z0-9_]+)+/g)].map(
          (m) => m[0],
        ),
      );
      stream.end();
      client.close();
    });
    stream.on("error", (error) => {
      client.close();
      reject(error);
    });
    stream.write(request);
  });
}

function kindOf(method: string): { requestStream: boolean; responseStream: boolean } {
  const { definition } = loadProto();
  for (const entry of Object.values(definition)) {
    const found = Object.values(entry as Record<string, unknown>).find(
      (candidate) => (candidate as { path?: string }).path === method,
    ) as { requestStream: boolean; responseStream: boolean } | undefined;
    if (found !== undefined) return found;
  }
  if (method.includes("ServerReflection")) return { requestStream: true, responseStream: true };
  if (method.endsWith("/Watch")) return { requestStream: false, responseStream: true };
  return { requestStream: false, responseStream: false };
}

/** TLS trusting the cluster CA, presenting `credential` (none: anonymous). */
function clientWith(credential?: PemCredential, token?: string): ClientSecurity {
  const pem: ClientCredentialsPem = {
    ca: ca.certPem,
    ...(credential === undefined ? {} : { cert: credential.certPem, key: credential.keyPem }),
    ...(token === undefined ? {} : { token }),
  };
  return tlsClient(pem);
}

describe("a TLS cluster", () => {
  it("has an access rule for every method it serves, and refuses each to an anonymous caller", async () => {
    const served = await servedMethods();
    expect(served).toContain("/dkv.v1.Replica/Put");
    expect(served).toContain("/dkv.v1.AntiEntropy/Reap");
    const rules = new Set(methodsWithRules());
    expect(served.filter((method) => !rules.has(method))).toEqual([]);
    const anonymous = clientWith();
    for (const method of served) {
      const result = await callOnce(anonymous, method, kindOf(method));
      if (method.startsWith("/grpc.health.v1.Health/")) {
        expect([grpc.status.OK, grpc.status.DEADLINE_EXCEEDED], method).toContain(result.code);
        continue;
      }
      expect(result.code, `${method}: ${result.details}`).toBe(grpc.status.UNAUTHENTICATED);
      expect(result.details).toMatch(/client certificate or a bearer token/);
    }
  }, 60_000);

  it("refuses a token it does not know, and a malformed authorization header", async () => {
    const unknown = await callOnce(clientWith(undefined, "dkv_nosuchtoken"), "/dkv.v1.KV/Get", {
      requestStream: false,
      responseStream: false,
    });
    expect(unknown.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(unknown.details).toMatch(/unknown or revoked token/);
    const metadata = new grpc.Metadata();
    metadata.set("authorization", "Basic abc");
    const malformed = await callOnce(
      clientWith(),
      "/dkv.v1.KV/Get",
      { requestStream: false, responseStream: false },
      metadata,
    );
    expect(malformed.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it("refuses the internal services to a node of the CA that is not a member, and a forged dkv-from", async () => {
    const stranger = await certificates.issueNodeCertificate(ca, {
      nodeId: nodeId("n9"),
      hosts: ["127.0.0.1"],
      nowMs: Date.now(),
    });
    const asStranger = clientWith(stranger);
    // A node never added, or one removed (its certificate stays valid): every method of every
    // service is refused but what `dkv serve --join` calls before the commit makes it a member,
    // health and reflection. The data too: a node's certificate is no key to every bucket.
    const joining = new Set([
      "/dkv.v1.Membership/Get",
      "/dkv.v1.Membership/Exchange",
      "/dkv.v1.Admin/Ping",
    ]);
    const served = await servedMethods();
    expect(served).toContain("/dkv.v1.KV/Session");
    for (const method of served) {
      const result = await callOnce(asStranger, method, kindOf(method));
      if (joining.has(method) || /^\/grpc\.(health|reflection)\./.test(method)) {
        expect(result.code, `${method}: ${result.details}`).not.toBe(grpc.status.PERMISSION_DENIED);
        expect(result.code, method).not.toBe(grpc.status.UNAUTHENTICATED);
        continue;
      }
      expect(result.code, `${method}: ${result.details}`).toBe(grpc.status.PERMISSION_DENIED);
      expect(result.details, method).toMatch(
        /node n9 is not a member|only a user may make this call/,
      );
    }
    // Its Exchange is answered with n1's metadata and what it sent is not even read: bytes that
    // are no metadata at all are not refused as unreadable, as a member's would be.
    const v1 = loadProto().grpcObject.dkv.v1;
    const address = cluster.spec("n1").address;
    const exchange = (security: ClientSecurity) =>
      new Promise<{ code: number; json: string }>((resolve) => {
        const secured = security.channel(address);
        const client = new v1.Membership(address, secured.credentials, secured.options);
        client.Exchange(
          { metadata_json: "{ forged" },
          { deadline: Date.now() + 5000 },
          (error, reply) => {
            client.close();
            resolve({ code: error?.code ?? grpc.status.OK, json: reply?.metadata_json ?? "" });
          },
        );
      });
    const asMember = await certificates.issueNodeCertificate(ca, {
      nodeId: nodeId("n2"),
      hosts: ["127.0.0.1"],
      nowMs: Date.now(),
    });
    expect((await exchange(clientWith(asMember))).code).toBe(grpc.status.INVALID_ARGUMENT);
    const strangers = await exchange(asStranger);
    expect(strangers.code).toBe(grpc.status.OK);
    expect(JSON.parse(strangers.json).layout.members.map((m: { node: string }) => m.node)).toEqual([
      "n1",
      "n2",
      "n3",
    ]);
    // And through the client, as a stranger's program would call: nothing read, nothing written.
    const strangerClient = new DkvClient([cluster.spec("n1").address], { security: asStranger });
    try {
      const read = await strangerClient.get("kept-0").catch((e: grpc.ServiceError) => e);
      expect((read as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
      const write = await strangerClient.put("kept-0", "stolen").catch((e: grpc.ServiceError) => e);
      expect((write as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
    } finally {
      strangerClient.close();
    }
    const forged = new grpc.Metadata();
    forged.set("dkv-from", "n2");
    const result = await callOnce(
      asStranger,
      "/dkv.v1.Replica/Put",
      kindOf("/dkv.v1.Replica/Put"),
      forged,
    );
    expect(result.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(result.details).toMatch(/dkv-from names a node the certificate does not/);
  });

  it("refuses data and admin calls to a user without grants; the admin gets through", async () => {
    const alice = await certificates.issueClientCertificate(ca, {
      user: "alice",
      nowMs: Date.now(),
    });
    const asAlice = clientWith(alice);
    for (const method of ["/dkv.v1.KV/Get", "/dkv.v1.KV/Put", "/dkv.v1.Admin/Status"]) {
      const result = await callOnce(asAlice, method, kindOf(method));
      expect(result.code, method).toBe(grpc.status.PERMISSION_DENIED);
      expect(result.details).toMatch(/unknown user alice|user alice has no/);
    }
    const replica = await callOnce(asAlice, "/dkv.v1.Replica/Put", kindOf("/dkv.v1.Replica/Put"));
    expect(replica.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(
      (await admin.get("kept-0")).siblings.map((s) => Buffer.from(s.value).toString()),
    ).toEqual(["value 0"]);
  });

  it("refuses a certificate of another CA and an expired one, and cannot talk plaintext", async () => {
    const otherCa = await certificates.createClusterCa({ nowMs: Date.now() });
    const foreign = await certificates.issueClientCertificate(otherCa, {
      user: "admin",
      nowMs: Date.now(),
    });
    const expired = await certificates.issueClientCertificate(ca, {
      user: "admin",
      nowMs: Date.now() - 3 * 86_400_000,
      validDays: 1,
    });
    const unary = { requestStream: false, responseStream: false };
    // The public port asks for a client certificate but lets a client without a good one finish
    // the handshake (it may bring a token): such a certificate proves nothing, so the caller is
    // anonymous and refused.
    const served = await servedMethods();
    for (const security of [clientWith(foreign), clientWith(expired)]) {
      for (const method of served) {
        if (method.startsWith("/grpc.health.v1.Health/")) continue;
        const result = await callOnce(security, method, kindOf(method));
        expect(result.code, `${method}: ${result.details}`).toBe(grpc.status.UNAUTHENTICATED);
      }
    }
    const plaintext = await callOnce(INSECURE_CLIENT, "/dkv.v1.KV/Put", unary);
    expect(plaintext.code).toBe(grpc.status.UNAVAILABLE);
  });

  it("still holds every key written before the probes, on every node", async () => {
    for (const node of ["n1", "n2", "n3"]) {
      const client = cluster.client(node);
      for (let index = 0; index < KEYS; index++) {
        const read = await client.get(`kept-${index}`, { r: 3 });
        expect(read.siblings.map((s) => Buffer.from(s.value).toString())).toEqual([
          `value ${index}`,
        ]);
      }
    }
  });

  it("serves a token user its grants only, and refuses the token once revoked", async () => {
    const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const env = { ...process.env, ...cluster.cliEnv };
        const where = ["--node", cluster.spec("n2").address];
        execFile(process.execPath, [MAIN_SCRIPT, ...args, ...where], { env }, (error, out, err) =>
          resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout: out, stderr: err }),
        );
      });
    const added = await cli(["user", "add", "carol", "--json"]);
    expect(added.code, added.stderr).toBe(0);
    const { token } = JSON.parse(added.stdout) as { token: string };
    expect((await cli(["grant", "read", "--bucket", "photos", "--user", "carol"])).code).toBe(0);
    await admin.put("p1", "picture", { bucket: "photos", w: 3 });
    const asCarol = new DkvClient([cluster.spec("n1").address], {
      security: clientWith(undefined, token),
    });
    try {
      // The grant reaches n1 by gossip.
      let read: Awaited<ReturnType<DkvClient["get"]>> | undefined;
      for (let attempt = 0; attempt < 100 && read === undefined; attempt++) {
        read = await asCarol.get("p1", { bucket: "photos" }).catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return undefined;
        });
      }
      expect(read?.siblings.map((s) => Buffer.from(s.value).toString())).toEqual(["picture"]);
      const write = await asCarol.put("p1", "mine", { bucket: "photos" }).catch((e) => e);
      expect((write as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
      // A batch is checked item by item: one bucket without the grant refuses it whole.
      const batch = await asCarol.getMany(["p1", "p2"], { bucket: "photos" });
      expect(batch.map((item) => item.ok)).toEqual([true, true]);
      const mixed = await asCarol
        .getMany([
          { key: "p1", bucket: "photos" },
          { key: "s1", bucket: "secrets" },
        ])
        .catch((e) => e);
      expect((mixed as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
      expect((mixed as grpc.ServiceError).details).toMatch(/secrets/);
      const batchWrite = await asCarol
        .putMany([{ key: "p9", value: "x", bucket: "photos" }])
        .catch((e) => e);
      expect((batchWrite as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
      // A session is checked item by item: a put refused alone, the get beside it served.
      const inSession = new DkvClient([cluster.spec("n1").address], {
        security: clientWith(undefined, token),
        session: true,
      });
      try {
        const [sessionRead, sessionWrite, elsewhere] = await Promise.all([
          inSession.get("p1", { bucket: "photos" }),
          inSession.put("p1", "mine", { bucket: "photos" }).catch((e: grpc.ServiceError) => e),
          inSession.get("s1", { bucket: "secrets" }).catch((e: grpc.ServiceError) => e),
        ]);
        expect(sessionRead.siblings.map((s) => Buffer.from(s.value).toString())).toEqual([
          "picture",
        ]);
        expect((sessionWrite as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
        expect((sessionWrite as grpc.ServiceError).details).toMatch(/write/);
        expect((elsewhere as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
        const sessionDelete = await inSession
          .delete("p1", { bucket: "photos", context: sessionRead.context })
          .catch((e: grpc.ServiceError) => e);
        expect((sessionDelete as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
      } finally {
        inSession.close();
      }
      const other = await asCarol.get("p1", { bucket: "secrets" }).catch((e) => e);
      expect((other as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
      expect((await cli(["user", "remove", "carol"])).code).toBe(0);
      let refused: grpc.ServiceError | undefined;
      for (let attempt = 0; attempt < 100 && refused === undefined; attempt++) {
        refused = await asCarol.get("p1", { bucket: "photos" }).then(
          async () => {
            await new Promise((resolve) => setTimeout(resolve, 100));
            return undefined;
          },
          (error: grpc.ServiceError) => error,
        );
      }
      expect(refused?.code).toBe(grpc.status.UNAUTHENTICATED);
      // Every method of every service refuses the revoked token.
      for (const method of await servedMethods()) {
        if (method.startsWith("/grpc.health.v1.Health/")) continue;
        const result = await callOnce(clientWith(undefined, token), method, kindOf(method));
        expect(result.code, `${method}: ${result.details}`).toBe(grpc.status.UNAUTHENTICATED);
      }
      // The refusals are logged (at most every 10 s per method), never with the token refused
      // (this one, or an unknown one).
      const logs = ["n1", "n2", "n3"].map((node) => cluster.log(node)).join("\n");
      expect(logs).toMatch(/call refused/);
      expect(logs).not.toContain(token);
      expect(logs).not.toContain("dkv_nosuchtoken");
    } finally {
      asCarol.close();
    }
    expect((await admin.get("p1", { bucket: "photos" })).siblings).toHaveLength(1);
  }, 60_000);

  it("says in dkv status that it runs TLS", async () => {
    expect((await admin.status({ timeoutMs: 2000 })).security).toBe("tls");
  });
});
