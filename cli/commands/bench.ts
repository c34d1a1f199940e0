// `dkv bench`: YCSB-style benchmark of a local or running cluster, optionally beside a gRPC
// echo baseline driven by the same client code. Wiring only; the tool lives in cli/bench/.

import { UsageError } from "../usage.js";
import path from "node:path";
import type { Argv, ArgumentsCamelCase } from "yargs";
import type { CallOptions } from "../../coordinator/client.js";
import { STORAGE_ENGINES } from "../../node/storage/storage-engines.js";
import { benchConfig, type BenchTarget } from "../bench/bench-config.js";
import { runBench } from "../bench/bench-run.js";
import { formatBenchReport } from "../bench/format-bench-report.js";
import { readClusterFile } from "../cluster-file.js";
import {
  callOptions,
  clientCredentials,
  nodeAddresses,
  withClientOptions,
  type ClientArgs,
} from "../client-options.js";

interface BenchArgs extends ClientArgs {
  workload: string;
  records: number;
  "value-bytes": number;
  concurrency: number;
  rate: number | undefined;
  "in-flight-max": number;
  duration: number;
  warmup: number;
  "client-processes": number;
  seed: number;
  baseline: string;
  routing: string;
  session: boolean;
  batch: number;
  existing: boolean;
  nodes: number;
  storage: string;
  partitions: number;
  "serve-flag": string[];
}

export const command = "bench";
export const describe =
  "Benchmark with YCSB workloads A/B/C/F on a local cluster it starts (or a running one), optionally beside a gRPC echo baseline";

export function builder(yargs: Argv): Argv<BenchArgs> {
  return withClientOptions(yargs)
    .option("workload", {
      type: "string",
      default: "a",
      choices: ["a", "b", "c", "f", "insert"],
      describe: "YCSB A/B/C/F over the preloaded records, or insert: puts of new keys only",
    })
    .option("records", { type: "number", default: 10_000, describe: "Keys preloaded and used" })
    .option("value-bytes", { type: "number", default: 1024, describe: "Size of every value" })
    .option("concurrency", {
      type: "number",
      default: 32,
      describe: "Closed loop: operations in flight, over all client processes",
    })
    .option("rate", {
      type: "number",
      describe: "Open loop: intended ops/s over all client processes (latency from intended start)",
    })
    .option("in-flight-max", {
      type: "number",
      default: 1000,
      describe: "Open loop: bound on operations in flight (waiting for a slot counts as latency)",
    })
    .option("duration", {
      type: "number",
      default: 10,
      describe: "Seconds of load, warmup included",
    })
    .option("warmup", { type: "number", default: 2, describe: "Seconds excluded from the figures" })
    .option("client-processes", { type: "number", default: 1, describe: "Load worker processes" })
    .option("seed", { type: "number", default: 42, describe: "Seed of keys and operations" })
    .option("baseline", { type: "string", default: "none", choices: ["none", "echo"] })
    .option("routing", {
      type: "string",
      default: "given",
      choices: ["primary", "given", "spread"],
      describe:
        "dkv client: the nodes in order (each client process starts at a different one), a primary of each key, or every node in turn per request (as a plain gRPC client balances)",
    })
    .option("session", {
      type: "boolean",
      default: false,
      describe:
        "dkv client: concurrent calls coalesced onto one KV.Session stream per node (the echo baseline too)",
    })
    .option("batch", {
      type: "number",
      default: 0,
      describe:
        "Operations per KV.BatchGet/KV.BatchPut call (0: single calls); each step of --concurrency or --rate is then a batch, and figures count its items",
    })
    .option("existing", {
      type: "boolean",
      default: false,
      describe: "Use the running local cluster of --cluster-dir (also implied by --node)",
    })
    .option("nodes", { type: "number", default: 3, describe: "Nodes of the cluster bench starts" })
    .option("storage", {
      type: "string",
      default: STORAGE_ENGINES[0],
      choices: [...STORAGE_ENGINES],
      describe: "Storage engine of the cluster bench starts",
    })
    .option("partitions", { type: "number", default: 64, describe: "Ring partitions Q" })
    .option("serve-flag", {
      type: "string",
      array: true,
      default: [],
      describe:
        "A further `dkv serve` flag for the nodes bench starts, e.g. --serve-flag=--no-anti-entropy",
    })
    .example("$0 bench --workload a --baseline echo --duration 10 --json", "")
    .example("$0 bench --workload a --rate 500 --baseline echo", "open loop at 500 ops/s")
    .example(
      "$0 bench --workload insert --batch 100 --routing spread",
      "batches of 100 new keys, each to the next node",
    ) as unknown as Argv<BenchArgs>;
}

export async function handler(args: ArgumentsCamelCase<BenchArgs>): Promise<void> {
  const config = benchConfig(
    {
      workload: args.workload,
      records: args.records,
      valueBytes: args["value-bytes"],
      concurrency: args.concurrency,
      rate: args.rate,
      inFlightMax: args["in-flight-max"],
      durationSeconds: args.duration,
      warmupSeconds: args.warmup,
      clientProcesses: args["client-processes"],
      seed: args.seed,
      baseline: args.baseline,
      routing: args.routing,
      session: args.session,
      batch: args.batch,
      nodes: args.nodes,
      storage: args.storage,
      partitions: args.partitions,
    },
    target(args),
    benchCallOptions(args),
  );
  const report = await runBench(config);
  console.log(args.json ? JSON.stringify(report) : formatBenchReport(report));
}

/** A running cluster when one is named (--node, $DKV_NODE, --existing), else one of its own. */
function target(args: BenchArgs): BenchTarget {
  const named = (args.node ?? process.env["DKV_NODE"] ?? "") !== "";
  if (!named && !args.existing) {
    const serveArgs = args["serve-flag"];
    const bad = serveArgs.find((flag) => !flag.startsWith("--"));
    if (bad !== undefined) {
      throw new UsageError(`--serve-flag takes a dkv serve flag starting with --, got ${bad}`);
    }
    return {
      kind: "own",
      nodes: args.nodes,
      storage: args.storage,
      partitions: args.partitions,
      serveArgs,
    };
  }
  const addresses = nodeAddresses(args);
  const file = named ? undefined : readClusterFile(path.resolve(args["cluster-dir"]));
  const credentials = clientCredentials(args);
  return {
    kind: "existing",
    addresses,
    pids: file?.nodes.map((node) => node.pid) ?? [],
    ...(credentials === undefined ? {} : { credentials }),
  };
}

/** The shared options, with DESIGN §9's quorum (n=3, r=w=2, dw=1) and bucket "bench" as defaults. */
function benchCallOptions(args: BenchArgs): CallOptions {
  const given = callOptions(args);
  return {
    ...given,
    bucket: given.bucket ?? "bench",
    n: given.n ?? 3,
    r: given.r ?? 2,
    w: given.w ?? 2,
    dw: given.dw ?? 1,
  };
}
