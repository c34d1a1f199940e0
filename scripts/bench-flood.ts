// Benchmark of issue 15's abuse limits (not a test). Two parts:
// 1. A secured 3-node cluster serves a real client (the admin's certificate) at a fixed rate of
//    gets on n1, quiet and then while --flood-connections anonymous TLS connections from
//    --flood-addresses loopback addresses hammer n1 (calls refused UNAUTHENTICATED, then a
//    reconnect): p99 quiet and flooded, their ratio (target ≤ 2), refusals, the nodes' CPU.
// 2. Connection setup cost: a new connection and its first call (a health check), one at a time,
//    against a one-node TLS cluster and a one-node --insecure one: wall time and node CPU each.
// Run: npm run bench:flood -- [--flood-connections 1000] [--flood-addresses 32] [--rate 200]
//      [--phase-seconds 10] [--setup-connections 200] [--client unary|session] [--json]

import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { tmpdir } from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import Table from "cli-table3";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import {
  clusterClientSecurity,
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  stopProcess,
  waitForServing,
} from "../cli/local-cluster.js";
import { processCpuSeconds } from "../cli/bench/bench-processes.js";
import { DkvClient } from "../coordinator/client.js";
import { newLatencyHistogram } from "../cli/bench/latency-recorder.js";
import type { ClientSecurity } from "../node/security/client-security.js";
import { builtMainScript, say, sleep } from "./lib/fault-cluster.js";
import type { FloodReport } from "./lib/anonymous-flood.js";

/** CPU seconds (user + system) a process has used, from /proc (these benchmarks need Linux). */
function cpuSeconds(pid: number): number {
  const seconds = processCpuSeconds(pid);
  if (seconds === undefined) throw new Error(`no CPU time for pid ${pid}: /proc is needed`);
  return seconds;
}

interface Cluster {
  readonly addresses: string[];
  readonly children: ChildProcess[];
  readonly security: ClientSecurity;
  stop(): Promise<void>;
}

const running = new Set<Cluster>();

async function startCluster(nodes: number, serveArgs: string[]): Promise<Cluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-bench-flood-"));
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(nodes),
    clusterDir: dir,
    storage: "memory",
    partitionCount: 64,
    logLevel: "warn",
    mainScript: builtMainScript(),
    serveArgs,
  });
  const security = clusterClientSecurity(dir);
  const children = specs.map((spec) => spawnNode(spec));
  const cluster: Cluster = {
    addresses: specs.map((spec) => spec.address),
    children,
    security,
    async stop() {
      running.delete(cluster);
      await Promise.all(children.map((child) => stopProcess(child, 5000)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(cluster);
  await Promise.all(specs.map((spec) => waitForServing(spec.address, 30_000, security)));
  return cluster;
}

interface Phase {
  readonly name: string;
  readonly operations: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU of the three nodes, in cores (CPU seconds per second), n1 first. */
  readonly cpuCores: number[];
  /** Failed gets by message. */
  readonly errors: Record<string, number>;
}

/**
 * Gets at a fixed rate, open loop: each latency counts from when the get was due, so a stall
 * shows in full (no coordinated omission).
 */
async function fixedRate(
  name: string,
  client: DkvClient,
  rate: number,
  seconds: number,
  pids: number[],
): Promise<Phase> {
  const histogram = newLatencyHistogram();
  let failed = 0;
  const errors = new Map<string, number>();
  const cpuBefore = pids.map(cpuSeconds);
  const startedMs = performance.now();
  const pending: Promise<void>[] = [];
  for (let index = 0; index < rate * seconds; index++) {
    const dueMs = startedMs + (index * 1000) / rate;
    const waitMs = dueMs - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    pending.push(
      client.get("flood-key", { timeoutMs: 5000 }).then(
        () => histogram.recordValue(Math.max(1, Math.round((performance.now() - dueMs) * 1000))),
        (error: { details?: string }) => {
          failed += 1;
          // Numbers (times, ports) out, so that one cause is one entry.
          const reason = (error.details ?? String(error)).replace(/[\d.]+/g, "N").slice(0, 80);
          errors.set(reason, (errors.get(reason) ?? 0) + 1);
        },
      ),
    );
  }
  await Promise.all(pending);
  const wallSeconds = (performance.now() - startedMs) / 1000;
  const cpuCores = pids.map((pid, index) => (cpuSeconds(pid) - cpuBefore[index]!) / wallSeconds);
  return {
    name,
    operations: histogram.totalCount,
    failed,
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
    cpuCores,
    errors: Object.fromEntries(errors),
  };
}

interface SetupCost {
  readonly mode: string;
  readonly connections: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Node CPU per connection (ms). */
  readonly serverCpuMs: number;
}

/** New connections one at a time, each with one health check, against one node. */
async function setupCost(mode: string, cluster: Cluster, count: number): Promise<SetupCost> {
  const address = cluster.addresses[0]!;
  const pid = cluster.children[0]!.pid!;
  const histogram = newLatencyHistogram();
  const pass = (bytes: Buffer): Buffer => bytes;
  const cpuBefore = cpuSeconds(pid);
  const startedMs = performance.now();
  for (let index = 0; index < count; index++) {
    const secured = cluster.security.channel(address);
    // A subchannel of its own: grpc-js would otherwise share one connection between clients.
    const options = { ...secured.options, "grpc.use_local_subchannel_pool": 1 };
    const t0 = performance.now();
    const client = new grpc.Client(address, secured.credentials, options);
    await new Promise<void>((resolve, reject) =>
      client.makeUnaryRequest(
        "/grpc.health.v1.Health/Check",
        pass,
        pass,
        Buffer.alloc(0),
        new grpc.Metadata(),
        { deadline: Date.now() + 5000 },
        (error) => (error === null ? resolve() : reject(error)),
      ),
    );
    histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
    client.close();
  }
  const wallMs = performance.now() - startedMs;
  return {
    mode,
    connections: count,
    meanMs: wallMs / count,
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
    serverCpuMs: ((cpuSeconds(pid) - cpuBefore) * 1000) / count,
  };
}

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .usage("$0 [options]\n\nA real client's p99 under an anonymous connection flood.")
    .option("flood-connections", { type: "number", default: 1000 })
    .option("flood-addresses", {
      type: "number",
      default: 32,
      describe: "Loopback source addresses of the flood (127.0.0.2, ...), at most 250",
    })
    .option("calls-per-connection", { type: "number", default: 4 })
    .option("rate", { type: "number", default: 200, describe: "The real client's gets/s" })
    .option("phase-seconds", { type: "number", default: 10 })
    .option("setup-connections", { type: "number", default: 200 })
    .option("flood-nice", {
      type: "number",
      default: 19,
      describe: "Nice value of the flood process (0: it competes with the cluster for the cores)",
    })
    .option("client", {
      choices: ["unary", "session"] as const,
      default: "unary" as const,
      describe: "The real client: unary calls, or DkvClient's default coalescing session",
    })
    .option("json", { type: "boolean", default: false })
    .strict()
    .help()
    .parseAsync();
  // SIGTERM too: `timeout` and CI runners stop a script with it, and its nodes must not outlive it.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void Promise.all([...running].map((cluster) => cluster.stop())).then(() => process.exit(130));
    });
  }
  const cluster = await startCluster(3, []);
  const pids = cluster.children.map((child) => child.pid!);
  // Unary calls, as a plain gRPC client in any language makes them (and as earlier runs did),
  // or the TypeScript client's default session.
  const client = new DkvClient([cluster.addresses[0]!], {
    security: cluster.security,
    session: args.client === "session",
  });
  // A node's channel to a peer that was not listening yet when it first tried waits out
  // gRPC's reconnect backoff (about a second): a w=3 put may find it there, so it is retried.
  for (let attempt = 1; ; attempt++) {
    try {
      await client.put("flood-key", Buffer.alloc(1024, 7), { w: 3 });
      break;
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  say(`3 TLS nodes up; ${args.rate} gets/s for ${args["phase-seconds"]} s, quiet`);
  await fixedRate("warm-up", client, args.rate, 2, pids);
  const quiet = await fixedRate("quiet", client, args.rate, args["phase-seconds"], pids);
  const [host, port] = [cluster.addresses[0]!.split(":")[0]!, cluster.addresses[0]!.split(":")[1]!];
  const flood = fork(
    path.resolve("scripts/lib/anonymous-flood.ts"),
    [
      host,
      port,
      `${args["flood-connections"]}`,
      `${args["flood-addresses"]}`,
      `${args["calls-per-connection"]}`,
    ],
    { execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "inherit", "ipc"] },
  );
  // The attacker stands for other machines: at --flood-nice it takes these 2 cores only when
  // the cluster and the real client leave them idle, so the p99 shows what the node pays.
  os.setPriority(flood.pid!, args["flood-nice"]);
  say(`flood of ${args["flood-connections"]} anonymous connections started`);
  await sleep(3000);
  const floodCpuBefore = cpuSeconds(flood.pid!);
  const flooded = await fixedRate("flooded", client, args.rate, args["phase-seconds"], pids);
  const floodCores = (cpuSeconds(flood.pid!) - floodCpuBefore) / args["phase-seconds"];
  const floodReport = await new Promise<FloodReport>((resolve) => {
    flood.once("message", (message) => resolve(message as FloodReport));
    flood.send("stop");
  });
  await new Promise((resolve) =>
    flood.exitCode === null ? flood.once("exit", resolve) : resolve(0),
  );
  client.close();
  await cluster.stop();
  say(`setup cost: ${args["setup-connections"]} connections, one at a time`);
  const costs: SetupCost[] = [];
  for (const [mode, serveArgs] of [
    ["tls (client certificate)", []],
    ["insecure", ["--insecure"]],
  ] as const) {
    const single = await startCluster(1, [...serveArgs]);
    await setupCost(mode, single, 20);
    costs.push(await setupCost(mode, single, args["setup-connections"]));
    await single.stop();
  }
  const report = {
    flood: {
      ...floodReport,
      connections: args["flood-connections"],
      addresses: args["flood-addresses"],
      nice: args["flood-nice"],
      client: args.client,
      cpuCoresFlooded: Math.round(floodCores * 100) / 100,
    },
    phases: [quiet, flooded],
    p99Ratio: flooded.p99Ms / quiet.p99Ms,
    setup: costs,
  };
  if (args.json) {
    console.log(JSON.stringify(report));
    return 0;
  }
  const phases = new Table({
    head: ["phase", "gets", "failed", "p50 ms", "p99 ms", "node CPU (cores) n1/n2/n3"],
  });
  for (const phase of report.phases) {
    phases.push([
      phase.name,
      phase.operations,
      phase.failed,
      phase.p50Ms.toFixed(2),
      phase.p99Ms.toFixed(2),
      phase.cpuCores.map((cores) => cores.toFixed(2)).join(" / "),
    ]);
  }
  console.log(phases.toString());
  console.log(`p99 flooded / quiet: ${report.p99Ratio.toFixed(2)} (target ≤ 2)`);
  console.log(`flood: ${JSON.stringify(report.flood)}`);
  const setup = new Table({
    head: ["mode", "connections", "mean ms", "p50 ms", "p99 ms", "node CPU ms each"],
  });
  for (const cost of costs) {
    setup.push([
      cost.mode,
      cost.connections,
      cost.meanMs.toFixed(2),
      cost.p50Ms.toFixed(2),
      cost.p99Ms.toFixed(2),
      cost.serverCpuMs.toFixed(2),
    ]);
  }
  console.log(setup.toString());
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error);
    await Promise.all([...running].map((cluster) => cluster.stop()));
    process.exit(1);
  },
);
