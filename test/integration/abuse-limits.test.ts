// Abuse limits of issue 15 on a real TLS node: connections from one address past
// --connections-per-address-max are closed at accept while other addresses and the admin are
// served; a socket that never finishes its TLS handshake is closed after
// connectionHandshakeMsMax; wrong secrets for a known token cost at most a small budget of
// scrypt runs per address, a repeated one none; strangers from many addresses together get
// strangerHandshakeRateMax handshakes a second, while the admin's host (a member's) is not held
// to it; every refusal is in the metrics; a non-loopback --metrics-listen needs --metrics-public.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runDkv, TestCluster } from "./local-cluster-harness.js";
import * as grpc from "@grpc/grpc-js";
import { tlsClient } from "../../node/security/client-security.js";
import { DEFAULT_LIMITS } from "../../node/core/limits.js";
import { spawnNode, waitForServing } from "../../cli/local-cluster.js";

// Above addressHandshakesMax (8), so that a trusted address can show it is not held to it.
const PER_ADDRESS = 12;
const HANDSHAKE_MS = 1500;
let cluster: TestCluster;
let metricsAddress: string;

beforeAll(async () => {
  cluster = await TestCluster.start({
    nodes: 1,
    serveArgs: [
      `--connections-per-address-max=${PER_ADDRESS}`,
      `--limit=connectionHandshakeMsMax=${HANDSHAKE_MS}`,
      "--metrics-listen=127.0.0.1:0",
    ],
  });
  metricsAddress = await metricsAddressOf(cluster);
}, 60_000);

/** Where the one node of `of` serves its metrics (from `dkv status`). */
async function metricsAddressOf(of: TestCluster): Promise<string> {
  const run = await runDkv(["status", "--json", "--node", of.spec("n1").address], of.cliEnv);
  return (JSON.parse(run.stdout) as { metrics_address: string }).metrics_address;
}

afterAll(async () => {
  await cluster?.stop();
});

function port(of: TestCluster = cluster): number {
  const address = of.spec("n1").address;
  return Number(address.slice(address.lastIndexOf(":") + 1));
}

/** The value of one sample of the node's metrics (0 when absent). */
async function sample(name: string, label: string, metrics = metricsAddress): Promise<number> {
  const text = await (await fetch(`http://${metrics}/metrics`)).text();
  const line = text.split("\n").find((row) => row.startsWith(name) && row.includes(label));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/**
 * An HTTP/2-over-TLS session from `localAddress` (no client certificate unless `certificate`
 * is given); resolves once set up.
 */
function session(
  localAddress: string,
  certificate?: { cert: string; key: string },
  target = port(),
): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(`https://127.0.0.1:${target}`, {
      // The TCP socket is bound to `localAddress`, then TLS runs over it.
      createConnection: () =>
        tls.connect({
          socket: net.connect({ host: "127.0.0.1", port: target, localAddress }),
          ALPNProtocols: ["h2"],
          rejectUnauthorized: false,
          ...certificate,
        }),
    });
    client.once("remoteSettings", () => resolve(client));
    client.once("error", reject);
    client.once("close", () => reject(new Error("closed before it was set up")));
  });
}

/** A plain TCP socket from `localAddress`; resolves with how long it stayed open (ms). */
function openUntilClosed(localAddress: string, sockets: net.Socket[]): Promise<number> {
  return new Promise((resolve) => {
    const startedMs = Date.now();
    const socket = net.connect({ host: "127.0.0.1", port: port(), localAddress });
    sockets.push(socket);
    socket.on("error", () => undefined);
    socket.once("close", () => resolve(Date.now() - startedMs));
  });
}

/** One anonymous KV.Get on `client`; resolves with its grpc-status ("none" if it had none). */
function anonymousGet(client: http2.ClientHttp2Session): Promise<string> {
  return new Promise<string>((resolve) => {
    const stream = client.request({
      ":method": "POST",
      ":path": "/dkv.v1.KV/Get",
      "content-type": "application/grpc",
      te: "trailers",
    });
    let code = "none";
    stream.on("response", (headers) => (code = String(headers["grpc-status"] ?? code)));
    stream.on("trailers", (trailers) => (code = String(trailers["grpc-status"] ?? code)));
    stream.on("data", () => undefined);
    stream.on("error", () => undefined);
    stream.on("close", () => resolve(code));
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

/** Anonymous gets from `localAddress`, a connection at a time, until `calls` were refused. */
async function failAuthentication(localAddress: string, calls: number): Promise<void> {
  let refused = 0;
  while (refused < calls) {
    const client = await session(localAddress);
    while (refused < calls && !client.closed && !client.destroyed) {
      if ((await anonymousGet(client)) === String(grpc.status.UNAUTHENTICATED)) refused += 1;
    }
    client.destroy();
  }
}

describe("connections per address", () => {
  it("closes the connection past the bound from one address at once, and serves the others", async () => {
    const before = await sample("dkv_connections_refused_total", 'reason="address-limit"');
    // One at a time: at most addressHandshakesMax handshakes may be under way from a stranger.
    const held: http2.ClientHttp2Session[] = [];
    for (let index = 0; index < PER_ADDRESS; index++) held.push(await session("127.0.0.2"));
    const sockets: net.Socket[] = [];
    const refusedAfterMs = await openUntilClosed("127.0.0.2", sockets);
    expect(refusedAfterMs).toBeLessThan(500);
    // Another address, and the admin's channel, still get through.
    const other = await session("127.0.0.3");
    // Every connection is told how many streams it may have open at once: HTTP/2 refuses the
    // streams past it (REFUSED_STREAM) before grpc-js sees them.
    expect(other.remoteSettings.maxConcurrentStreams).toBe(DEFAULT_LIMITS.requestsInFlightMax);
    const admin = cluster.client("n1");
    expect((await admin.status()).members.length).toBe(1);
    expect(held.every((client) => !client.closed && !client.destroyed)).toBe(true);
    expect(await sample("dkv_connections_refused_total", 'reason="address-limit"')).toBe(
      before + 1,
    );
    // A slot freed is a slot to take again.
    held.pop()!.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await session("127.0.0.2");
    for (const client of [...held, other, again]) client.destroy();
  });

  it("closes a connection whose calls keep failing authentication, after connectionAuthFailuresMax", async () => {
    const client = await session("127.0.0.5");
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    const statuses: string[] = [];
    // Anonymous KV calls, one after another: each is refused UNAUTHENTICATED.
    for (let call = 0; call < DEFAULT_LIMITS.connectionAuthFailuresMax + 4; call++) {
      if (client.closed || client.destroyed) break;
      statuses.push(await anonymousGet(client));
    }
    await closed;
    const unauthenticated = String(grpc.status.UNAUTHENTICATED);
    expect(statuses.slice(0, DEFAULT_LIMITS.connectionAuthFailuresMax)).toEqual(
      new Array(DEFAULT_LIMITS.connectionAuthFailuresMax).fill(unauthenticated),
    );
    expect(statuses.length).toBeLessThanOrEqual(DEFAULT_LIMITS.connectionAuthFailuresMax + 1);
    // The admin, on its own connection, is served as before.
    expect((await cluster.client("n1").status()).members.length).toBe(1);
  });

  it("closes a socket that never starts its TLS handshake after connectionHandshakeMsMax", async () => {
    const before = await sample("dkv_connections_refused_total", 'reason="handshake-timeout"');
    const sockets: net.Socket[] = [];
    const openMs = await openUntilClosed("127.0.0.4", sockets);
    expect(openMs).toBeGreaterThanOrEqual(HANDSHAKE_MS - 100);
    expect(openMs).toBeLessThan(HANDSHAKE_MS + 2000);
    expect(await sample("dkv_connections_refused_total", 'reason="handshake-timeout"')).toBe(
      before + 1,
    );
    expect(await sample("dkv_connections_open", "")).toBeGreaterThanOrEqual(1);
  });
});

describe("addresses whose calls keep failing authentication", () => {
  const burst = 2 * DEFAULT_LIMITS.connectionAuthFailuresMax;

  it("have their new connections closed at accept, before TLS, until the budget refills", async () => {
    const before = await sample("dkv_connections_refused_total", 'reason="auth-failures"');
    await failAuthentication("127.0.0.6", burst);
    await expect(session("127.0.0.6")).rejects.toThrow();
    expect(await sample("dkv_connections_refused_total", 'reason="auth-failures"')).toBe(
      before + 1,
    );
    // Other addresses are not touched; the budget refills at addressAuthFailuresMax a second:
    // the 16 refused calls and the 2 connections (one each) left it at -2, so 3 s to one.
    const other = await session("127.0.0.8");
    other.destroy();
    await new Promise((resolve) =>
      setTimeout(resolve, (3 * 1000) / DEFAULT_LIMITS.addressAuthFailuresMax + 300),
    );
    (await session("127.0.0.6")).destroy();
  });

  it("get addressHandshakesMax handshakes under way at once; a trusted address gets more", async () => {
    const before = await sample("dkv_connections_refused_total", 'reason="handshake-limit"');
    const max = DEFAULT_LIMITS.addressHandshakesMax;
    // Plain TCP sockets that never start TLS: each holds a handshake slot until its timeout.
    const sockets: net.Socket[] = [];
    const stalled = Array.from({ length: max }, () => openUntilClosed("127.0.0.9", sockets));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refusedAfterMs = await openUntilClosed("127.0.0.9", sockets);
    expect(refusedAfterMs).toBeLessThan(500);
    expect(await sample("dkv_connections_refused_total", 'reason="handshake-limit"')).toBe(
      before + 1,
    );
    // An address where the admin authenticated: more stalled handshakes, none closed.
    const { cert, key } = cluster.credentials!;
    const admin = await session("127.0.0.11", { cert: cert!, key: key! });
    expect(await anonymousGet(admin)).not.toBe(String(grpc.status.UNAUTHENTICATED));
    let closedEarly = 0;
    const trusted = Array.from({ length: max + 2 }, () =>
      openUntilClosed("127.0.0.11", sockets).then(() => (closedEarly += 1)),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(closedEarly).toBe(0);
    expect(await sample("dkv_connections_refused_total", 'reason="handshake-limit"')).toBe(
      before + 1,
    );
    admin.destroy();
    for (const socket of sockets) socket.destroy();
    await Promise.all([...stalled, ...trusted]);
  });

  it("are never refused while a caller from the same address authenticates", async () => {
    // The admin's certificate from 127.0.0.10: one call proves who calls from there.
    const { cert, key } = cluster.credentials!;
    const admin = await session("127.0.0.10", { cert: cert!, key: key! });
    expect(await anonymousGet(admin)).not.toBe(String(grpc.status.UNAUTHENTICATED));
    admin.destroy();
    // Then strangers from the same address fail as often as they like, and still get in.
    await failAuthentication("127.0.0.10", burst + 4);
    (await session("127.0.0.10")).destroy();
  });
});

describe("failed token checks", () => {
  it("run scrypt a bounded number of times per address, never twice for one token, and say so", async () => {
    const added = await runDkv(
      ["user", "add", "mallory-target", "--json", "--node", cluster.spec("n1").address],
      cluster.cliEnv,
    );
    expect(added.code, added.stderr).toBe(0);
    const token = (JSON.parse(added.stdout) as { token: string }).token;
    const ca = cluster.credentials!.ca;
    // Wrong secrets for the real salt: each would cost a full scrypt without the budget.
    const salt = token.slice(0, token.indexOf(".") + 1);
    const wrong = (index: number): string => salt + `${index}`.padStart(43, "A");
    // One connection, a token per call (as an attacker would send them).
    const address = cluster.spec("n1").address;
    const secured = tlsClient({ ca }).channel(address);
    const raw = new grpc.Client(address, secured.credentials, secured.options);
    const call = (secret: string): Promise<string> => {
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${secret}`);
      const pass = (bytes: Buffer): Buffer => bytes;
      return new Promise((resolve) =>
        raw.makeUnaryRequest(
          "/dkv.v1.KV/Get",
          pass,
          pass,
          Buffer.alloc(0),
          metadata,
          { deadline: Date.now() + 10_000 },
          (error) => resolve(error === null ? "ok" : `${error.code} ${error.details}`),
        ),
      );
    };
    const scryptBefore = await sample("dkv_token_checks_total", 'result="scrypt"');
    const startedMs = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, index) => call(wrong(index))),
    );
    const elapsedS = (Date.now() - startedMs) / 1000;
    // After connectionAuthFailuresMax refusals the node closes the connection (GOAWAY): calls
    // it had not started yet are refused as streams (UNAVAILABLE), never served.
    const refusedStreams = outcomes.filter((outcome) => /^14 Stream refused/.test(outcome));
    const unauthenticated = outcomes.filter((outcome) => outcome.startsWith("16 "));
    expect(refusedStreams.length + unauthenticated.length).toBe(outcomes.length);
    expect(unauthenticated.length).toBeGreaterThanOrEqual(DEFAULT_LIMITS.connectionAuthFailuresMax);
    expect(outcomes.some((outcome) => outcome.includes("too many failed token checks"))).toBe(true);
    expect(outcomes.join("\n")).not.toContain(salt.slice(4, 26));
    const scryptAfter = await sample("dkv_token_checks_total", 'result="scrypt"');
    // 4 a second with a burst of 8: 40 scrypts without the budget.
    expect(scryptAfter - scryptBefore).toBeLessThanOrEqual(8 + Math.ceil(4 * elapsedS));
    expect(scryptAfter - scryptBefore).toBeLessThan(40);
    expect(await sample("dkv_token_checks_total", 'result="throttled"')).toBeGreaterThan(0);
    expect(await sample("dkv_calls_refused_total", 'code="UNAUTHENTICATED"')).toBeGreaterThan(0);
    // A token that failed once is refused from memory: no scrypt, however often it is sent.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const repeated = await Promise.all(Array.from({ length: 6 }, () => call(wrong(0))));
    expect(repeated.every((outcome) => outcome.includes("unknown or revoked token"))).toBe(true);
    expect(await sample("dkv_token_checks_total", 'result="scrypt"')).toBe(scryptAfter);
    // The budget refills: the real token (user has no grant, so PERMISSION_DENIED) is checked.
    expect(await call(token)).toMatch(/^7 /);
    raw.close();
  });
});

describe("handshakes of strangers, all addresses together", () => {
  let small: TestCluster;
  let smallMetrics: string;

  beforeAll(async () => {
    // 1 a second, a burst of 2: few enough to spend in a test.
    small = await TestCluster.start({
      nodes: 1,
      serveArgs: ["--limit=strangerHandshakeRateMax=1", "--metrics-listen=127.0.0.1:0"],
    });
    smallMetrics = await metricsAddressOf(small);
  }, 60_000);

  const madeDirs: string[] = [];

  afterAll(async () => {
    await small?.stop();
    for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
  });

  it("are bounded per second across addresses, and the member's host is not held to it", async () => {
    const refused = (): Promise<number> =>
      sample("dkv_connections_refused_total", 'reason="stranger-rate"', smallMetrics);
    expect(await refused()).toBe(0);
    // Strangers at four addresses, one connection each: each address is far from its own
    // bounds, but together they get the burst (2) and then about one a second.
    const outcomes: string[] = [];
    const held: http2.ClientHttp2Session[] = [];
    for (const address of ["127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24"]) {
      await session(address, undefined, port(small)).then(
        (client) => {
          held.push(client);
          outcomes.push("in");
        },
        () => outcomes.push("refused"),
      );
    }
    expect(outcomes.slice(0, 2)).toEqual(["in", "in"]);
    expect(outcomes.filter((outcome) => outcome === "refused").length).toBeGreaterThanOrEqual(1);
    expect(await refused()).toBe(outcomes.filter((outcome) => outcome === "refused").length);
    // The admin, from 127.0.0.1 where the cluster's member is, gets in at once, on new
    // connections too, while the strangers' share is spent.
    for (let attempt = 0; attempt < 3; attempt++) {
      const run = await runDkv(["status", "--node", small.spec("n1").address], small.cliEnv);
      expect(run.code, run.stderr).toBe(0);
    }
    for (const client of held) client.destroy();
    // The share refills: a stranger gets in again.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    (await session("127.0.0.25", undefined, port(small))).destroy();
  });

  it("never hold back a member's host, which no call has authenticated, from the node's start", async () => {
    // n1 again, on a new data dir, advertised at 127.0.0.41 (it listens on 127.0.0.1): the
    // member's host is then an address from which no call ever came.
    await small.stopNode("n1");
    const spec = small.spec("n1");
    const dataDir = mkdtempSync(path.join(tmpdir(), "dkv-member-host-"));
    madeDirs.push(dataDir);
    const args = spec.args
      .filter((arg) => !/^--(peers|data-dir)=/.test(arg))
      .concat([`--data-dir=${dataDir}`, `--advertise=127.0.0.41:${port(small)}`]);
    const child = spawnNode({ ...spec, dataDir, args });
    small.adopt("n1", child.pid!);
    await waitForServing(spec.address, 20_000, small.security);
    // Strangers spend the share (a burst of 2, of which the harness's own first connection
    // from 127.0.0.1 took one before its call authenticated that address)...
    let admitted = 0;
    for (let stranger = 31; stranger < 35; stranger++) {
      const opened = await session(`127.0.0.${stranger}`, undefined, port(small)).catch(
        () => undefined,
      );
      if (opened === undefined) break;
      opened.destroy();
      admitted += 1;
    }
    expect(admitted).toBeLessThanOrEqual(2);
    // ...and the member's host still gets in, anonymous and again, while another does not.
    for (let attempt = 0; attempt < 3; attempt++) {
      (await session("127.0.0.41", undefined, port(small))).destroy();
    }
    await expect(session("127.0.0.42", undefined, port(small))).rejects.toThrow();
  });
});

describe("the metrics endpoint", () => {
  it("refuses a non-loopback --metrics-listen without --metrics-public (exit 2)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dkv-abuse-"));
    const run = await runDkv([
      "serve",
      "--id=m1",
      "--insecure",
      "--listen=127.0.0.1:0",
      "--metrics-listen=0.0.0.0:0",
      `--data-dir=${dir}`,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--metrics-public");
    rmSync(dir, { recursive: true, force: true });
  });
});
