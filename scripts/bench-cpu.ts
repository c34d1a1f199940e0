// Server CPU per operation at fixed request rates (issue 16, DESIGN §9; not a test): starts a
// local 3-node cluster (TLS, log engine, n=3 r=w=2 dw=1, 1 KiB values) once per build given in
// --main, alternating the builds (A B A B ...), and measures in each: idle CPU per second,
// YCSB-A at each --rates (one coordinator, as `dkv bench`), and batched puts at a fixed item
// rate. CPU is utime + stime of the three node processes from /proc. With --cpu-prof-dir every
// node writes a .cpuprofile on exit (summarise them with scripts/profile-summary.ts).
// Run: npx tsx scripts/bench-cpu.ts --main dist/cli/main.js,/tmp/base/dist/cli/main.js --pairs 2

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
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
import { HealthClient } from "../cli/health-client.js";
import { WorkloadExecutor, benchValue } from "../cli/bench/workload-executor.js";
import { WORKLOADS, keyName } from "../cli/bench/workload.js";
import { say } from "./lib/fault-cluster.js";
import { contextSwitches, cpuSeconds, threadCpu } from "./lib/proc-cpu.js";

/** How often the fixed-rate loop wakes to send what is due. */
const TICK_MS = 5;
/** Bound on operations in flight in a fixed-rate phase; beyond it the rate is not held. */
const IN_FLIGHT_MAX = 2000;

/** Calls `operation` `rate` times per second for `seconds`; resolves when all have settled. */
async function fixedRate(
  rate: number,
  seconds: number,
  operation: () => Promise<unknown>,
): Promise<{ done: number; failed: number; skipped: number }> {
  const startMs = performance.now();
  let sent = 0;
  let done = 0;
  let failed = 0;
  let skipped = 0;
  let inFlight = 0;
  const total = Math.round(rate * seconds);
  const pending = new Set<Promise<unknown>>();
  while (sent + skipped < total) {
    const due = Math.min(total, Math.floor(((performance.now() - startMs) / 1000) * rate));
    while (sent + skipped < due) {
      if (inFlight >= IN_FLIGHT_MAX) {
        skipped += 1;
        continue;
      }
      sent += 1;
      inFlight += 1;
      const call = operation().then(
        () => (done += 1),
        () => (failed += 1),
      );
      pending.add(call);
      void call.finally(() => {
        inFlight -= 1;
        pending.delete(call);
      });
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  await Promise.all(pending);
  return { done, failed, skipped };
}

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .option("main", {
      type: "string",
      default: "dist/cli/main.js",
      describe: "Builds, comma-separated",
    })
    .option("pairs", { type: "number", default: 2, describe: "Rounds over all builds" })
    .option("idle-seconds", { type: "number", default: 10 })
    .option("rates", { type: "string", default: "400,1500", describe: "YCSB-A ops/s" })
    .option("phase-seconds", { type: "number", default: 15 })
    .option("batch", { type: "number", default: 100, describe: "Items per batch (0: none)" })
    .option("batch-items-rate", { type: "number", default: 2000 })
    .option("records", { type: "number", default: 10_000 })
    .option("unary-rate", {
      type: "number",
      default: 0,
      describe: "Also: Health.Check, get-only and put-only phases at this rate (0: none)",
    })
    .option("session", {
      type: "boolean",
      default: false,
      describe: "The YCSB-A and batch phases' client coalesces calls onto KV.Session streams",
    })
    .option("cpu-prof-dir", { type: "string" })
    .option("keep-logs", { type: "boolean", default: false })
    .option("node-flag", { type: "string", array: true, default: [] as string[] })
    .option("serve-flag", { type: "string", array: true, default: [] as string[] })
    .strict()
    .parseAsync();
  // A build may carry extra serve flags of its own: "dist/cli/main.js::--no-anti-entropy".
  const mains = args.main.split(",").map((entry) => {
    const [main = "", flags = ""] = entry.split("::");
    return { main: path.resolve(main), flags: flags.split(" ").filter((flag) => flag !== "") };
  });
  const rates = args.rates
    .split(",")
    .map(Number)
    .filter((rate) => rate > 0);
  const rows: string[] = [];
  let stopping: (() => Promise<void>) | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(
      signal,
      () => void (stopping?.() ?? Promise.resolve()).then(() => process.exit(130)),
    );
  }
  for (let pair = 1; pair <= args.pairs; pair++) {
    for (const [index, { main, flags }] of mains.entries()) {
      const label = `${String.fromCharCode(65 + index)}${pair}`;
      const dir = mkdtempSync(path.join(tmpdir(), "dkv-bench-cpu-"));
      const specs = await localClusterSpecs({
        ports: await probeFreePorts(3),
        clusterDir: dir,
        storage: "log",
        partitionCount: 64,
        logLevel: "warn",
        mainScript: main,
        serveArgs: [...args["serve-flag"], ...flags],
      });
      const profDir =
        args["cpu-prof-dir"] === undefined ? undefined : path.resolve(args["cpu-prof-dir"], label);
      if (profDir !== undefined) mkdirSync(profDir, { recursive: true });
      const nodeFlags = [
        ...args["node-flag"],
        ...(profDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profDir}`]),
      ];
      const children: ChildProcess[] = specs.map((spec) =>
        spawnNode({ ...spec, args: [...nodeFlags, ...spec.args] }),
      );
      const security = clusterClientSecurity(dir);
      // Unary calls, as the figures of BENCHMARKS' "Where the server CPU goes" were made,
      // unless --session: the client's default, calls coalesced onto a KV.Session stream.
      const client = new DkvClient(
        specs.map((spec) => spec.address),
        { security, routing: "given", session: args.session },
      );
      stopping = async () => {
        client.close();
        await Promise.all(children.map((child) => stopProcess(child, 10_000)));
      };
      const phases: { name: string; startUs: number; endUs: number }[] = [];
      const serverCpu = (): { user: number; system: number } =>
        children.reduce(
          (sum, child) => {
            const cpu = cpuSeconds(child.pid ?? 0);
            return { user: sum.user + cpu.user, system: sum.system + cpu.system };
          },
          { user: 0, system: 0 },
        );
      const measure = async (
        name: string,
        run: () => Promise<{ done: number; failed: number; skipped: number }>,
        perItem = 1,
      ): Promise<void> => {
        const threadsBefore = new Map<string, number>();
        for (const child of children) threadCpu(child.pid ?? 0, threadsBefore);
        const perNodeBefore = children.map((c) => cpuSeconds(c.pid ?? 0));
        const before = serverCpu();
        const switchesBefore = children.reduce((sum, c) => sum + contextSwitches(c.pid ?? 0), 0);
        const startedMs = performance.now();
        // CLOCK_MONOTONIC, as the nodes' profile timestamps: profile-summary.ts --phase uses it.
        const startUs = Number(process.hrtime.bigint() / 1000n);
        const outcome = await run();
        phases.push({ name, startUs, endUs: Number(process.hrtime.bigint() / 1000n) });
        const seconds = (performance.now() - startedMs) / 1000;
        const after = serverCpu();
        const perNode = children
          .map((c, i) => {
            const now = cpuSeconds(c.pid ?? 0);
            const then = perNodeBefore[i] ?? { user: 0, system: 0 };
            const used = now.user + now.system - then.user - then.system;
            return `n${i + 1} ${((used / seconds) * 100).toFixed(1)}%`;
          })
          .join(" ");
        const threadsAfter = new Map<string, number>();
        for (const child of children) threadCpu(child.pid ?? 0, threadsAfter);
        const byThread = [...threadsAfter]
          .map(([name, cpu]) => [name, cpu - (threadsBefore.get(name) ?? 0)] as const)
          .filter(([, cpu]) => cpu > 0)
          .map(([name, cpu]) => `${name} ${((cpu / seconds) * 100).toFixed(1)}%`)
          .join(", ");
        const switches =
          children.reduce((sum, c) => sum + contextSwitches(c.pid ?? 0), 0) - switchesBefore;
        const user = after.user - before.user;
        const system = after.system - before.system;
        const cpu = user + system;
        const items = outcome.done * perItem;
        const row =
          `${label} ${name}: ${Math.round(items / seconds)} items/s, ` +
          `${((cpu / seconds) * 100).toFixed(1)}% of a core ` +
          `(sys ${((system / seconds) * 100).toFixed(1)}%), ` +
          (items === 0
            ? `${Math.round(switches / seconds)} sleeps/s, `
            : `${Math.round((cpu * 1e6) / items)} µs/item, ${(switches / items).toFixed(1)} sleeps/item, `) +
          `${outcome.failed} failed, ${outcome.skipped} skipped; nodes: ${perNode}; threads: ${byThread}`;
        rows.push(row);
        say(row);
      };
      try {
        await Promise.all(specs.map((spec) => waitForServing(spec.address, 60_000, security)));
        const value = benchValue(1024, 42);
        const callOptions = { w: 2, r: 2, dw: 1 } as const;
        // Preload the records in batches (not measured), then let start-up work settle.
        for (let first = 0; first < args.records; first += 100) {
          const keys = Array.from({ length: Math.min(100, args.records - first) }, (_, i) =>
            keyName(first + i),
          );
          await client.putMany(
            keys.map((key) => ({ key, value })),
            callOptions,
          );
        }
        const executor = new WorkloadExecutor([client], {
          workload: WORKLOADS.a,
          records: args.records,
          value,
          callOptions,
          seed: 42 + pair,
          workerIndex: 0,
        });
        await fixedRate(rates[0] ?? 400, 5, executor.operation);
        await new Promise((resolve) => setTimeout(resolve, 2000));
        await measure("idle", async () => {
          await new Promise((resolve) => setTimeout(resolve, args["idle-seconds"] * 1000));
          return { done: 0, failed: 0, skipped: 0 };
        });
        for (const rate of rates) {
          await measure(`ycsb-a ${rate}/s`, () =>
            fixedRate(rate, args["phase-seconds"], executor.operation),
          );
        }
        const unaryRate = args["unary-rate"];
        if (unaryRate > 0) {
          const health = new HealthClient(specs[0]?.address ?? "", security);
          await measure(`health ${unaryRate}/s`, () =>
            fixedRate(unaryRate, args["phase-seconds"], async () => {
              if ((await health.check(5000)) !== "SERVING") throw new Error("not serving");
            }),
          );
          health.close();
          let index = 0;
          await measure(`get ${unaryRate}/s`, () =>
            fixedRate(unaryRate, args["phase-seconds"], () =>
              client.get(keyName(index++ % args.records), callOptions),
            ),
          );
          await measure(`put ${unaryRate}/s`, () =>
            fixedRate(unaryRate, args["phase-seconds"], () =>
              client.put(`u${index++}`, value, callOptions),
            ),
          );
        }
        if (args.batch > 0) {
          let nextKey = 0;
          await measure(
            `batch put ${args.batch} × ${args["batch-items-rate"] / args.batch}/s`,
            () =>
              fixedRate(args["batch-items-rate"] / args.batch, args["phase-seconds"], async () => {
                const outcomes = await client.putMany(
                  Array.from({ length: args.batch }, () => ({ key: `b${nextKey++}`, value })),
                  callOptions,
                );
                if (outcomes.some((outcome) => !outcome.ok)) throw new Error("item failed");
              }),
            args.batch,
          );
        }
      } finally {
        if (profDir !== undefined) {
          writeFileSync(path.join(profDir, "phases.json"), JSON.stringify(phases, null, 1));
        }
        await stopping();
        stopping = undefined;
        if (args["keep-logs"]) say(`logs kept in ${dir}`);
        else rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  console.log(rows.join("\n"));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(1);
  },
);
