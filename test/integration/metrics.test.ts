// Goal: every node started with --metrics-listen serves Prometheus metrics whose request
// counters and latency histograms follow the requests it answered, whose hint, handoff,
// failure-detector, anti-entropy and storage figures follow what the cluster does, and
// `dkv status` shows each node's own p50/p99. A bad --metrics-listen is a usage error.
// Method: 3 real nodes (log engine, metrics on port 0, anti-entropy every 2 s); puts and gets
// through n1; n3 killed while 25 keys are written and restarted, so that one exchange fills its
// gap; n3 killed again, writes with n=2 so fallbacks keep hints for it, n3 restarted so they
// are handed off; /metrics scraped over HTTP at each step, ports found by `dkv status`.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MAIN_SCRIPT, TestCluster } from "./local-cluster-harness.js";
import { sampleValue } from "../unit/node/metrics/metrics-test-helpers.js";
import { FAULT_INJECTION_FLAG, setDroppedPeers } from "../../scripts/lib/fault-cluster.js";

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    nodes: 3,
    storage: "log",
    serveArgs: [FAULT_INJECTION_FLAG, "--metrics-listen=127.0.0.1:0", "--aae-interval-ms=2000"],
  });
});

afterAll(async () => {
  await cluster?.stop();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function dkv(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN_SCRIPT, ...args],
      { timeout: 30_000, env: { ...process.env, ...cluster?.cliEnv } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface StatusJson {
  node_id: string;
  metrics_address: string;
  nodes: { node_id: string; answered: boolean; metrics_address: string; recent_requests: number }[];
}

/** Each node's metrics address, from `dkv status --json` asked of n1. */
async function metricsAddresses(): Promise<Map<string, string>> {
  const run = await dkv(["status", "--json", "--node", cluster.spec("n1").address]);
  expect(run.code, run.stderr).toBe(0);
  const status = JSON.parse(run.stdout) as StatusJson;
  return new Map(status.nodes.map((node) => [node.node_id, node.metrics_address]));
}

async function scrape(address: string | undefined): Promise<string> {
  if (address === undefined || address === "") throw new Error("node has no metrics address");
  const response = await fetch(`http://${address}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** A sample that must be there. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const value = sampleValue(text, name, labels);
  expect(value, `${name} ${JSON.stringify(labels)}`).toBeDefined();
  return value ?? Number.NaN;
}

interface AaeFigures {
  exchanges: number;
  differences: number;
  repaired: number;
  sent: number;
  received: number;
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const giveUpAtMs = Date.now() + timeoutMs;
  while (Date.now() < giveUpAtMs) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return check();
}

describe("metrics", () => {
  it("finds every node's metrics port with dkv status and in its log", async () => {
    const addresses = await metricsAddresses();
    expect([...addresses.keys()].sort()).toEqual(["n1", "n2", "n3"]);
    for (const [node, address] of addresses) {
      expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(address).not.toBe("127.0.0.1:0");
      expect(cluster.log(node)).toContain(`"address":"${address}","msg":"metrics listening"`);
    }
    const other = await fetch(`http://${addresses.get("n1")}/`);
    expect(other.status).toBe(404);
  });

  it("counts requests and their latency by operation and outcome", async () => {
    const client = cluster.client("n1");
    for (let index = 0; index < 20; index++) await client.put(`m-${index}`, `value-${index}`);
    for (let index = 0; index < 20; index++) await client.get(`m-${index}`);
    await client.get("m-missing");
    await expect(client.put("m-bad", "v", { w: 4 })).rejects.toThrow(/w=4 exceeds n=3/);

    const addresses = await metricsAddresses();
    const text = await scrape(addresses.get("n1"));
    const putOk = { node: "n1", op: "put", outcome: "ok" };
    const getOk = { node: "n1", op: "get", outcome: "ok" };
    expect(sample(text, "dkv_kv_requests_total", putOk)).toBe(20);
    expect(sample(text, "dkv_kv_requests_total", getOk)).toBe(20);
    expect(sample(text, "dkv_kv_requests_total", { op: "get", outcome: "not_found" })).toBe(1);
    expect(sample(text, "dkv_kv_requests_total", { op: "put", outcome: "invalid" })).toBe(1);
    expect(sample(text, "dkv_kv_requests_total", { op: "delete", outcome: "ok" })).toBe(0);
    expect(sample(text, "dkv_kv_request_duration_seconds_count", getOk)).toBe(20);
    expect(sample(text, "dkv_kv_request_duration_seconds_bucket", { ...getOk, le: "+Inf" })).toBe(
      20,
    );
    expect(sample(text, "dkv_kv_request_duration_seconds_bucket", { ...getOk, le: "5" })).toBe(20);
    expect(sample(text, "dkv_kv_request_duration_seconds_sum", getOk)).toBeGreaterThan(0);
    expect(sample(text, "dkv_kv_get_siblings_count")).toBe(20);
    expect(sample(text, "dkv_kv_get_siblings_bucket", { le: "1" })).toBe(20);
    expect(sample(text, "dkv_kv_object_bytes_count", { op: "get" })).toBe(20);
    // Puts n1 forwarded to a primary were measured there, not here.
    expect(sample(text, "dkv_kv_object_bytes_count", { op: "put" })).toBeLessThanOrEqual(20);

    let keys = 0;
    let streamCalls = 0;
    for (const node of ["n1", "n2", "n3"]) {
      const other = await scrape(addresses.get(node));
      keys += sample(other, "dkv_storage_keys", { node, store: "data" });
      expect(sample(other, "dkv_storage_segments", { store: "data" })).toBeGreaterThanOrEqual(1);
      // No key was written twice and no segment has been frozen: nothing is dead yet.
      expect(sample(other, "dkv_storage_dead_bytes", { store: "data" })).toBe(0);
      expect(sample(other, "dkv_storage_corrupt_records", { store: "data" })).toBe(0);
      // Every replica fsyncs: a coordinator with each batch of its dw=1 puts, the others within
      // the write queue's sync interval.
      expect(sample(other, "dkv_storage_fsync_duration_seconds_count")).toBeGreaterThan(0);
      // Batching: every record went out in some append; an append or fsync covers one or more.
      const records = sample(other, "dkv_storage_records_written_total", { store: "data" });
      const appends = sample(other, "dkv_storage_appends_total", { store: "data" });
      expect(records).toBeGreaterThanOrEqual(20);
      expect(appends).toBeGreaterThan(0);
      expect(appends).toBeLessThanOrEqual(records);
      expect(sample(other, "dkv_storage_fsyncs_total", { store: "data" })).toBeGreaterThan(0);
      const messages = sample(other, "dkv_replica_stream_messages_total");
      const calls = sample(other, "dkv_replica_stream_calls_total");
      expect(messages).toBeLessThanOrEqual(calls);
      streamCalls += calls;
      // Each key was read 20 requests after its put reached all three replicas: none stale.
      expect(sample(other, "dkv_read_repairs_total")).toBe(0);
      // Every replica batch went through the fast encoder, none by reflection.
      for (const message of ["calls", "replies"]) {
        expect(sample(other, "dkv_replica_codec_fallbacks_total", { message })).toBe(0);
      }
      expect(sample(other, "process_resident_memory_bytes")).toBeGreaterThan(0);
    }
    expect(keys).toBe(60); // n=3: every node holds every key
    // Each put's coordinator sent it to the two other replicas, and each get to at least one.
    expect(streamCalls).toBeGreaterThanOrEqual(2 * 20 + 20);
  });

  it("repairs nothing when every replica holds the version read (digest reads answer same)", async () => {
    const client = cluster.client("n1");
    for (let index = 0; index < 10; index++) await client.put(`same-${index}`, "v", { w: 3 });
    const addresses = await metricsAddresses();
    const repairs = async (): Promise<number> =>
      sample(await scrape(addresses.get("n1")), "dkv_read_repairs_total");
    const before = await repairs();
    for (let index = 0; index < 10; index++) {
      const read = await client.get(`same-${index}`, { r: 3 });
      expect(read.siblings.map((sibling) => sibling.value.toString())).toEqual(["v"]);
    }
    // Read repair runs after the reply; give it the time it would take.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await repairs()).toBe(before);
  });

  it(
    "counts the differences found and keys repaired when anti-entropy fills a replica's gap",
    { timeout: 90_000 },
    async () => {
      const aae = async (address: string | undefined): Promise<AaeFigures> => {
        const text = await scrape(address);
        return {
          exchanges: sample(text, "dkv_aae_exchanges_total"),
          differences: sample(text, "dkv_aae_differences_total"),
          repaired: sample(text, "dkv_aae_keys_repaired_total"),
          sent: sample(text, "dkv_aae_bytes_total", { direction: "sent" }),
          received: sample(text, "dkv_aae_bytes_total", { direction: "received" }),
        };
      };
      const addresses = await metricsAddresses();
      const others = { n1: addresses.get("n1"), n2: addresses.get("n2") };
      const before = { n1: await aae(others.n1), n2: await aae(others.n2) };

      // n3 misses GAP writes. With 3 nodes and n=3 there is no fallback to keep a hint for it,
      // and nothing reads them, so only anti-entropy can bring them to n3.
      const GAP = 25;
      const gap = Array.from({ length: GAP }, (_, index) => `gap-${index}`);
      await cluster.stopNode("n3", "kill");
      const writer = cluster.client("n1");
      for (const key of gap) await writer.put(key, key, { w: 2 });
      for (const address of [others.n1, others.n2]) {
        expect(sample(await scrape(address), "dkv_hints_pending", { target: "n3" })).toBe(0);
      }
      // Every exchange of a 3-node cluster is opened by one node of the pair: n1→n2, n2→n3,
      // n3→n1. n2 drops n3 for now, so n3→n1 is the one exchange that can see the gap and the
      // counts are exact (two exchanges racing over the same keys would both count them).
      await setDroppedPeers(cluster.spec("n2").address, ["n3"]);
      try {
        await cluster.startNode("n3");
        // The restarted n3 has a new metrics port, and counters starting at 0.
        let n3: string | undefined;
        const answered = async (): Promise<boolean> => {
          n3 = (await metricsAddresses()).get("n3");
          return n3 !== undefined && n3 !== "";
        };
        expect(await until(answered, 20_000)).toBe(true);
        const filled = await until(async () => (await aae(n3)).repaired >= GAP, 30_000);
        expect(filled, JSON.stringify(await aae(n3))).toBe(true);
        // One more exchange of n3's with n1 finds nothing left to count.
        const exchanged = (await aae(n3)).exchanges;
        expect(await until(async () => (await aae(n3)).exchanges > exchanged, 20_000)).toBe(true);

        const after = await aae(n3);
        expect(after).toMatchObject({ differences: GAP, repaired: GAP });
        expect(after.sent).toBeGreaterThan(0);
        // The repaired objects came from n1: at least their values' bytes.
        expect(after.received).toBeGreaterThan(gap.join("").length);
        const status = await dkv(["aae-status", "--json", "--node", cluster.spec("n3").address]);
        expect(status.code, status.stderr).toBe(0);
        expect(JSON.parse(status.stdout)).toMatchObject({
          counters: { differences_found: GAP, keys_repaired: GAP },
        });
        // n1 and n2 had nothing to repair between them.
        for (const node of ["n1", "n2"] as const) {
          const now = await aae(others[node]);
          expect(now.differences - before[node].differences, node).toBe(0);
          expect(now.repaired - before[node].repaired, node).toBe(0);
        }
        const n3Client = cluster.client("n3");
        for (const key of gap) {
          const copy = await n3Client.localGet(key);
          expect(
            copy.siblings.map((sibling) => sibling.value.toString()),
            key,
          ).toEqual([key]);
        }
      } finally {
        await setDroppedPeers(cluster.spec("n2").address, []);
      }
      // Leave the cluster whole for the tests after this one.
      const upEverywhere = async (): Promise<boolean> => {
        for (const address of [others.n1, others.n2]) {
          const text = await scrape(address);
          if (sampleValue(text, "dkv_peer_up", { peer: "n3" }) !== 1) return false;
          if ((sampleValue(text, "dkv_peer_phi", { peer: "n3" }) ?? Infinity) >= 8) return false;
        }
        return true;
      };
      expect(await until(upEverywhere, 20_000)).toBe(true);
    },
  );

  it("shows failure detection, hints and their handoff", { timeout: 60_000 }, async () => {
    const addresses = await metricsAddresses();
    const n1 = addresses.get("n1");
    const n2 = addresses.get("n2");
    const before = await scrape(n1);
    expect(sample(before, "dkv_peer_up", { peer: "n3" })).toBe(1);
    expect(sample(before, "dkv_peer_phi", { peer: "n3" })).toBeLessThan(8);
    expect(sample(before, "dkv_hints_pending", { target: "n3" })).toBe(0);

    await cluster.stopNode("n3", "kill");
    const down = async (address: string | undefined): Promise<boolean> =>
      sampleValue(await scrape(address), "dkv_peer_up", { peer: "n3" }) === 0;
    expect(await until(async () => (await down(n1)) && (await down(n2)), 10_000)).toBe(true);

    // With n=2 a key whose primaries include n3 is kept by the third node, with a hint.
    const client = cluster.client("n1");
    for (let index = 0; index < 20; index++) await client.put(`h-${index}`, "v", { n: 2 });
    const hintsForN3 = async (): Promise<{ count: number; bytes: number; delivered: number }> => {
      const totals = { count: 0, bytes: 0, delivered: 0 };
      for (const address of [n1, n2]) {
        const text = await scrape(address);
        totals.count += sample(text, "dkv_hints_pending", { target: "n3" });
        totals.bytes += sample(text, "dkv_hint_bytes_pending", { target: "n3" });
        totals.delivered += sample(text, "dkv_hints_delivered_total");
      }
      return totals;
    };
    const pending = await hintsForN3();
    expect(pending.count).toBeGreaterThan(0);
    expect(pending.bytes).toBeGreaterThanOrEqual(pending.count); // one-byte values, encoded
    expect(pending.delivered).toBe(0);

    await cluster.startNode("n3");
    const handedOff = await until(async () => {
      const now = await hintsForN3();
      return now.count === 0 && now.delivered >= pending.count;
    }, 20_000);
    expect(handedOff, JSON.stringify(await hintsForN3())).toBe(true);
    expect(await until(async () => !(await down(n1)), 10_000)).toBe(true);
  });

  it("dkv status shows p50 and p99 of every node", async () => {
    for (const node of ["n1", "n2", "n3"]) await cluster.client(node).get("m-1");
    const run = await dkv(["status", "--node", cluster.spec("n1").address]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/│ reqs 60s │ p50 ms │ p99 ms │ metrics +│/);
    for (const node of ["n1", "n2", "n3"]) {
      const row = run.stdout.split("\n").find((line) => line.startsWith(`│ ${node} `));
      const cells = (row ?? "").split("│").map((cell) => cell.trim());
      // │ node │ address │ state │ phi │ rtt │ partitions │ hints │ reqs │ p50 │ p99 │ metrics │
      expect(Number(cells[8]), `${node}: ${row}`).toBeGreaterThan(0);
      expect(cells[9], `${node}: ${row}`).toMatch(/^\d+\.\d\d$/);
      expect(cells[10], `${node}: ${row}`).toMatch(/^\d+\.\d\d$/);
      expect(Number(cells[10])).toBeGreaterThanOrEqual(Number(cells[9]));
      expect(cells[11]).toMatch(/^:\d+$/); // the port, on the node's own host
    }
  });

  it("refuses a --metrics-listen that is not host:port with exit status 2", async () => {
    const run = await dkv(["serve", "--id", "n9", "--metrics-listen", "nonsense"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--metrics-listen must be host:port .*got 'nonsense'/);
  });
});

describe("dkv cluster up", () => {
  it("gives every node a metrics port and lists it", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dkv-metrics-up-"));
    const supervisor = spawn(
      process.execPath,
      [MAIN_SCRIPT, "cluster", "up", "--nodes", "2", "--data-dir", dir, "--storage", "memory"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    supervisor.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    supervisor.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => supervisor.once("exit", () => resolve()));
    let pids: number[] = [];
    try {
      expect(await until(async () => output.includes("press Ctrl-C"), 30_000), output).toBe(true);
      const file = JSON.parse(readFileSync(path.join(dir, "cluster.json"), "utf8")) as {
        nodes: { id: string; address: string; pid: number; metricsAddress?: string }[];
      };
      pids = file.nodes.map((node) => node.pid);
      for (const node of file.nodes) {
        expect(node.metricsAddress).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(node.metricsAddress).not.toBe(node.address);
        expect(output).toContain(`${node.id}  ${node.address}  metrics ${node.metricsAddress}`);
        const text = await scrape(node.metricsAddress);
        expect(
          sample(text, "dkv_kv_requests_total", { node: node.id, op: "get", outcome: "ok" }),
        ).toBe(0);
      }
    } finally {
      supervisor.kill("SIGINT");
      const stopped = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000)),
      ]);
      if (!stopped) supervisor.kill("SIGKILL");
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
