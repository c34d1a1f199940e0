// Flap check (DESIGN.md §5: the failure detector "must not flap under full load"): saturating
// read-modify-write load against a local cluster for a while, then count the "peer down" events
// in the nodes' logs and in status polls. Run: npx tsx scripts/fault-flap-check.ts --help

import { scriptSecurity } from "./lib/script-security.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { DkvClient } from "../coordinator/client.js";
import {
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  waitForServing,
  clusterClientSecurity,
} from "../cli/local-cluster.js";
import {
  builtMainScript,
  isAlive,
  loadCluster,
  say,
  signal,
  sleep,
  waitForExit,
} from "./lib/fault-cluster.js";

/** What to run. */
export interface FlapCheckOptions {
  readonly durationMs: number;
  readonly concurrency: number;
  readonly keys: number;
  readonly valueBytes: number;
  /** Use this running cluster (its cluster.json) instead of starting a fresh 3-node one. */
  readonly clusterDir?: string;
  readonly nodes: number;
  readonly print: (line: string) => void;
}

/** What happened. */
export interface FlapCheckResult {
  readonly downEvents: number;
  readonly downEventLines: readonly string[];
  /** Members seen down in status polls during the load (summed over polls and nodes). */
  readonly downInPolls: number;
  readonly polls: number;
  readonly failedPolls: number;
  readonly operations: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly operationsPerSecond: number;
  readonly maxRoundTripMs: number;
  readonly maxPhi: number;
  /** CPU used by each node during the load, in % of one core. */
  readonly nodeCpuPercent: Readonly<Record<string, number>>;
  /** CPU used by this process (the load generator), in % of one core. */
  readonly loadCpuPercent: number;
  /** Idle time of the whole machine during the load, in % of all its cores. */
  readonly machineIdlePercent: number;
}

interface Target {
  readonly id: string;
  readonly address: string;
  readonly pid: number;
  readonly logFile: string;
}

/** Runs the check: start (or use) a cluster, load it, count down events, stop what it started. */
export async function runFlapCheck(options: FlapCheckOptions): Promise<FlapCheckResult> {
  const started = options.clusterDir === undefined ? await startCluster(options) : undefined;
  const targets = started?.targets ?? targetsOf(options.clusterDir ?? "");
  try {
    return await loadAndCount(targets, options);
  } finally {
    if (started !== undefined) await started.stop();
  }
}

async function startCluster(
  options: FlapCheckOptions,
): Promise<{ targets: Target[]; stop: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-flap-"));
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(options.nodes),
    clusterDir: dir,
    storage: "memory",
    partitionCount: 64,
    logLevel: "info",
    mainScript: builtMainScript(),
  });
  const pids: number[] = [];
  // Ctrl-C must not leave nodes behind.
  const interrupted = (): void => {
    for (const pid of pids) signal(pid, "SIGKILL");
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  const stop = async (): Promise<void> => {
    process.removeListener("SIGINT", interrupted);
    for (const pid of pids) signal(pid, "SIGKILL");
    await Promise.all(pids.map((pid) => waitForExit(pid, 5000)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const targets = specs.map((spec) => {
      const pid = spawnNode(spec).pid ?? 0;
      pids.push(pid);
      return { id: spec.id, address: spec.address, pid, logFile: spec.logFile };
    });
    await Promise.all(
      specs.map((spec) => waitForServing(spec.address, 20_000, clusterClientSecurity(dir))),
    );
    options.print(`started ${specs.length} nodes in ${dir} (pids ${pids.join(", ")})`);
    return { targets, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function targetsOf(clusterDir: string): Target[] {
  return loadCluster(clusterDir).nodes.map((node) => ({
    id: node.id,
    address: node.address,
    pid: node.pid,
    logFile: node.logFile,
  }));
}

async function loadAndCount(
  targets: readonly Target[],
  options: FlapCheckOptions,
): Promise<FlapCheckResult> {
  // Let the first heartbeats settle so the window starts from a healthy cluster.
  await sleep(1500);
  const clients = targets.map(
    (target) => new DkvClient([target.address], { security: scriptSecurity() }),
  );
  const cpuBefore = new Map(targets.map((target) => [target.id, cpuMs(target.pid)]));
  const loadCpuBefore = process.cpuUsage();
  const idleBefore = machineIdle();
  const startMs = Date.now();
  options.print(
    `load: ${options.concurrency} concurrent get+put over ${options.keys} keys of ${options.valueBytes} B ` +
      `for ${options.durationMs} ms against ${targets.map((target) => target.id).join(", ")}`,
  );
  const stopAtMs = startMs + options.durationMs;
  const load = runLoad(clients, options, stopAtMs);
  const polls = pollStatus(targets, stopAtMs, options.print);
  const [counts, pollCounts] = await Promise.all([load, polls]);
  const elapsedMs = Date.now() - startMs;
  const loadCpu = process.cpuUsage(loadCpuBefore);
  const idleAfter = machineIdle();
  const machineIdlePercent = Math.round(
    (100 * (idleAfter.idle - idleBefore.idle)) / Math.max(1, idleAfter.total - idleBefore.total),
  );
  const nodeCpuPercent: Record<string, number> = {};
  for (const target of targets) {
    const used = cpuMs(target.pid) - (cpuBefore.get(target.id) ?? 0);
    nodeCpuPercent[target.id] = Math.round((100 * used) / elapsedMs);
  }
  for (const client of clients) client.close();
  const downEventLines = targets.flatMap((target) => downEvents(target.logFile, startMs));
  return {
    downEvents: downEventLines.length,
    downEventLines,
    ...pollCounts,
    operations: counts.operations,
    errors: counts.errors,
    operationsPerSecond: Math.round((1000 * counts.operations) / elapsedMs),
    nodeCpuPercent,
    loadCpuPercent: Math.round((loadCpu.user + loadCpu.system) / 10 / elapsedMs),
    machineIdlePercent,
  };
}

/** Read-modify-write workers (get, then put with the context) until stopAtMs. */
async function runLoad(
  clients: readonly DkvClient[],
  options: FlapCheckOptions,
  stopAtMs: number,
): Promise<{ operations: number; errors: Record<string, number> }> {
  const value = Buffer.alloc(options.valueBytes, 120);
  const errors: Record<string, number> = {};
  let operations = 0;
  let nextProgressMs = Date.now() + 10_000;
  const worker = async (index: number): Promise<void> => {
    let round = 0;
    while (Date.now() < stopAtMs) {
      const client = clients[(index + round++) % clients.length] as DkvClient;
      const key = `flap-${Math.floor(Math.random() * options.keys)}`;
      try {
        const got = await client.get(key, { timeoutMs: 10_000 });
        await client.put(key, value, { context: got.context, timeoutMs: 10_000 });
        operations += 2;
      } catch (error) {
        const name = (error as { details?: string }).details ?? String(error);
        const kind = name.replace(/\d+/g, "N").slice(0, 80);
        errors[kind] = (errors[kind] ?? 0) + 1;
      }
      if (Date.now() >= nextProgressMs) {
        nextProgressMs += 10_000;
        options.print(`  ${operations} operations so far`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
  return { operations, errors };
}

/** Asks every node for its status 4 times a second; counts members it reports down. */
async function pollStatus(
  targets: readonly Target[],
  stopAtMs: number,
  print: (line: string) => void,
): Promise<{
  downInPolls: number;
  polls: number;
  failedPolls: number;
  maxRoundTripMs: number;
  maxPhi: number;
}> {
  const clients = targets.map(
    (target) => new DkvClient([target.address], { security: scriptSecurity() }),
  );
  const counts = { downInPolls: 0, polls: 0, failedPolls: 0, maxRoundTripMs: 0, maxPhi: 0 };
  try {
    while (Date.now() < stopAtMs) {
      await sleep(250);
      await Promise.all(
        clients.map(async (client, index) => {
          counts.polls++;
          try {
            const status = await client.status({ timeoutMs: 5000 });
            for (const member of status.members) {
              counts.maxPhi = Math.max(counts.maxPhi, member.phi);
              counts.maxRoundTripMs = Math.max(counts.maxRoundTripMs, member.round_trip_ms);
              if (member.up) continue;
              counts.downInPolls++;
              print(`  ${targets[index]?.id} reports ${member.node_id} down: ${member.error}`);
            }
          } catch {
            counts.failedPolls++;
          }
        }),
      );
    }
  } finally {
    for (const client of clients) client.close();
  }
  return counts;
}

/** The "peer down" lines a node logged at or after sinceMs. */
function downEvents(logFile: string, sinceMs: number): string[] {
  let text = "";
  try {
    text = readFileSync(logFile, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").filter((line) => {
    if (!line.includes('"peer down"')) return false;
    try {
      return (JSON.parse(line) as { time: number }).time >= sinceMs;
    } catch {
      return false;
    }
  });
}

/** CPU time (user + system) a process has used, from /proc; 0 when unavailable. */
function cpuMs(pid: number): number {
  if (!isAlive(pid)) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat(5) (utime, stime), counted from "state" as field 3; in ticks.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100;
  } catch {
    return 0;
  }
}

/** Idle and total jiffies of the machine, from /proc/stat; zeros when unavailable. */
function machineIdle(): { idle: number; total: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.reduce((sum, value) => sum + value, 0);
    return { idle: (ticks[3] ?? 0) + (ticks[4] ?? 0), total };
  } catch {
    return { idle: 0, total: 0 };
  }
}

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .usage(
      "$0 [options]\n\nSaturating get+put load against a 3-node local cluster; counts failure-detector " +
        "down events (there must be none). Exits 1 when any node marked a peer down.",
    )
    .option("duration-ms", { type: "number", default: 60_000, describe: "How long to load" })
    .option("concurrency", { type: "number", default: 512, describe: "Requests in flight" })
    .option("keys", { type: "number", default: 10_000, describe: "Key space" })
    .option("value-bytes", { type: "number", default: 1024, describe: "Value size" })
    .option("nodes", { type: "number", default: 3, describe: "Nodes of the fresh cluster" })
    .option("cluster-dir", {
      type: "string",
      describe: "Load this running cluster (from `dkv cluster up`) instead of a fresh one",
    })
    .strict()
    .help()
    .parseAsync();
  const result = await runFlapCheck({
    durationMs: args["duration-ms"],
    concurrency: args.concurrency,
    keys: args.keys,
    valueBytes: args["value-bytes"],
    nodes: args.nodes,
    ...(args["cluster-dir"] === undefined ? {} : { clusterDir: args["cluster-dir"] }),
    print: say,
  });
  printResult(result);
  return result.downEvents === 0 && result.downInPolls === 0 ? 0 : 1;
}

function printResult(result: FlapCheckResult): void {
  say(
    `done: ${result.operations} operations (${result.operationsPerSecond}/s), ` +
      `CPU in % of a core: nodes ${JSON.stringify(result.nodeCpuPercent)}, load generator ` +
      `${result.loadCpuPercent}; machine idle ${result.machineIdlePercent}%`,
  );
  say(`errors: ${JSON.stringify(result.errors)}`);
  say(
    `status polls: ${result.polls} (${result.failedPolls} failed), members down in polls: ${result.downInPolls}, ` +
      `max phi seen ${result.maxPhi.toFixed(2)}, max ping round trip ${result.maxRoundTripMs.toFixed(0)} ms`,
  );
  for (const line of result.downEventLines) say(`  ${line}`);
  say(`down events during the load: ${result.downEvents}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(2);
    },
  );
}
