// Goal: every limit of node/core/limits.ts can be set per node (`dkv serve --limit NAME=VALUE`),
// is enforced as set, and a bad override stops the node at start with a message naming it.
// Method: a one-node cluster with a small sibling limit; `dkv serve` with bad overrides.

import { describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MAIN_SCRIPT, TestCluster, failure, runDkv } from "./local-cluster-harness.js";
import { sampleValue } from "../unit/node/metrics/metrics-test-helpers.js";

const ONE = { n: 1, r: 1, w: 1 } as const;

/** The Prometheus text of `node`, found through `dkv status`. */
async function scrapeMetrics(cluster: TestCluster, node: string): Promise<string> {
  const run = await runDkv(
    ["status", "--json", "--node", cluster.spec(node).address],
    cluster.cliEnv,
  );
  expect(run.code, run.stderr).toBe(0);
  const status = JSON.parse(run.stdout) as {
    nodes: { node_id: string; metrics_address: string }[];
  };
  const address = status.nodes.find((entry) => entry.node_id === node)?.metrics_address;
  const response = await fetch(`http://${address}/metrics`);
  return response.text();
}

describe("dkv serve --limit", () => {
  it("enforces an overridden sibling limit", async () => {
    const cluster = await TestCluster.start({
      nodes: 1,
      serveArgs: ["--limit", "siblingsMax=3", "--limit", "siblingsWarn=2"],
    });
    try {
      const client = cluster.client("n1");
      for (let index = 0; index < 3; index++) await client.put("few", `v${index}`, ONE);
      const error = await failure(client.put("few", "one too many", ONE));
      expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(error.details).toMatch(/too many siblings: 4 exceeds 3/);
      // Started as every local node is, with the Node.js flags (cli/node-flags.ts).
      expect(cluster.log("n1")).not.toMatch(/Node\.js runs without/);
    } finally {
      await cluster.stop();
    }
  });

  it.each([
    [["--limit", "nonsense=1"], /--limit: unknown limit in 'nonsense=1'/],
    [["--limit", "siblingsMax=0"], /--limit: siblingsMax must be a positive integer/],
    [["--limit", "valueBytesMax=999999999"], /valueBytesMax=999999999 exceeds objectBytesMax/],
    [["--replica-linger-ms", "21"], /--replica-linger-ms must be a number from 0 to 20, got 21/],
    [["--replica-linger-ms", "-1"], /--replica-linger-ms must be a number from 0 to 20, got -1/],
  ])("refuses %j before starting, naming it", (flags, message) => {
    const run = spawnSync(
      process.execPath,
      [MAIN_SCRIPT, "serve", "--id", "n1", "--insecure", ...flags],
      { encoding: "utf8", timeout: 20_000 },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it("serves every write and read through replica streams that linger, several calls a message", async () => {
    const cluster = await TestCluster.start({
      nodes: 3,
      serveArgs: ["--replica-linger-ms=20", "--metrics-listen=127.0.0.1:0"],
    });
    try {
      const client = cluster.client("n1");
      const all = { w: 3, r: 3 } as const; // every replica must answer through its stream
      const keys = Array.from({ length: 40 }, (_, index) => `linger-${index}`);
      await Promise.all(keys.map((key) => client.put(key, `v-${key}`, all)));
      const reads = await Promise.all(keys.map((key) => client.get(key, all)));
      expect(reads.map((read) => read.siblings.map((sibling) => sibling.value.toString()))).toEqual(
        keys.map((key) => [`v-${key}`]),
      );
      // One at a time with w=1: each put is answered before its replica calls leave, so only
      // a linger puts several puts' calls in one message (without one: a message per put).
      for (const key of keys) await client.put(key, "again", { w: 1 });
      const text = await scrapeMetrics(cluster, "n1");
      const messages = sampleValue(text, "dkv_replica_stream_messages_total", {}) ?? 0;
      const calls = sampleValue(text, "dkv_replica_stream_calls_total", {}) ?? 0;
      expect(calls).toBeGreaterThanOrEqual(6 * keys.length);
      expect(messages, `${calls} calls in ${messages} messages (a message each: ~84)`).toBeLessThan(
        calls / 4,
      );
    } finally {
      await cluster.stop();
    }
  });

  it("warns at start when Node.js runs without the flags a node needs", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dkv-serve-flags-"));
    const child = spawn(
      process.execPath,
      [MAIN_SCRIPT, "serve", "--id", "n1", "--insecure", "--listen", "127.0.0.1:0"].concat([
        "--metrics-listen",
        "127.0.0.1:0",
        "--data-dir",
        dir,
      ]),
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
      const deadline = performance.now() + 20_000;
      while (!/Node\.js runs without/.test(output) && performance.now() < deadline) {
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const line = output.split("\n").find((one) => one.includes("Node.js runs without"));
      expect(line, output).toBeDefined();
      const warning = JSON.parse(line!) as { level: number; missing: string[]; msg: string };
      expect(warning.level).toBe(40);
      expect(warning.missing).toEqual(["--no-memory-reducer", "--heap-growing-percent=100"]);
      expect(warning.msg).toMatch(/docs\/OPERATIONS\.md/);
    } finally {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
      await new Promise((resolve) =>
        child.exitCode === null ? child.once("exit", resolve) : resolve(0),
      );
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
