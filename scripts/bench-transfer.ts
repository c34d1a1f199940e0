// Benchmark of ownership transfer (issue 14's figures; not a test): a 3-node cluster with
// --keys keys grows to 4 under a steady foreground load. It reports the time from the commit to
// the retired change (a balanced ring with every moving partition confirmed), the data moved to
// the new node (its key count) and the rate, the foreground latency during the transfer against
// the same load before it with every failed request, and the nodes' CPU in each phase.
// Run: npm run bench:transfer -- [--keys 1000000] [--foreground-rate 300] [--cpu-prof-dir D]
//      [--series] [--slow-ms 20] [--node-flag=--trace-gc ...] [--client-nice -10]
//      [--keep-logs DIR] [--json]

import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import {
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  stopProcess,
  waitForServing,
  type LocalNodeSpec,
  clusterClientSecurity,
  ensureCredentialsFor,
} from "../cli/local-cluster.js";
import { DkvClient } from "../coordinator/client.js";
import { loadProto } from "../proto/load-proto.js";
import { decodeMetadata } from "../node/core/layout-codec.js";
import type { ClusterMetadata } from "../node/core/layout.js";
import { builtMainScript, say, sleep } from "./lib/fault-cluster.js";
import {
  Foreground,
  OpenForeground,
  phaseTable,
  type Phase,
  type PhasedLoad,
} from "./lib/foreground-load.js";
import { offlineLoad } from "./lib/offline-load.js";
import { preloadRecords } from "../cli/bench/preload.js";
import { benchValue } from "../cli/bench/workload-executor.js";
import { askFirstReachable } from "../cli/commands/aae-status.js";

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .usage("$0 [options]\n\nMeasures growing a local 3-node cluster to 4 under load.")
    .option("keys", { type: "number", default: 50_000, describe: "Keys loaded before the join" })
    .option("value-bytes", { type: "number", default: 1024 })
    .option("load", {
      choices: ["offline", "online"] as const,
      default: "offline" as const,
      describe:
        "offline: write the three stores before the nodes start (production Replica and log " +
        "engine); online: puts at w = 2 through a running cluster",
    })
    .option("load-cache", {
      type: "string",
      describe:
        "Directory keeping the offline load's three stores between runs (made on first use); " +
        "each run copies them instead of writing them again",
    })
    .option("foreground", {
      choices: ["open", "closed"] as const,
      default: "open" as const,
      describe: "open: YCSB-A at --foreground-rate; closed: --foreground-concurrency clients",
    })
    .option("foreground-rate", {
      type: "number",
      default: 100,
      describe:
        "Operations per second of the open loop: well below what the cluster sustains, or both " +
        "phases measure a queue (300 is half of a quiet 2-core machine's; 100 fits a busy one)",
    })
    .option("warmup-seconds", {
      type: "number",
      default: 5,
      describe: "Foreground load before the first measured phase (connections, JIT)",
    })
    .option("foreground-concurrency", { type: "number", default: 4 })
    .option("phase-seconds", { type: "number", default: 10, describe: "The phase before" })
    .option("transfer-bytes-per-second", {
      type: "number",
      describe: "Each node's transfer throttle (0: unthrottled; default: the node's)",
    })
    .option("series", {
      type: "boolean",
      default: false,
      describe: "Print each phase second by second: operations, slow ones by kind, the slowest",
    })
    .option("slow-ms", {
      type: "number",
      default: 20,
      describe: "Latency over which an operation counts as slow in --series",
    })
    .option("cpu-prof-dir", {
      type: "string",
      describe: "Write each node's CPU profile (node --cpu-prof) under DIR/<node id> at its stop",
    })
    .option("client-nice", {
      type: "number",
      default: 0,
      describe:
        "Nice value of this process, the foreground's client (e.g. -10: it stands for a client " +
        "machine, and its own wait for the 2 cores stays out of the latency); nodes run at 0",
    })
    .option("node-flag", {
      type: "string",
      array: true,
      default: [] as string[],
      describe: "A flag for every node's node process, e.g. --node-flag=--trace-gc (repeatable)",
    })
    .option("keep-logs", {
      type: "string",
      describe:
        "Copy each node's log (with what --node-flag=--trace-gc prints) to DIR/<node id>.log " +
        "before the run's directory is removed",
    })
    .option("json", { type: "boolean", default: false })
    .check((parsed) => {
      const nice = parsed["client-nice"];
      if (!(Number.isInteger(nice) && nice >= -20 && nice <= 19)) {
        throw new Error(`--client-nice must be an integer from -20 to 19, got ${nice}`);
      }
      const bad = parsed["node-flag"].find((flag) => !String(flag).startsWith("-"));
      if (bad !== undefined) throw new Error(`--node-flag takes a node flag (--…), got "${bad}"`);
      return true;
    })
    .strict()
    .help()
    .parseAsync();
  if (args["client-nice"] !== 0) {
    try {
      os.setPriority(args["client-nice"]);
    } catch (error) {
      // A negative nice needs root (or CAP_SYS_NICE).
      throw new Error(`--client-nice ${args["client-nice"]}: ${(error as Error).message}`);
    }
  }
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-bench-transfer-"));
  const ports = await probeFreePorts(4);
  const localSpecs = await localClusterSpecs({
    ports: ports.slice(0, 3),
    clusterDir: dir,
    storage: "log",
    partitionCount: 64,
    logLevel: "warn",
    mainScript: builtMainScript(),
  });
  const throttle = args["transfer-bytes-per-second"];
  const specs =
    throttle === undefined
      ? localSpecs
      : localSpecs.map((spec) => ({
          ...spec,
          args: [...spec.args, `--transfer-bytes-per-second=${throttle}`],
        }));
  const seed = specs[0]!;
  const joiner: LocalNodeSpec = {
    id: "n4",
    address: `127.0.0.1:${ports[3]}`,
    dataDir: path.join(dir, "n4"),
    logFile: path.join(dir, "n4", "node.log"),
    args: seed.args
      .filter((arg) => !/^--(id|listen|peers|data-dir)=/.test(arg))
      .concat([
        "--id=n4",
        `--listen=127.0.0.1:${ports[3]}`,
        `--join=${seed.address}`,
        `--data-dir=${path.join(dir, "n4")}`,
      ]),
  };
  await ensureCredentialsFor(joiner.args, [joiner.id]);
  const children = new Map<string, ChildProcess>();
  // When each node process was started: --trace-gc counts its milliseconds from there.
  const spawnedAt: Record<string, string> = {};
  const start = async (spec: LocalNodeSpec): Promise<void> => {
    const profDir = args["cpu-prof-dir"];
    const nodeFlags = [
      ...args["node-flag"],
      ...(profDir === undefined
        ? []
        : ["--cpu-prof", `--cpu-prof-dir=${path.resolve(profDir, spec.id)}`]),
    ];
    spawnedAt[spec.id] = new Date().toISOString();
    const child = spawnNode({ ...spec, args: [...nodeFlags, ...spec.args] });
    // A node does not inherit the client's priority.
    if (args["client-nice"] !== 0 && child.pid !== undefined) os.setPriority(child.pid, 0);
    children.set(spec.id, child);
    // A node opening 1M keys on a busy 2-core machine takes minutes, not seconds.
    await waitForServing(spec.address, 900_000, clusterClientSecurity(dir));
  };
  const stopAll = async (): Promise<void> => {
    // A node writes its CPU profile as it exits: give it time to.
    const graceMs = args["cpu-prof-dir"] === undefined ? 5000 : 60_000;
    await Promise.all([...children.values()].map((child) => stopProcess(child, graceMs)));
  };
  process.once(
    "SIGINT",
    () =>
      void stopAll().then(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(130);
      }),
  );
  const client = new DkvClient(
    specs.map((spec) => spec.address),
    { security: clusterClientSecurity(dir) },
  );
  const v1 = loadProto().grpcObject.dkv.v1;
  const secured = clusterClientSecurity(dir).channel(seed.address);
  const membership = new v1.Membership(seed.address, secured.credentials, secured.options);
  const call = <T>(method: "Get" | "Plan" | "Commit", request: object): Promise<T> =>
    new Promise((resolve, reject) =>
      (
        membership[method] as unknown as (
          request: object,
          options: grpc.CallOptions,
          callback: (error: grpc.ServiceError | null, reply?: T) => void,
        ) => void
      )(request, { deadline: Date.now() + 10_000 }, (error, reply) =>
        error !== null || reply === undefined ? reject(error) : resolve(reply),
      ),
    );
  const metadata = async (): Promise<ClusterMetadata> => {
    const reply = await call<{ metadata_json: string }>("Get", {});
    return decodeMetadata(Buffer.from(reply.metadata_json, "utf8"));
  };
  const cpuSeconds = async (nodes: readonly LocalNodeSpec[]): Promise<number> => {
    const replies = await Promise.all(
      nodes.map((spec) => askFirstReachable([spec.address], 10_000, clusterClientSecurity(dir))),
    );
    return replies.reduce((sum, reply) => sum + Number(reply.process_cpu_us) / 1e6, 0);
  };
  const treesReady = async (): Promise<boolean> => {
    const replies = await Promise.all(
      specs.map((spec) => askFirstReachable([spec.address], 10_000, clusterClientSecurity(dir))),
    );
    return replies.every((reply) => reply.trees_ready);
  };
  try {
    const value = benchValue(args["value-bytes"], 14);
    let loadSeconds = 0;
    if (args.load === "offline") {
      const cache = args["load-cache"];
      const stores = cache ?? dir;
      const marker = path.join(stores, `loaded-${args.keys}x${args["value-bytes"]}`);
      if (cache === undefined || !existsSync(marker)) {
        if (cache !== undefined) rmSync(cache, { recursive: true, force: true });
        let reported = 0;
        say(`writing ${args.keys} keys of ${args["value-bytes"]} bytes into 3 stores in ${stores}`);
        const loaded = await offlineLoad({
          dataDirs: specs.map((spec) => path.join(stores, spec.id)),
          records: args.keys,
          value,
          progress: (done) => {
            if (Math.floor(done / 100_000) <= reported) return;
            reported = Math.floor(done / 100_000);
            say(`${reported * 100_000} keys written`);
          },
        });
        loadSeconds = loaded.seconds;
        writeFileSync(marker, `${loadSeconds}\n`);
      } else {
        loadSeconds = Number(readFileSync(marker, "utf8"));
      }
      if (cache !== undefined) {
        say(`copying the stores from ${cache}`);
        for (const spec of specs) {
          cpSync(path.join(cache, spec.id, "log"), path.join(spec.dataDir, "log"), {
            recursive: true,
          });
        }
      }
    }
    const coldStartedMs = performance.now();
    await Promise.all(specs.map(start));
    const servingSeconds = (performance.now() - coldStartedMs) / 1000;
    while (!(await treesReady())) await sleep(200);
    const coldSeconds = (performance.now() - coldStartedMs) / 1000;
    say(
      `3 nodes serving after ${servingSeconds.toFixed(1)} s, trees built after ${coldSeconds.toFixed(1)} s`,
    );
    if (args.load === "online") {
      const loaded = await preloadRecords({
        label: "load",
        client,
        records: args.keys,
        value,
        callOptions: { w: 2 },
        concurrency: 32,
        ifNoneMatch: false,
      });
      loadSeconds = loaded.seconds;
    }
    const foreground: PhasedLoad =
      args.foreground === "open"
        ? new OpenForeground(client, {
            records: args.keys,
            value,
            rate: args["foreground-rate"],
            slowMs: args["slow-ms"],
          })
        : new Foreground(client, Buffer.from(value), args["foreground-concurrency"]);
    const phases: Phase[] = [];
    await sleep(args["warmup-seconds"] * 1000);
    const cpuBefore = await cpuSeconds(specs);
    foreground.begin();
    await sleep(args["phase-seconds"] * 1000);
    phases.push(await foreground.end("before (3 nodes)"));
    const serverCpuBefore = (await cpuSeconds(specs)) - cpuBefore;
    await start(joiner);
    for (;;) {
      const { staged } = await metadata();
      if (staged.changes.some((change) => change.kind === "join")) break;
      await sleep(100);
    }
    const plan = await call<{ based_on: number; revision: number }>("Plan", {});
    const cpuCommit = await cpuSeconds([...specs, joiner]);
    foreground.begin();
    const committedMs = performance.now();
    // On the monotonic clock V8's profiles use, to cut the nodes' profiles at the commit.
    const committedMonotonicUs = process.hrtime.bigint() / 1000n;
    await call("Commit", { based_on: plan.based_on, revision: plan.revision });
    if (args["cpu-prof-dir"] !== undefined) say(`commit at monotonic ${committedMonotonicUs} µs`);
    say("join committed; waiting for the change to retire");
    for (;;) {
      const { layout } = await metadata();
      if (layout.previousOwners === undefined && layout.version >= 3) break;
      if (performance.now() - committedMs > 3_600_000) throw new Error("no retirement in 60 min");
      await sleep(200);
    }
    const seconds = (performance.now() - committedMs) / 1000;
    phases.push(await foreground.end("during the transfer"));
    const serverCpuDuring = (await cpuSeconds([...specs, joiner])) - cpuCommit;
    await foreground.stop();
    const newcomer = new DkvClient([joiner.address], { security: clusterClientSecurity(dir) });
    const status = await newcomer.status();
    newcomer.close();
    const keys = Number(status.keys_stored);
    const bytes = keys * args["value-bytes"];
    const report = {
      keys: args.keys,
      load: args.load,
      loadSeconds,
      servingSeconds,
      coldSeconds,
      foreground:
        args.foreground === "open"
          ? `YCSB-A at ${args["foreground-rate"]} ops/s`
          : `closed loop of ${args["foreground-concurrency"]}`,
      transferBytesPerSecond: throttle ?? "node default",
      valueBytes: args["value-bytes"],
      secondsToRetired: seconds,
      keysOnNewNode: keys,
      keysPerSecond: keys / seconds,
      valueMiBPerSecond: bytes / 1048576 / seconds,
      phases,
      serverCoresBefore: serverCpuBefore / phases[0]!.seconds,
      serverCoresDuring: serverCpuDuring / phases[1]!.seconds,
      p99DuringOverBefore: phases[1]!.p99Ms / phases[0]!.p99Ms,
      errors: Object.fromEntries(foreground.errors),
      startLagMaxMs: foreground instanceof OpenForeground ? foreground.outcome?.startLagMaxMs : 0,
    };
    if (args.json) {
      console.log(JSON.stringify(report));
      return 0;
    }
    console.log(
      `n4 took ${keys} keys (${(bytes / 1048576).toFixed(1)} MiB of values) in ` +
        `${seconds.toFixed(1)} s from the commit to the retired change: ` +
        `${Math.round(report.keysPerSecond)} keys/s, ${report.valueMiBPerSecond.toFixed(2)} MiB/s`,
    );
    console.log(phaseTable(phases));
    console.log(
      `load ${args.load} ${loadSeconds.toFixed(1)} s; cold start ${coldSeconds.toFixed(1)} s ` +
        `(serving after ${servingSeconds.toFixed(1)} s); server cores before ` +
        `${report.serverCoresBefore.toFixed(2)}, during ${report.serverCoresDuring.toFixed(2)}`,
    );
    console.log(`p99 during the transfer / before: ${report.p99DuringOverBefore.toFixed(2)}×`);
    for (const [message, count] of foreground.errors) console.log(`failed ${count}×: ${message}`);
    if (args.series) {
      for (const phase of phases) {
        console.log(
          `${phase.name} from ${phase.startedAt ?? "?"}, second by second ` +
            `(slow: over ${args["slow-ms"]} ms):`,
        );
        for (const second of phase.series ?? []) {
          const slow = Object.entries(second.slow)
            .map(([kind, count]) => `${kind} ${count}`)
            .join(", ");
          console.log(
            `  ${String(second.second).padStart(4)} s  ${String(second.operations).padStart(4)} ops` +
              `  slowest ${String(second.maxMs).padStart(5)} ms${slow === "" ? "" : `  slow: ${slow}`}`,
          );
        }
      }
    }
    return 0;
  } finally {
    client.close();
    membership.close();
    await stopAll();
    const keep = args["keep-logs"];
    if (keep !== undefined) {
      mkdirSync(keep, { recursive: true });
      for (const spec of [...specs, joiner]) {
        if (existsSync(spec.logFile)) cpSync(spec.logFile, path.join(keep, `${spec.id}.log`));
      }
      writeFileSync(path.join(keep, "spawned.json"), `${JSON.stringify(spawnedAt)}\n`);
      say(`node logs kept in ${keep}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
