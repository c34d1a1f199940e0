// Goal: a client cannot forge or bloat a context (issue 12, defects 1, 2 and 7): the cluster
// accepts only contexts it sealed, for the key it sealed them for; a forged one is refused with
// INVALID_ARGUMENT and leaves the key writable and deletable. Also the edge checks that need the
// wire: bucket names that are not UTF-8, a value of exactly the value limit, deadlines that
// gRPC wraps around, key rotation by SIGHUP, and a node that refuses to start without a key.
// Method: real `dkv serve` processes; contexts built by hand from what a Get returns.

import type { ClientSecurity } from "../../node/security/client-security.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { MAIN_SCRIPT, TestCluster, failure } from "./local-cluster-harness.js";
import type { DkvClient } from "../../coordinator/client.js";
import { encodeKeyContext, unverifiedContextOf } from "../../node/core/key-context.js";
import { type CausalContext, contextFromDots } from "../../node/core/causal-context.js";
import { encodeContext } from "../../node/core/object-codec.js";

const MiB = 1024 * 1024;
/** Quorums for a cluster of one node. */
const ONE = { n: 1, r: 1, w: 1 } as const;

function contextOf(bytes: Uint8Array): CausalContext {
  const read = unverifiedContextOf(bytes);
  if (!read.ok) throw new Error(read.reason);
  return read.context;
}

/** The actor ids a context names. */
function actorsOf(bytes: Uint8Array): string[] {
  const context = contextOf(bytes);
  return [...new Set([...context.vv.keys(), ...context.cloud.map((dot) => dot.actor)])];
}

/** A raw unary call with hand-made request bytes (what a client in any language could send). */
function rawCall(
  address: string,
  method: string,
  body: Buffer,
  deadline: number,
  security: ClientSecurity,
): Promise<{ code: number; details: string }> {
  const secured = security.channel(address);
  const client = new grpc.Client(address, secured.credentials, secured.options);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      method,
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
      body,
      { deadline },
      (error) => {
        client.close();
        resolve(error === null ? { code: 0, details: "" } : error);
      },
    );
  });
}

/** A protobuf length-delimited field. */
function field(number: number, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes]);
}

describe("a sealed cluster", () => {
  let cluster: TestCluster;
  let client: DkvClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({ nodes: 3 });
    client = cluster.client("n1");
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it("refuses a forged context with a counter near 2^53, and the key stays writable", async () => {
    const first = await client.put("poison", "v1", { w: 3 });
    const actors = actorsOf(first.context);
    // Every real actor of the key, at a counter one write from overflowing (defect 1).
    const poison = contextFromDots(actors.map((actor) => ({ actor, counter: 2 ** 53 - 2 })));
    for (const forged of [
      encodeKeyContext("default", Buffer.from("poison"), poison),
      encodeContext(poison),
    ]) {
      const error = await failure(client.put("poison", "evil", { context: forged }));
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.details).toMatch(/context refused: it was not issued by this cluster/);
    }
    const read = await client.get("poison", { r: 3 });
    expect(read.siblings.map((sibling) => sibling.value.toString())).toEqual(["v1"]);
    await client.put("poison", "v2", { context: read.context, w: 3 });
    const after = await client.get("poison", { r: 3 });
    expect(after.siblings.map((sibling) => sibling.value.toString())).toEqual(["v2"]);
    await client.delete("poison", { context: after.context });
    expect((await client.get("poison", { r: 3 })).siblings).toEqual([]);
  });

  it("refuses a sealed context whose body was swapped for a bloated one", async () => {
    const put = await client.put("bloat", "v", { w: 3 });
    // A 60 KB context of made-up actors behind the real seal (defect 2).
    const fake = contextFromDots(
      Array.from({ length: 3000 }, (_, index) => ({ actor: `x${index}`, counter: 1 })),
    );
    const forged = Buffer.concat([Buffer.from(put.context).subarray(0, 21), encodeContext(fake)]);
    expect(forged.length).toBeGreaterThan(20_000);
    for (let attempt = 0; attempt < 3; attempt++) {
      const error = await failure(client.put("bloat", "big", { context: forged }));
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.details).toMatch(/its seal does not match/);
    }
    const read = await client.get("bloat", { r: 3 });
    expect(read.context.length).toBeLessThan(200);
    await client.delete("bloat", { context: read.context });
    expect((await client.get("bloat", { r: 3 })).siblings).toEqual([]);
  });

  it("stores a value of exactly the value limit (16 MiB), default content type and all", async () => {
    const value = Buffer.alloc(16 * MiB, 7);
    await client.put("exactly-16", value, { timeoutMs: 30_000 });
    const read = await client.get("exactly-16", { timeoutMs: 30_000 });
    expect(read.siblings.length).toBe(1);
    expect(read.siblings[0]?.value.length).toBe(16 * MiB);
    expect(read.siblings[0]?.content_type).toBe("application/octet-stream");
  });

  it("refuses a bucket name that is not UTF-8 instead of aliasing it", async () => {
    const address = cluster.spec("n1").address;
    const deadline = Date.now() + 5000;
    for (const byte of [0xff, 0xfe]) {
      const body = Buffer.concat([
        field(1, Buffer.from([byte])),
        field(2, Buffer.from("k")),
        field(3, Buffer.from("v")),
      ]);
      const error = await rawCall(address, "/dkv.v1.KV/Put", body, deadline, cluster.security);
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.details).toMatch(/bucket is not valid UTF-8/);
    }
  });

  it("does not apply a put whose deadline gRPC wrapped around (30 days)", async () => {
    const address = cluster.spec("n2").address;
    const body = Buffer.concat([field(2, Buffer.from("far-deadline")), field(3, Buffer.from("x"))]);
    const error = await rawCall(
      address,
      "/dkv.v1.KV/Put",
      body,
      Date.now() + 30 * 86_400_000,
      cluster.security,
    );
    expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await client.get("far-deadline", { r: 3 })).siblings).toEqual([]);
  });
});

describe("cluster keys on a node", () => {
  it("refuses to start a node without --cluster-key or --insecure, saying what to do", () => {
    const run = spawnSync(process.execPath, [MAIN_SCRIPT, "serve", "--id", "n1"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/needs --cluster-key FILE/);
  });

  it("rotates keys on SIGHUP: old contexts open while both keys are held, not after", async () => {
    const cluster = await TestCluster.start({ nodes: 1 });
    try {
      const client = cluster.client("n1");
      const keyFile = path.join(cluster.dir, "cluster.key");
      const oldKey = "aa".repeat(32);
      const newKey = "bb".repeat(32);
      const reload = async (text: string): Promise<void> => {
        writeFileSync(keyFile, text, { mode: 0o600 });
        process.kill(cluster.pid("n1") ?? 0, "SIGHUP");
        await new Promise((resolve) => setTimeout(resolve, 300));
      };
      await reload(`${oldKey}\n`);
      const old = await client.put("rotated", "v1", ONE);
      await reload(`${newKey}\n${oldKey}\n`);
      const middle = await client.put("rotated", "v2", { ...ONE, context: old.context });
      expect(Buffer.compare(middle.context.subarray(1, 5), old.context.subarray(1, 5))).not.toBe(0);
      await reload(`${newKey}\n`);
      const error = await failure(client.put("rotated", "v3", { ...ONE, context: old.context }));
      expect(error.details).toMatch(/sealed with a key this cluster does not hold/);
      await client.put("rotated", "v3", { ...ONE, context: middle.context });
      await reload("not a key!\n");
      // A bad file keeps the keys in use.
      const latest = await client.get("rotated", ONE);
      await client.put("rotated", "v4", { ...ONE, context: latest.context });
      expect(cluster.log("n1")).toMatch(/cluster key file not reloaded/);
    } finally {
      await cluster.stop();
    }
  });

  it("on an --insecure node still refuses a counter near 2^53", async () => {
    const cluster = await TestCluster.start({ nodes: 1, serveArgs: ["--insecure"] });
    try {
      const client = cluster.client("n1");
      const put = await client.put("insecure", "v", ONE);
      const poison = contextFromDots(
        actorsOf(put.context).map((actor) => ({ actor, counter: 2 ** 53 - 2 })),
      );
      const forged = encodeKeyContext("default", Buffer.from("insecure"), poison);
      const error = await failure(client.put("insecure", "evil", { ...ONE, context: forged }));
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.details).toMatch(/counter 9007199254740990 of actor .* is over the limit/);
      await client.put("insecure", "fine", { ...ONE, context: put.context });
      expect(cluster.log("n1")).toMatch(/INSECURE \(--insecure\)/);
      // And `dkv status` says so to whoever looks.
      const status = spawnSync(
        process.execPath,
        [MAIN_SCRIPT, "status", "--node", cluster.spec("n1").address, "--insecure"],
        { encoding: "utf8", env: { ...process.env, ...cluster.cliEnv }, timeout: 20_000 },
      );
      expect(status.status, status.stderr).toBe(0);
      expect(status.stdout).toMatch(
        /WARNING: n1 run --insecure: no TLS and no authentication; anyone who reaches them can read, write and delete any key/,
      );
    } finally {
      await cluster.stop();
    }
  });
});
