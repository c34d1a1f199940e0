// Benchmark of KV.BatchPut and KV.BatchGet against unary Put and Get (issue 16's batch figures,
// DESIGN §9 "Batches"; not a test): one 3-node cluster (TLS, log engine, n=3 w=2 r=2 dw=1,
// 1 KiB values), the same client, phases alternated in one run: unary calls, then batches of
// each --sizes, for puts of new keys and gets of existing ones, each --rounds times. Each phase
// is a closed loop of --items-in-flight items for --phase-seconds; reported per phase: items/s
// and server CPU per item (utime + stime of the three node processes, from /proc).
// With --session, KV.Session takes the place of batches: raw streams (one per node) carrying
// messages of exactly --sizes items, --items-in-flight in all; then the client's coalescing
// (`session: true`) against unary calls at --unary-in-flight and at 1 call in flight.
// Run: npm run bench:batch -- [--sizes 1,10,100] [--phase-seconds 5] [--rounds 2] [--session]
// [--json]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
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
import { builtMainScript, say } from "./lib/fault-cluster.js";
import { SessionDriver } from "./lib/session-driver.js";

/**
 * How a phase sends its items: unary calls (`inFlight` at once), batches or raw session
 * messages of `size` items, or unary-style calls through the client's session (`inFlight`).
 */
type Kind =
  | { readonly mode: "unary"; readonly inFlight: number }
  | { readonly mode: "batch"; readonly size: number }
  | { readonly mode: "session"; readonly size: number }
  | { readonly mode: "client-session"; readonly inFlight: number };

function describeKind(kind: Kind): string {
  switch (kind.mode) {
    case "unary":
      return `unary, ${kind.inFlight} in flight`;
    case "batch":
      return `batch of ${kind.size}`;
    case "session":
      return `session, ${kind.size} per message`;
    case "client-session":
      return `client session, ${kind.inFlight} in flight`;
  }
}

/** One measured phase. */
interface PhaseResult {
  readonly operation: "put" | "get";
  readonly kind: Kind;
  readonly round: number;
  readonly items: number;
  readonly failed: number;
  readonly seconds: number;
  readonly itemsPerSecond: number;
  readonly serverCpuUsPerItem: number;
}

/** CPU seconds (user + system) a process has used, from /proc (these benchmarks need Linux). */
function cpuSeconds(pid: number): number {
  const seconds = processCpuSeconds(pid);
  if (seconds === undefined) throw new Error(`no CPU time for pid ${pid}: /proc is needed`);
  return seconds;
}

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .usage("$0 [options]\n\nBatched against unary puts and gets on a local 3-node cluster.")
    .option("sizes", { type: "string", default: "1,10,100", describe: "Items per batch" })
    .option("items-in-flight", { type: "number", default: 256 })
    .option("unary-in-flight", { type: "number", default: 64, describe: "Unary calls at once" })
    .option("phase-seconds", { type: "number", default: 5 })
    .option("rounds", { type: "number", default: 2 })
    .option("value-bytes", { type: "number", default: 1024 })
    .option("session", {
      type: "boolean",
      default: false,
      describe: "KV.Session phases instead of batches",
    })
    .option("json", { type: "boolean", default: false })
    .strict()
    .help()
    .parseAsync();
  const sizes = args.sizes.split(",").map(Number);
  if (sizes.some((size) => !Number.isInteger(size) || size < 1 || size > 1000)) {
    throw new Error(`--sizes must be integers from 1 to 1000, got '${args.sizes}'`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-bench-batch-"));
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(3),
    clusterDir: dir,
    storage: "log",
    partitionCount: 64,
    logLevel: "warn",
    mainScript: builtMainScript(),
  });
  const children: ChildProcess[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(children.map((child) => stopProcess(child, 5000)));
  };
  // SIGTERM too: `timeout` and CI runners stop a script with it, and its nodes must not outlive it.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void stopAll().then(() => process.exit(130)));
  }
  const security = clusterClientSecurity(dir);
  // Unary calls (the client's session is measured apart, below).
  const client = new DkvClient(
    specs.map((spec) => spec.address),
    { security, routing: "primary", session: false },
  );
  const sessionClient = new DkvClient(
    specs.map((spec) => spec.address),
    { security, routing: "primary", session: true },
  );
  const drivers: SessionDriver[] = [];
  const value = Buffer.alloc(args["value-bytes"], 7);
  const options = { w: 2, r: 2, dw: 1 } as const;
  let nextKey = 0;
  const serverCpu = (): number =>
    children.reduce((sum, child) => sum + cpuSeconds(child.pid ?? 0), 0);

  /** Runs one phase: a closed loop of calls for phase-seconds. */
  const phase = async (operation: "put" | "get", kind: Kind): Promise<PhaseResult> => {
    const endMs = performance.now() + args["phase-seconds"] * 1000;
    let items = 0;
    let failed = 0;
    const existing = Math.max(1, nextKey);
    const keyFor = (): string =>
      operation === "put" ? `k${nextKey++}` : `k${Math.floor(Math.random() * existing)}`;
    const wire = { w: { count: 2 }, r: { count: 2 }, dw: { count: 1 } };
    const item = (key: string) =>
      operation === "put"
        ? { put: { key: Buffer.from(key), value, options: wire } }
        : { get: { key: Buffer.from(key), options: wire } };
    const batch = kind.mode === "batch" || kind.mode === "session" ? kind.size : 0;
    const lanes =
      kind.mode === "unary" || kind.mode === "client-session"
        ? kind.inFlight
        : Math.ceil(args["items-in-flight"] / kind.size);
    const lane = async (laneIndex: number): Promise<void> => {
      while (performance.now() < endMs) {
        if (kind.mode === "unary" || kind.mode === "client-session") {
          const key = keyFor();
          const via = kind.mode === "unary" ? client : sessionClient;
          const done = operation === "put" ? via.put(key, value, options) : via.get(key, options);
          await done.then(
            () => (items += 1),
            () => (failed += 1),
          );
          continue;
        }
        if (kind.mode === "session") {
          const driver = drivers[laneIndex % drivers.length]!;
          const outcome = await driver
            .send(Array.from({ length: batch }, () => item(keyFor())))
            .catch(() => ({ ok: 0, failed: batch }));
          items += outcome.ok;
          failed += outcome.failed;
          continue;
        }
        const keys = Array.from({ length: batch }, keyFor);
        const outcomes = await (
          operation === "put"
            ? client.putMany(
                keys.map((key) => ({ key, value })),
                options,
              )
            : client.getMany(keys, options)
        ).catch(() => undefined);
        if (outcomes === undefined) failed += batch;
        else {
          for (const outcome of outcomes) {
            if (outcome.ok) items += 1;
            else failed += 1;
          }
        }
      }
    };
    const cpuBefore = serverCpu();
    const startedMs = performance.now();
    await Promise.all(Array.from({ length: lanes }, (_, index) => lane(index)));
    const seconds = (performance.now() - startedMs) / 1000;
    const cpu = serverCpu() - cpuBefore;
    return {
      operation,
      kind,
      round: 0,
      items,
      failed,
      seconds,
      itemsPerSecond: items / seconds,
      serverCpuUsPerItem: items === 0 ? 0 : (cpu * 1e6) / items,
    };
  };

  try {
    for (const spec of specs) children.push(spawnNode(spec));
    await Promise.all(specs.map((spec) => waitForServing(spec.address, 60_000, security)));
    for (const spec of specs) drivers.push(new SessionDriver(spec.address, security));
    say(`3 nodes up in ${dir}; warming up`);
    const unary: Kind = { mode: "unary", inFlight: args["unary-in-flight"] };
    await phase("put", unary);
    const kinds: Kind[] = args.session
      ? [
          unary,
          ...sizes.map((size): Kind => ({ mode: "session", size })),
          { mode: "client-session", inFlight: args["unary-in-flight"] },
          { mode: "unary", inFlight: 1 },
          { mode: "client-session", inFlight: 1 },
        ]
      : [unary, ...sizes.map((size): Kind => ({ mode: "batch", size }))];
    const results: PhaseResult[] = [];
    for (let round = 1; round <= args.rounds; round++) {
      for (const operation of ["put", "get"] as const) {
        for (const kind of kinds) {
          const result = { ...(await phase(operation, kind)), round };
          results.push(result);
          say(
            `round ${round} ${operation} ${describeKind(kind)}: ` +
              `${Math.round(result.itemsPerSecond)} items/s, ` +
              `${Math.round(result.serverCpuUsPerItem)} µs server CPU per item, ${result.failed} failed`,
          );
        }
      }
    }
    if (args.json) {
      console.log(JSON.stringify({ results }));
      return 0;
    }
    const table = new Table({
      head: ["round", "operation", "calls", "items/s", "× unary", "server CPU/item", "failed"],
    });
    for (const result of results) {
      // Unary at one call in flight is the baseline of the calls at one (itself included).
      const { kind } = result;
      const inFlight =
        kind.mode === "client-session" || kind.mode === "unary" ? kind.inFlight : undefined;
      const baseline = results.find(
        (other) =>
          other.round === result.round &&
          other.operation === result.operation &&
          other.kind.mode === "unary" &&
          other.kind.inFlight === (inFlight === 1 ? 1 : args["unary-in-flight"]),
      );
      table.push([
        result.round,
        result.operation,
        describeKind(result.kind),
        Math.round(result.itemsPerSecond),
        baseline === undefined ? "" : (result.itemsPerSecond / baseline.itemsPerSecond).toFixed(2),
        `${Math.round(result.serverCpuUsPerItem)} µs`,
        result.failed,
      ]);
    }
    console.log(table.toString());
    return 0;
  } finally {
    client.close();
    sessionClient.close();
    for (const driver of drivers) driver.close();
    await stopAll();
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
