// Benchmark of issue 15's abuse limits (not a test). Two parts:
// 1. A secured 3-node cluster serves a real client (the admin's certificate) at a fixed rate of
//    gets on n1, quiet and then while --flood-connections anonymous TLS connections from
//    --flood-addresses loopback addresses hammer n1 (calls refused UNAUTHENTICATED, then a
//    reconnect): p99 quiet and flooded, their ratio (target ≤ 2), refusals, the nodes' CPU.
// 2. Connection setup cost: a new connection and its first call (a health check), one at a time,
//    against a one-node TLS cluster and a one-node --insecure one: wall time and node CPU each.
//    Quiet and flooded phases alternate for --rounds rounds; the p99s pool each kind's phases.
// Run: npm run bench:flood -- [--flood-connections 1000] [--flood-addresses 32] [--rate 200]
//      [--phase-seconds 10] [--rounds 3] [--attacker-cpu 1] [--setup-connections 200]
//      [--client unary|session] [--json]

import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
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
import { DkvClient } from "../coordinator/client.js";
import { newLatencyHistogram } from "../cli/bench/latency-recorder.js";
import type { ClientSecurity } from "../node/security/client-security.js";
import { builtMainScript, say, sleep } from "./lib/fault-cluster.js";
import type { FloodReport } from "./lib/anonymous-flood.js";
import {
  cpuSeconds,
  fixedRate,
  phaseOf,
  pin,
  runFlood,
  type Measured,
} from "./lib/flood-phases.js";

interface Cluster {
  readonly addresses: string[];
  readonly children: ChildProcess[];
  readonly security: ClientSecurity;
  stop(): Promise<void>;
}

const running = new Set<Cluster>();

/** The build the nodes run (--main). */
let mainScript = "";
/** Where the flooded cluster's nodes write CPU profiles (--cpu-prof-dir), if anywhere. */
let cpuProfDir: string | undefined;

async function startCluster(nodes: number, serveArgs: string[]): Promise<Cluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-bench-flood-"));
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(nodes),
    clusterDir: dir,
    storage: "memory",
    partitionCount: 64,
    logLevel: "warn",
    mainScript,
    serveArgs,
  });
  const security = clusterClientSecurity(dir);
  const profiled = (args: readonly string[]) =>
    cpuProfDir === undefined ? args : ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`, ...args];
  const children = specs.map((spec) => spawnNode({ ...spec, args: profiled(spec.args) }));
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
    .option("rounds", {
      type: "number",
      default: 3,
      describe: "Rounds of a quiet and a flooded phase, alternated; the p99s pool them",
    })
    .option("flood-settle-seconds", {
      type: "number",
      default: 3,
      describe: "How long the flood runs before a flooded phase is measured",
    })
    .option("attacker-cpu", {
      type: "number",
      describe:
        "Pin the attacker to this CPU and the cluster and real client to the others (taskset), " +
        "standing for an attacker on other machines",
    })
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
    .option("main", {
      type: "string",
      describe: "The dkv build the nodes run (its dist/cli/main.js); default: this checkout's",
    })
    .option("cpu-prof-dir", {
      type: "string",
      describe:
        "Write the nodes' CPU profiles (node --cpu-prof) here: the flooded cluster's, and the " +
        "setup-cost nodes' under setup-0 (TLS) and setup-1 (--insecure)",
    })
    .option("serve-flag", {
      type: "string",
      array: true,
      default: [] as string[],
      describe: "A further `dkv serve` flag for the secured cluster, e.g. --serve-flag=--limit=...",
    })
    .option("json", { type: "boolean", default: false })
    .check((argv) => {
      const bad = argv["serve-flag"].find((flag) => !flag.startsWith("--"));
      if (bad !== undefined) {
        throw new Error(`--serve-flag takes a dkv serve flag starting with --, got ${bad}`);
      }
      const wholes: [string, number, number, number][] = [
        ["--rounds", argv.rounds, 1, 1000],
        ["--flood-connections", argv["flood-connections"], 1, 100_000],
        ["--flood-addresses", argv["flood-addresses"], 1, 250],
        ["--calls-per-connection", argv["calls-per-connection"], 1, Number.MAX_SAFE_INTEGER],
        ["--setup-connections", argv["setup-connections"], 1, 100_000],
      ];
      for (const [name, value, min, max] of wholes) {
        if (!Number.isInteger(value) || value < min || value > max) {
          throw new Error(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
        }
      }
      for (const [name, value] of [
        ["--rate", argv.rate],
        ["--phase-seconds", argv["phase-seconds"]],
      ] as const) {
        if (!(value > 0) || !Number.isFinite(value)) {
          throw new Error(`${name} must be a number above 0, not ${value}`);
        }
      }
      const settle = argv["flood-settle-seconds"];
      if (!(settle >= 0) || !Number.isFinite(settle)) {
        throw new Error(`--flood-settle-seconds must be a number ≥ 0, not ${settle}`);
      }
      if (argv.main !== undefined && !existsSync(argv.main)) {
        throw new Error(`--main ${argv.main}: no such file (a build's dist/cli/main.js)`);
      }
      const cpu = argv["attacker-cpu"];
      const cpus = os.availableParallelism();
      if (cpu !== undefined && (!Number.isInteger(cpu) || cpu < 0 || cpu >= cpus || cpus < 2)) {
        throw new Error(
          `--attacker-cpu must name one of this machine's ${cpus} CPUs (0-based) and leave one`,
        );
      }
      return true;
    })
    .strict()
    .help()
    // A usage error is exit status 2, as for the dkv CLI, with the reason alone.
    .fail((message, error) => {
      console.error(message ?? error?.message);
      process.exit(2);
    })
    .parseAsync();
  // SIGTERM too: `timeout` and CI runners stop a script with it, and its nodes must not outlive it.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void Promise.all([...running].map((cluster) => cluster.stop())).then(() => process.exit(130));
    });
  }
  mainScript = path.resolve(args.main ?? builtMainScript());
  if (args["cpu-prof-dir"] !== undefined) cpuProfDir = path.resolve(args["cpu-prof-dir"]);
  const cluster = await startCluster(3, args["serve-flag"]);
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
  const attackerCpu = args["attacker-cpu"];
  if (attackerCpu !== undefined) {
    // The cluster and the real client on the other cores, the attacker alone on its own.
    const others = Array.from({ length: os.availableParallelism() }, (_, cpu) => cpu)
      .filter((cpu) => cpu !== attackerCpu)
      .join(",");
    for (const pid of [...pids, process.pid]) pin(pid, others);
  }
  say(
    `3 TLS nodes up; ${args.rate} gets/s, ${args.rounds} rounds of a quiet and a flooded ` +
      `${args["phase-seconds"]} s phase`,
  );
  await fixedRate(client, args.rate, 2, pids); // warm-up
  const quiet: Measured[] = [];
  const flooded: Measured[] = [];
  const floods: Awaited<ReturnType<typeof runFlood>>[] = [];
  const floodArgs = {
    connections: args["flood-connections"],
    addresses: args["flood-addresses"],
    calls: args["calls-per-connection"],
    nice: args["flood-nice"],
    ...(attackerCpu === undefined ? {} : { cpu: attackerCpu }),
  };
  const quietPhase = async (): Promise<void> => {
    quiet.push(await fixedRate(client, args.rate, args["phase-seconds"], pids));
  };
  const floodedPhase = async (): Promise<void> => {
    const run = await runFlood(cluster.addresses[0]!, floodArgs, async () => {
      // Its connections set up (or refused) before the phase starts.
      await sleep(args["flood-settle-seconds"] * 1000);
      flooded.push(await fixedRate(client, args.rate, args["phase-seconds"], pids));
    });
    floods.push(run);
  };
  // Alternated (quiet first in odd rounds, flooded first in even ones), so that the machine's
  // drift over the run falls on both kinds alike.
  for (let round = 1; round <= args.rounds; round++) {
    for (const phase of round % 2 === 1 ? [quietPhase, floodedPhase] : [floodedPhase, quietPhase]) {
      await phase();
    }
    const [q, f] = [quiet.at(-1)!, flooded.at(-1)!];
    const p99 = (one: Measured) => one.histogram.getValueAtPercentile(99) / 1000;
    say(
      `round ${round}: p99 quiet ${p99(q).toFixed(1)} ms, flooded ${p99(f).toFixed(1)} ms ` +
        `(${(p99(f) / p99(q)).toFixed(2)}×)`,
    );
  }
  const floodReport: FloodReport = {
    connectionsOpened: floods.reduce((sum, run) => sum + run.report.connectionsOpened, 0),
    connectionsRefused: floods.reduce((sum, run) => sum + run.report.connectionsRefused, 0),
    callsRefused: floods.reduce((sum, run) => sum + run.report.callsRefused, 0),
    callsOther: floods.reduce((sum, run) => sum + run.report.callsOther, 0),
  };
  // Over the whole time the attacker ran, its settling included.
  const floodCores =
    floods.reduce((sum, run) => sum + run.cpuSeconds, 0) /
    floods.reduce((sum, run) => sum + run.wallSeconds, 0);
  const rounds = quiet.map((q, index) => {
    const f = flooded[index]!;
    const p99 = (one: Measured) => one.histogram.getValueAtPercentile(99) / 1000;
    return { quietP99Ms: p99(q), floodedP99Ms: p99(f), p99Ratio: p99(f) / p99(q) };
  });
  client.close();
  await cluster.stop();
  say(`setup cost: ${args["setup-connections"]} connections, one at a time`);
  const costs: SetupCost[] = [];
  const profiles = cpuProfDir;
  for (const [mode, serveArgs] of [
    ["tls (client certificate)", []],
    ["insecure", ["--insecure"]],
  ] as const) {
    // The one-node clusters' profiles apart from the flooded cluster's.
    if (profiles !== undefined) cpuProfDir = path.join(profiles, `setup-${serveArgs.length}`);
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
      attackerCpu: attackerCpu ?? null,
    },
    phases: [phaseOf("quiet", quiet), phaseOf("flooded", flooded)],
    rounds,
    p99Ratio: phaseOf("flooded", flooded).p99Ms / phaseOf("quiet", quiet).p99Ms,
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
  console.log(
    `p99 flooded / quiet, pooled: ${report.p99Ratio.toFixed(2)} (target ≤ 2); by round: ` +
      rounds.map((round) => round.p99Ratio.toFixed(2)).join(", "),
  );
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
