// Goal: a node's acknowledged durable writes survive SIGKILL, and corruption in its data files
// is found, reported by `dkv status`, and does not stop it serving every other key.
// Method: real `dkv serve` processes on the log engine; scripts/crash-node.ts for the crash
// cycles; a byte flipped inside a stopped node's segment for corruption.

import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import path from "node:path";
import { runCrashCycles } from "../../scripts/crash-node.js";
import { MAIN_SCRIPT, TestCluster } from "./local-cluster-harness.js";

describe("durability of a node", () => {
  it(
    // The suite's short version; `npx tsx scripts/crash-node.ts --cycles 1000` is the long one.
    "keeps every dw=1 write through 12 SIGKILL/restart cycles under write load",
    { timeout: 240_000 },
    async () => {
      let seed = 7;
      const random = (): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed / 2147483648;
      };
      const report = await runCrashCycles({ cycles: 12, mainScript: MAIN_SCRIPT, random });
      expect(report.acknowledged).toBeGreaterThan(120);
      expect(report.lost).toEqual([]);
    },
  );

  it(
    "keeps every dw=1 write through 5 SIGKILL/restart cycles on the lmdb engine",
    { timeout: 120_000 },
    async () => {
      const report = await runCrashCycles({ cycles: 5, mainScript: MAIN_SCRIPT, storage: "lmdb" });
      expect(report.acknowledged).toBeGreaterThan(50);
      expect(report.lost).toEqual([]);
    },
  );

  it("on lmdb, reports a value that fails its CRC and serves every other key", async () => {
    const cluster = await TestCluster.start({ nodes: 1, storage: "lmdb" });
    try {
      const client = cluster.client("n1");
      for (let index = 0; index < 40; index++) {
        await client.put(`key-${index}`, `value-${index}`.padEnd(200, "."), { n: 1, w: 1 });
      }
      await cluster.stopNode("n1");
      const file = path.join(cluster.spec("n1").dataDir, "lmdb", "data.mdb");
      const bytes = readFileSync(file);
      // Copy-on-write may leave stale copies of the page in free space: damage every copy.
      const marker = Buffer.from("value-17.....");
      let copies = 0;
      for (let at = bytes.indexOf(marker); at >= 0; at = bytes.indexOf(marker, at + 1)) {
        bytes[at + 20] = (bytes[at + 20] ?? 0) ^ 0xff;
        copies += 1;
      }
      expect(copies).toBeGreaterThan(0);
      writeFileSync(file, bytes);
      await cluster.startNode("n1");

      // The start-up tree rebuild reads every entry, so status knows at once.
      let corrupt = 0;
      for (let tries = 0; tries < 100 && corrupt === 0; tries++) {
        corrupt = Number((await cluster.client("n1").status()).corrupt_records);
        if (corrupt === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(corrupt).toBe(1);
      for (let index = 0; index < 40; index++) {
        const reply = await cluster.client("n1").get(`key-${index}`, { n: 1, r: 1 });
        expect(reply.siblings.length, `key-${index}`).toBe(index === 17 ? 0 : 1);
      }
    } finally {
      await cluster.stop();
    }
  });

  it("reports a corrupt record in status and still serves every other key", async () => {
    const cluster = await TestCluster.start({ nodes: 1, storage: "log" });
    try {
      const client = cluster.client("n1");
      for (let index = 0; index < 40; index++) {
        await client.put(`key-${index}`, `value-${index}`.padEnd(200, "."), { n: 1, w: 1 });
      }
      await cluster.stopNode("n1");
      const logDir = path.join(cluster.spec("n1").dataDir, "log");
      const segment = readdirSync(logDir)
        .map((name) => path.join(logDir, name))
        .filter((file) => statSync(file).size > 4000)[0];
      expect(segment).toBeDefined();
      const bytes = readFileSync(segment as string);
      const middle = Math.floor(bytes.length / 2);
      bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
      writeFileSync(segment as string, bytes);
      await cluster.startNode("n1");

      // The clean stop left a hint file for the segment, so the start read no record: the
      // damage is found when its key is read (every read from a file checks the record's CRC).
      let served = 0;
      for (let index = 0; index < 40; index++) {
        const reply = await cluster.client("n1").get(`key-${index}`, { n: 1, r: 1 });
        if (reply.siblings.length === 1) served += 1;
      }
      expect(served).toBeGreaterThanOrEqual(39);
      expect(served).toBeLessThan(40);
      const status = await cluster.client("n1").status();
      expect(Number(status.corrupt_records)).toBeGreaterThanOrEqual(1);
    } finally {
      await cluster.stop();
    }
  });
});
