// Crash test of a whole node: a single-node dkv cluster on a durable engine is written to
// under load, killed with SIGKILL at a random moment, restarted, and checked: every write it
// acknowledged with dw >= 1 must read back. `npx tsx scripts/crash-node.ts --cycles 1000`.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ChildProcess } from "node:child_process";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import {
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  waitForServing,
  clusterClientSecurity,
} from "../cli/local-cluster.js";
import { DkvClient } from "../coordinator/client.js";

/** What a crash run saw. */
export interface CrashReport {
  readonly cycles: number;
  readonly acknowledged: number;
  readonly lost: readonly string[];
  readonly restartMsMax: number;
}

/** Runs `cycles` kill/restart cycles; `random` decides when each kill lands. */
export async function runCrashCycles(options: {
  readonly cycles: number;
  readonly mainScript: string;
  readonly writers?: number;
  /** The durable engine under test: log (default) or lmdb. */
  readonly storage?: "log" | "lmdb";
  readonly random?: () => number;
  readonly log?: (line: string) => void;
}): Promise<CrashReport> {
  const random = options.random ?? Math.random;
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-crash-"));
  const [spec] = await localClusterSpecs({
    ports: await probeFreePorts(1),
    clusterDir: dir,
    storage: options.storage ?? "log",
    partitionCount: 8,
    logLevel: "warn",
    mainScript: options.mainScript,
  });
  if (spec === undefined) throw new Error("no node spec");
  const acknowledged: string[] = [];
  const lost: string[] = [];
  let restartMsMax = 0;
  let child: ChildProcess | undefined;
  try {
    for (let cycle = 0; cycle < options.cycles; cycle++) {
      const startedMs = Date.now();
      child = spawnNode(spec);
      await waitForServing(spec.address, 20_000, clusterClientSecurity(dir));
      restartMsMax = Math.max(restartMsMax, Date.now() - startedMs);
      const client = new DkvClient([spec.address], { security: clusterClientSecurity(dir) });
      try {
        // The connection (a TLS handshake) is made before the kill timer starts: on a loaded
        // machine it alone can outlast a 50-300 ms cycle, and the cycle would test nothing.
        await client.get("crash-connect", { n: 1, r: 1, timeoutMs: 20_000 });
        const since = acknowledged.length;
        lost.push(...(await missing(client, acknowledged.slice(Math.max(0, since - 2000)))));
        const killAfterMs = 50 + Math.floor(random() * 250);
        const cycleAcks = await writeUntilKilled(
          client,
          child,
          cycle,
          options.writers ?? 16,
          killAfterMs,
        );
        acknowledged.push(...cycleAcks);
        log(
          `cycle ${cycle + 1}/${options.cycles}: ${cycleAcks.length} acknowledged, killed after ${killAfterMs} ms`,
        );
      } finally {
        client.close();
      }
    }
    child = spawnNode(spec);
    await waitForServing(spec.address, 20_000, clusterClientSecurity(dir));
    const client = new DkvClient([spec.address], { security: clusterClientSecurity(dir) });
    try {
      lost.push(...(await missing(client, acknowledged)));
    } finally {
      client.close();
    }
    return {
      cycles: options.cycles,
      acknowledged: acknowledged.length,
      lost: [...new Set(lost)],
      restartMsMax,
    };
  } finally {
    if (child !== undefined && child.exitCode === null && child.signalCode === null)
      child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes unique keys from several writers until the node is SIGKILLed; returns the acked keys. */
async function writeUntilKilled(
  client: DkvClient,
  child: ChildProcess,
  cycle: number,
  writers: number,
  killAfterMs: number,
): Promise<string[]> {
  const acked: string[] = [];
  let killed = false;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, killAfterMs);
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let index = 0; !killed; index++) {
        const key = `crash-${cycle}-${writer}-${index}`;
        try {
          await client.put(key, key, { n: 1, w: 1, dw: 1, timeoutMs: 2000 });
          acked.push(key);
        } catch {
          return; // the node is gone; unacknowledged writes may or may not have landed
        }
      }
    }),
  );
  clearTimeout(timer);
  await exited;
  return acked;
}

/** The keys among `keys` that the node does not hold with their own value. */
async function missing(client: DkvClient, keys: readonly string[]): Promise<string[]> {
  const absent: string[] = [];
  for (let start = 0; start < keys.length; start += 64) {
    const batch = keys.slice(start, start + 64);
    const replies = await Promise.all(
      batch.map((key) => client.localGet(key, { timeoutMs: 10_000 })),
    );
    replies.forEach((reply, index) => {
      const key = batch[index] ?? "";
      if (!reply.siblings.some((sibling) => Buffer.from(sibling.value).toString() === key))
        absent.push(key);
    });
  }
  return absent;
}

async function main(): Promise<void> {
  const args = await yargs(hideBin(process.argv))
    .usage("$0 [--cycles N]\n\nSIGKILL a loaded dkv node N times; check every dw=1 write survives.")
    .option("cycles", { type: "number", default: 100 })
    .option("writers", { type: "number", default: 16 })
    .option("storage", { choices: ["log", "lmdb"] as const, default: "log" as const })
    .strict()
    .help()
    .parseAsync();
  const mainScript = path.resolve("dist/cli/main.js");
  const report = await runCrashCycles({
    cycles: args.cycles,
    writers: args.writers,
    storage: args.storage,
    mainScript,
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  console.log(
    `${report.cycles} cycles, ${report.acknowledged} writes acknowledged with dw=1, ` +
      `${report.lost.length} lost, slowest restart ${report.restartMsMax} ms`,
  );
  if (report.lost.length > 0) {
    console.log(`lost: ${report.lost.slice(0, 20).join(", ")}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
