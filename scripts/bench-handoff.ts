// Benchmark of hinted handoff (issue #4's figures; not a test): hints delivered per second, and
// the foreground latency while delivery runs against the same load before and after it.
// A 5-node local cluster (n=3, w=2) on probed ports; n3 is killed, --keys writes go to the
// others (the fallbacks keep hints for n3), then n3 is restarted cut off from the others
// (node-level partition) so that its start-up is not counted, and the partition is healed under
// a steady foreground load until every hint is delivered. Prints one table, or JSON with --json.
// Run: npm run bench:handoff -- [--keys 30000] [--handoff-bytes-per-second N] [--json]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
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
} from "../cli/local-cluster.js";
import { DkvClient } from "../coordinator/client.js";
import { STORAGE_ENGINES } from "../node/storage/storage-engines.js";
import {
  FAULT_INJECTION_FLAG,
  builtMainScript,
  say,
  setDroppedPeers,
  sleep,
} from "./lib/fault-cluster.js";
import { Foreground, phaseTable, type Phase } from "./lib/foreground-load.js";

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .usage(
      "$0 [options]\n\nMeasures hinted handoff on a local 5-node cluster: hints delivered per " +
        "second and foreground latency during delivery against the same load without it.",
    )
    .option("keys", { type: "number", default: 30_000, describe: "Writes made while n3 is down" })
    .option("value-bytes", { type: "number", default: 1024 })
    .option("handoff-bytes-per-second", {
      type: "number",
      describe: "The nodes' handoff throttle (default: dkv serve's)",
    })
    .option("foreground-concurrency", {
      type: "number",
      default: 4,
      describe: "Foreground requests in flight (half gets, half puts)",
    })
    .option("phase-seconds", { type: "number", default: 10, describe: "Length of the idle phases" })
    .option("storage", { type: "string", default: "log", choices: [...STORAGE_ENGINES] })
    .option("json", { type: "boolean", default: false })
    .strict()
    .help()
    .parseAsync();
  for (const name of ["keys", "value-bytes", "foreground-concurrency", "phase-seconds"] as const) {
    if (!(Number.isFinite(args[name]) && args[name] > 0)) {
      console.error(`--${name} must be a positive number, got ${args[name]}`);
      return 2;
    }
  }
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-bench-handoff-"));
  const throttle = args["handoff-bytes-per-second"];
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(5),
    clusterDir: dir,
    storage: args.storage,
    partitionCount: 64,
    logLevel: "warn",
    mainScript: builtMainScript(),
    // n3 is cut off with Admin.SetDroppedPeers, which needs the flag.
    serveArgs: [
      FAULT_INJECTION_FLAG,
      ...(throttle === undefined ? [] : [`--handoff-bytes-per-second=${throttle}`]),
    ],
  });
  const children = new Map<string, ChildProcess>();
  const start = async (spec: LocalNodeSpec): Promise<void> => {
    children.set(spec.id, spawnNode(spec));
    await waitForServing(spec.address, 30_000, clusterClientSecurity(dir));
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all([...children.values()].map((child) => stopProcess(child, 5000)));
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  const client = new DkvClient([specs[0]!.address, specs[1]!.address], {
    security: clusterClientSecurity(dir),
  });
  const hintClients = specs.map(
    (spec) => new DkvClient([spec.address], { security: clusterClientSecurity(dir) }),
  );
  try {
    await Promise.all(specs.map(start));
    say(`5 nodes up in ${dir}`);
    const n3 = specs[2]!;
    children.get("n3")?.kill("SIGKILL");
    await sleep(1000);
    say(`n3 killed; writing ${args.keys} keys of ${args["value-bytes"]} bytes at w=2`);
    const value = Buffer.alloc(args["value-bytes"], 7);
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < args.keys) {
          const index = next++;
          await client.put(`handoff-${index}`, value, { w: 2 });
        }
      }),
    );
    const pending = async (): Promise<{ count: number; bytes: number }> => {
      let [count, bytes] = [0, 0];
      for (const [index, hintClient] of hintClients.entries()) {
        if (index === 2) continue;
        const status = await hintClient.status();
        const forN3 = status.members.find((member) => member.node_id === "n3");
        count += Number(forN3?.hints_pending ?? 0);
        bytes += Number(forN3?.hint_bytes_pending ?? 0);
      }
      return { count, bytes };
    };
    const hinted = await pending();
    say(`${hinted.count} hints (${hinted.bytes} bytes) pending for n3`);

    const foreground = new Foreground(client, value, args["foreground-concurrency"]);
    const phases: Phase[] = [];
    phases.push(await foreground.run("n3 down, hints pending", args["phase-seconds"] * 1000));

    say("restarting n3 cut off from the others; then healing it under the foreground load");
    const others = specs.filter((spec) => spec.id !== "n3");
    await Promise.all(others.map((spec) => setDroppedPeers(spec.address, ["n3"])));
    await start(n3);
    await setDroppedPeers(
      n3.address,
      others.map((spec) => spec.id),
    );
    await sleep(5000);
    foreground.begin();
    const restartedMs = performance.now();
    await Promise.all(specs.map((spec) => setDroppedPeers(spec.address, [])));
    let deliveredMs = 0;
    for (;;) {
      const left = await pending();
      if (left.count === 0) {
        deliveredMs = performance.now() - restartedMs;
        break;
      }
      if (performance.now() - restartedMs > 600_000)
        throw new Error("hints not delivered in 10 min");
      await sleep(100);
    }
    phases.push(foreground.end("delivery (heal until 0 pending)"));
    phases.push(await foreground.run("after delivery", args["phase-seconds"] * 1000));
    await foreground.stop();

    const report = {
      keys: args.keys,
      valueBytes: args["value-bytes"],
      hints: hinted.count,
      hintBytes: hinted.bytes,
      deliverySeconds: deliveredMs / 1000,
      hintsPerSecond: hinted.count / (deliveredMs / 1000),
      throttleBytesPerSecond: throttle ?? "default",
      phases,
      p99DuringOverAfter: phases[1]!.p99Ms / phases[2]!.p99Ms,
      errors: Object.fromEntries(foreground.errors),
    };
    if (args.json) {
      console.log(JSON.stringify(report));
    } else {
      console.log(
        `${report.hints} hints (${(report.hintBytes / 1048576).toFixed(1)} MiB) delivered in ` +
          `${report.deliverySeconds.toFixed(2)} s from the heal: ${Math.round(report.hintsPerSecond)} hints/s`,
      );
      console.log(phaseTable(phases));
      console.log(`p99 during delivery / after: ${report.p99DuringOverAfter.toFixed(2)}×`);
      for (const [message, count] of foreground.errors) console.log(`failed ${count}×: ${message}`);
    }
    return 0;
  } finally {
    client.close();
    for (const hintClient of hintClients) hintClient.close();
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
