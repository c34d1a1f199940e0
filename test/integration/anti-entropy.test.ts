// Goal: anti-entropy alone makes replicas converge (issue #5): a node that missed 2,000 writes
// holds every key within three exchange intervals with no reads at all (its trees loaded from
// the snapshot its clean stop kept); a node whose data
// directory was deleted is rebuilt; a key deleted while a replica was away stays deleted, and
// its tombstone is reaped only once every primary holds it (never while a primary is down).
// Method: three `dkv serve` processes on the log engine with read repair and hinted handoff off
// and a 3 s exchange interval; each node's own copy is read with Admin.LocalGet, which asks no
// other replica and repairs nothing.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { MAIN_SCRIPT, TestCluster } from "./local-cluster-harness.js";
import type { DkvClient } from "../../coordinator/client.js";
import { askFirstReachable } from "../../cli/commands/aae-status.js";

const INTERVAL_MS = 3000;
const KEYS = 2000;
const CONCURRENCY = 64;
/** Generous: the machine may be shared with other test runs (the work itself takes ~10 s). */
const TEST_TIMEOUT_MS = 60_000;

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    nodes: 3,
    storage: "log",
    serveArgs: [
      "--no-read-repair",
      "--no-hinted-handoff",
      `--aae-interval-ms=${INTERVAL_MS}`,
      // Requests live 2 s at most, so a node reaps a tombstone it has held 3 s (writeLifeMs).
      "--limit=requestTimeoutMsDefault=1000",
      "--limit=requestTimeoutMsMax=2000",
    ],
  });
});

afterAll(async () => {
  await cluster?.stop();
});

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const giveUpAtMs = Date.now() + timeoutMs;
  while (Date.now() < giveUpAtMs) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

/** Runs `work` over 0..count-1 with `CONCURRENCY` in flight. */
async function forEachConcurrently(
  count: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      await work(index);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/**
 * Retries a write that failed (a loaded machine can make the failure detector doubt n2 for a
 * moment); the test is about what anti-entropy does with the writes, not about the writes.
 */
async function withRetries<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

async function keysStored(node: string): Promise<number> {
  return Number((await cluster.client(node).status()).keys_stored);
}

/** The keys (of `count` named prefix-i) whose value n3 does not hold itself. */
async function missingOn(node: string, prefix: string, count: number): Promise<string[]> {
  const client: DkvClient = cluster.client(node);
  const missing: string[] = [];
  await forEachConcurrently(count, async (index) => {
    const reply = await client.localGet(`${prefix}-${index}`);
    const values = reply.siblings.map((sibling) => sibling.value.toString());
    if (values.length !== 1 || values[0] !== `value-${index}`) missing.push(`${prefix}-${index}`);
  });
  return missing;
}

interface AaeStatus {
  counters: Record<string, number>;
  partitions: unknown[];
  tombstones: number;
  reap_blocked: string;
}

/** `dkv aae-status --json`, as an operator reads it: a process start (a second of CPU) a call. */
function aaeStatusCli(node: string): Promise<AaeStatus> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [MAIN_SCRIPT, "aae-status", "--node", cluster.spec(node).address, "--json"].concat([
        "--cluster-dir",
        cluster.dir,
      ]),
      (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout))),
    );
  });
}

/** The same AntiEntropy.Status reply, asked in-process: cheap enough to poll. */
async function aaeStatus(node: string): Promise<AaeStatus> {
  const reply = await askFirstReachable([cluster.spec(node).address], 5000, cluster.security);
  return {
    counters: { ...reply.counters },
    partitions: reply.partitions,
    tombstones: reply.tombstones,
    reap_blocked: reply.reap_blocked,
  };
}

describe("anti-entropy with read repair off", () => {
  it(
    "brings a node that missed 2,000 writes up to date within three intervals, with no reads",
    async () => {
      await cluster.stopNode("n3");
      const writer = cluster.client("n1");
      await forEachConcurrently(KEYS, async (index) => {
        await withRetries(() => writer.put(`missed-${index}`, `value-${index}`, { w: 2 }));
      });
      await cluster.startNode("n3");
      const restartedMs = Date.now();
      const caughtUp = await eventually(
        async () => (await keysStored("n3")) >= KEYS,
        3 * INTERVAL_MS,
      );
      const tookMs = Date.now() - restartedMs;
      expect(caughtUp, `n3 holds ${await keysStored("n3")} keys after ${tookMs} ms`).toBe(true);
      expect(await missingOn("n3", "missed", KEYS)).toEqual([]);
      // Its stop was clean: the trees came from the snapshot it kept, not from reading storage.
      expect(cluster.log("n3")).toContain("anti-entropy trees kept for the next start");
      expect(cluster.log("n3")).toContain("anti-entropy trees loaded from the snapshot");

      const status = await aaeStatusCli("n3");
      expect(status.partitions).toHaveLength(64);
      const peers = await Promise.all(["n1", "n2"].map(aaeStatus));
      const repaired = [status, ...peers].reduce(
        (sum, one) => sum + Number(one.counters["keys_repaired"]),
        0,
      );
      expect(repaired).toBeGreaterThanOrEqual(KEYS);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "rebuilds a node whose data directory was deleted",
    async () => {
      const before = await keysStored("n1");
      await cluster.stopNode("n3");
      rmSync(cluster.spec("n3").dataDir, { recursive: true, force: true });
      await cluster.startNode("n3");
      expect(await keysStored("n3")).toBe(0);
      const rebuilt = await eventually(
        async () => (await keysStored("n3")) >= before,
        6 * INTERVAL_MS,
      );
      expect(rebuilt, `n3 holds ${await keysStored("n3")} of ${before} keys`).toBe(true);
      expect(await missingOn("n3", "missed", KEYS)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "keeps a key deleted while one replica was away deleted, and reaps it only once all hold it",
    async () => {
      const client = cluster.client("n1");
      await withRetries(() => client.put("doomed", "alive", { w: 3 }));
      await cluster.stopNode("n3");
      const read = await withRetries(() => client.get("doomed", { r: 2 }));
      await withRetries(() => client.delete("doomed", { context: read.context, w: 2 }));
      // n3 is down: past the 3 s grace, a reaping round declines (a node reports why only
      // after a round that had a tombstone past its grace), and n1 and n2 still hold it.
      const declined = await eventually(async () => {
        const statuses = await Promise.all(["n1", "n2"].map(aaeStatus));
        return statuses.some((status) => /members down: n3/.test(status.reap_blocked));
      }, 30_000);
      expect(declined, "no reaping round declined while n3 was down").toBe(true);
      const tombstonesOf = async (node: string): Promise<string> => {
        const reply = await cluster.client(node).localGet("doomed");
        if (reply.siblings.length === 0) return "none";
        return reply.siblings.every((sibling) => sibling.deleted) ? "tombstone" : "live";
      };
      expect(await tombstonesOf("n1")).toBe("tombstone");
      expect(await tombstonesOf("n2")).toBe("tombstone");
      const waiting = await Promise.all(["n1", "n2"].map(aaeStatus));
      expect(waiting.map((status) => status.reap_blocked).join(" ")).toMatch(/members down: n3/);

      await cluster.startNode("n3");
      expect(await tombstonesOf("n3")).toBe("live");
      // n3 comes back with the live value; anti-entropy carries the tombstone to it, and only
      // then is it reaped everywhere. The live copy never revives the key anywhere.
      const seen = new Set<string>();
      const reaped = await eventually(async () => {
        const states = await Promise.all(["n1", "n2", "n3"].map(tombstonesOf));
        for (const [index, state] of states.entries()) seen.add(`n${index + 1}:${state}`);
        return states.every((state) => state === "none");
      }, 6 * INTERVAL_MS);
      expect(reaped, [...seen].join(" ")).toBe(true);
      expect(seen.has("n1:live") || seen.has("n2:live")).toBe(false);
      // A full cycle later (every pair compared again) nothing has come back anywhere.
      await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS + 500));
      for (const node of ["n1", "n2", "n3"]) expect(await tombstonesOf(node), node).toBe("none");
      expect((await withRetries(() => client.get("doomed", { r: 3 }))).siblings).toEqual([]);
      const statuses = await Promise.all(["n1", "n2", "n3"].map(aaeStatus));
      const reapedTotal = statuses.reduce(
        (sum, status) => sum + Number(status.counters["tombstones_reaped"]),
        0,
      );
      expect(reapedTotal).toBeGreaterThanOrEqual(3);
      for (const status of statuses) expect(Number(status.tombstones)).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
