// Benchmark of ownership transfer (issue 14's figures; not a test): a 3-node cluster with
// --keys keys grows to 4 under a steady foreground load. It reports the time from the commit to
// the retired change (a balanced ring with every moving partition confirmed), the data moved to
// the new node (its key count and store bytes) and the rate, and the foreground latency during
// the transfer against the same load before it, with every failed request.
// Run: npm run bench:transfer -- [--keys 50000] [--value-bytes 1024] [--json]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
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
import { Foreground, phaseTable, type Phase } from "./lib/foreground-load.js";

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .usage("$0 [options]\n\nMeasures growing a local 3-node cluster to 4 under load.")
    .option("keys", { type: "number", default: 50_000, describe: "Keys loaded before the join" })
    .option("value-bytes", { type: "number", default: 1024 })
    .option("foreground-concurrency", { type: "number", default: 4 })
    .option("phase-seconds", { type: "number", default: 10, describe: "The phase before" })
    .option("transfer-bytes-per-second", {
      type: "number",
      describe: "Each node's transfer throttle (0: unthrottled; default: the node's)",
    })
    .option("json", { type: "boolean", default: false })
    .strict()
    .help()
    .parseAsync();
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
  const start = async (spec: LocalNodeSpec): Promise<void> => {
    children.set(spec.id, spawnNode(spec));
    await waitForServing(spec.address, 30_000, clusterClientSecurity(dir));
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all([...children.values()].map((child) => stopProcess(child, 5000)));
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
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
  try {
    await Promise.all(specs.map(start));
    say(`3 nodes up in ${dir}; loading ${args.keys} keys of ${args["value-bytes"]} bytes`);
    const value = Buffer.alloc(args["value-bytes"], 7);
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < args.keys) await client.put(`load-${next++}`, value, { w: 2 });
      }),
    );
    const foreground = new Foreground(client, value, args["foreground-concurrency"]);
    const phases: Phase[] = [];
    phases.push(await foreground.run("before (3 nodes)", args["phase-seconds"] * 1000));
    await start(joiner);
    for (;;) {
      const { staged } = await metadata();
      if (staged.changes.some((change) => change.kind === "join")) break;
      await sleep(100);
    }
    const plan = await call<{ based_on: number; revision: number }>("Plan", {});
    foreground.begin();
    const committedMs = performance.now();
    await call("Commit", { based_on: plan.based_on, revision: plan.revision });
    say("join committed; waiting for the change to retire");
    for (;;) {
      const { layout } = await metadata();
      if (layout.previousOwners === undefined && layout.version >= 3) break;
      if (performance.now() - committedMs > 1_800_000) throw new Error("no retirement in 30 min");
      await sleep(200);
    }
    const seconds = (performance.now() - committedMs) / 1000;
    phases.push(foreground.end("during the transfer"));
    await foreground.stop();
    const newcomer = new DkvClient([joiner.address], { security: clusterClientSecurity(dir) });
    const status = await newcomer.status();
    newcomer.close();
    const keys = Number(status.keys_stored);
    const bytes = keys * args["value-bytes"];
    const report = {
      keys: args.keys,
      transferBytesPerSecond: throttle ?? "node default",
      valueBytes: args["value-bytes"],
      secondsToRetired: seconds,
      keysOnNewNode: keys,
      keysPerSecond: keys / seconds,
      valueMiBPerSecond: bytes / 1048576 / seconds,
      phases,
      p99DuringOverBefore: phases[1]!.p99Ms / phases[0]!.p99Ms,
      errors: Object.fromEntries(foreground.errors),
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
    console.log(`p99 during the transfer / before: ${report.p99DuringOverBefore.toFixed(2)}×`);
    for (const [message, count] of foreground.errors) console.log(`failed ${count}×: ${message}`);
    return 0;
  } finally {
    client.close();
    membership.close();
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
