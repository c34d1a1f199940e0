// A real full disk: the lmdb engine on a 2 MiB tmpfs. A durable put on the full disk must fail
// with an error that names the cause without taking the process down, reads must go on, and once
// space is freed writes must work again and a reopen must find every acknowledged write.
// Mounting needs root; without it the test is skipped and says why.
//
// The failing commit runs in a child process (node + tsx over the real lmdb-storage.ts). With
// its defaults, lmdb-js 3.5 rejected internal promises nobody listens to when a commit failed, and
// an unhandled rejection ends a plain Node process (and would fail the vitest run from inside the
// worker), so a dkv node exited the first time its disk filled; the engine now turns off lmdb's
// event-turn batching and unwraps `commitError`. The child reports each step it reaches as a
// `STEP {json}` line, so the test can assert on how far it got and on its exit status.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LmdbStorage } from "../../../../node/storage/lmdb-storage.js";
import { bytes, hex, mountSmallTmpfs, type SmallTmpfs } from "./storage-test-helpers.js";

const isRoot = process.getuid?.() === 0;
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const engineUrl = new URL("../../../../node/storage/lmdb-storage.ts", import.meta.url).href;
const SEEDED = Array.from({ length: 10 }, (_, i) => [`k${i}`, `v${i}`] as const);

/**
 * The child: opens the engine, writes k0..k9 durably, fills the disk, puts 10 KB objects
 * durably until one fails, reads k0..k9 again, waits for stray rejections to surface, frees the
 * disk, puts "after" durably and closes. argv: engine URL, data dir, filler file, and "record"
 * to record unhandled rejections rather than let Node's default end the process.
 */
const CHILD_SCRIPT = `
const [engineUrl, dir, filler, mode] = process.argv.slice(1);
const stray = [];
if (mode === "record") process.on("unhandledRejection", (reason) => stray.push(String(reason)));
const fs = await import("node:fs/promises");
const { LmdbStorage } = await import(engineUrl);
const report = (step, data = {}) => console.log("STEP " + JSON.stringify({ step, ...data }));
const text = (value) => (value === undefined ? null : Buffer.from(value).toString("utf8"));
const seeded = async (storage) => {
  const values = {};
  for (let i = 0; i < 10; i += 1) values["k" + i] = text(await storage.get("b", Buffer.from("k" + i)));
  return values;
};
const storage = new LmdbStorage({ dir });
await storage.open();
for (let i = 0; i < 10; i += 1)
  await storage.put("b", Buffer.from("k" + i), Buffer.from("v" + i), { durable: true });
report("seeded", { values: await seeded(storage) });
const handle = await fs.open(filler, "w");
try {
  for (;;) await handle.write(Buffer.alloc(64 * 1024, 1));
} catch (error) {
  if (error.code !== "ENOSPC") throw error;
} finally {
  await handle.close();
}
report("full");
const acked = [];
let failure;
for (let i = 0; i < 200 && failure === undefined; i += 1) {
  try {
    await storage.put("b", Buffer.from("big" + i), Buffer.alloc(10000, i), { durable: true });
    acked.push(i);
  } catch (error) {
    failure = error;
  }
}
report("failed", {
  acked,
  rejected: failure !== undefined,
  message: failure === undefined ? null : String(failure?.message ?? failure),
});
report("read", { values: await seeded(storage) });
await new Promise((resolve) => setTimeout(resolve, 200));
report("alive");
await fs.rm(filler);
await storage.put("b", Buffer.from("after"), Buffer.from("space freed"), { durable: true });
report("recovered");
await storage.close();
report("closed", { stray });
`;

interface ChildRun {
  readonly status: number | null;
  readonly signal: string | null;
  readonly stderr: string;
  readonly steps: Map<string, Record<string, unknown>>;
}

describe.skipIf(!isRoot)(
  "lmdb storage on a full disk (tmpfs; skipped unless running as root)",
  () => {
    let tmpfs: SmallTmpfs;

    beforeAll(async () => {
      tmpfs = await mountSmallTmpfs("dkv-lmdb-disk-full-", "2m");
    });

    afterAll(async () => {
      await tmpfs.unmount();
    });

    it("rejects a durable put on the full disk with the cause in the message, and the process survives", async (context) => {
      if (!tmpfs.mounted) context.skip(`cannot mount tmpfs: ${tmpfs.mountError}`);
      const dataDir = path.join(tmpfs.mountPoint, "data-default");
      const filler = path.join(tmpfs.mountPoint, "filler");
      // Node's default: an unhandled rejection ends the process, as it would a dkv node.
      const run = await runChild(["--unhandled-rejections=throw"], dataDir, filler, "default");
      const failed = run.steps.get("failed");
      expect(run.steps.get("seeded")?.values).toEqual(Object.fromEntries(SEEDED));
      expect(failed?.rejected).toBe(true);
      expect
        .soft(String(failed?.message), "the put's error message should name the cause")
        .toMatch(/ENOSPC|no space left on device|MDB_MAP_FULL/i);
      expect
        .soft(
          { status: run.status, signal: run.signal, steps: [...run.steps.keys()] },
          `the process should survive the failed put; its stderr:\n${run.stderr}`,
        )
        .toEqual({
          status: 0,
          signal: null,
          steps: ["seeded", "full", "failed", "read", "alive", "recovered", "closed"],
        });
      // Whatever became of the child, nothing acknowledged may be lost.
      await expectReopenHolds(dataDir, (failed?.acked as number[] | undefined) ?? [], run);
    });

    it("keeps serving reads, recovers once space is freed and loses no acknowledged write", async (context) => {
      if (!tmpfs.mounted) context.skip(`cannot mount tmpfs: ${tmpfs.mountError}`);
      const dataDir = path.join(tmpfs.mountPoint, "data-record");
      const filler = path.join(tmpfs.mountPoint, "filler");
      // Stray rejections are recorded rather than fatal, to see how the engine goes on.
      const run = await runChild([], dataDir, filler, "record");
      const describeRun = `child status ${run.status} signal ${run.signal}, stderr:\n${run.stderr}`;
      expect([...run.steps.keys()], describeRun).toEqual([
        "seeded",
        "full",
        "failed",
        "read",
        "alive",
        "recovered",
        "closed",
      ]);
      expect(run.status, describeRun).toBe(0);
      const failed = run.steps.get("failed");
      expect(failed?.rejected).toBe(true);
      expect(String(failed?.message)).toMatch(/^storage write failed: .*no space left on device/i);
      // Nothing rejected behind the engine's back.
      expect(run.steps.get("closed")?.stray).toEqual([]);
      expect(run.steps.get("read")?.values).toEqual(Object.fromEntries(SEEDED));
      await expectReopenHolds(dataDir, (failed?.acked as number[] | undefined) ?? [], run, true);
    });
  },
);

/**
 * Runs the child script over `dataDir` with extra node flags and returns what it reported;
 * the filler file is removed afterwards whatever became of the child.
 */
async function runChild(
  nodeFlags: readonly string[],
  dataDir: string,
  filler: string,
  mode: "default" | "record",
): Promise<ChildRun> {
  try {
    return runChildProcess(nodeFlags, dataDir, filler, mode);
  } finally {
    await fs.rm(filler, { force: true });
  }
}

function runChildProcess(
  nodeFlags: readonly string[],
  dataDir: string,
  filler: string,
  mode: "default" | "record",
): ChildRun {
  const result = spawnSync(
    process.execPath,
    [
      ...nodeFlags,
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      CHILD_SCRIPT,
      engineUrl,
      dataDir,
      filler,
      mode,
    ],
    { cwd: repoRoot, encoding: "utf8", timeout: 20_000, stdio: "pipe" },
  );
  if (result.error !== undefined) throw result.error;
  const steps = new Map<string, Record<string, unknown>>();
  for (const line of result.stdout.split("\n")) {
    if (!line.startsWith("STEP ")) continue;
    const step = JSON.parse(line.slice(5)) as Record<string, unknown>;
    steps.set(String(step.step), step);
  }
  return { status: result.status, signal: result.signal, stderr: result.stderr, steps };
}

/**
 * Reopens `dataDir` in this process (the disk has room again) and checks k0..k9, every
 * acknowledged 10 KB object and, if the child got that far, "after"; then checks that a put
 * works and survives one more reopen.
 */
async function expectReopenHolds(
  dataDir: string,
  acked: readonly number[],
  run: ChildRun,
  requireAfter = false,
): Promise<void> {
  let storage = new LmdbStorage({ dir: dataDir });
  await storage.open();
  try {
    for (const [key, value] of SEEDED)
      expect(hex(await storage.get("b", bytes(key)))).toBe(hex(bytes(value)));
    for (const i of acked)
      expect(hex(await storage.get("b", bytes(`big${i}`)))).toBe(
        hex(new Uint8Array(10_000).fill(i)),
      );
    const afterAcked = run.steps.has("recovered");
    if (requireAfter) expect(afterAcked).toBe(true);
    if (afterAcked)
      expect(hex(await storage.get("b", bytes("after")))).toBe(hex(bytes("space freed")));
    await storage.put("b", bytes("reopened"), bytes("writable"), { durable: true });
    await storage.close();
    storage = new LmdbStorage({ dir: dataDir });
    await storage.open();
    expect(hex(await storage.get("b", bytes("reopened")))).toBe(hex(bytes("writable")));
    expect(storage.stats().keys).toBe(SEEDED.length + acked.length + (afterAcked ? 1 : 0) + 1);
  } finally {
    await storage.close();
  }
}
