// What one write costs a node's own write path, in process (issue 16; not a test): the replica
// side of a put (Replica service's put: decode the object, merge, store on the log engine,
// anti-entropy tree maintenance), the coordinator's local write (Replica.coordinate and the
// encoding its replica calls send), for new keys of 1 KiB, and the replica side of a get of
// those keys (read, check, encode the reply's object), 100 at once; and what the log engine's
// merge costs per record written (--keys writes of 1 KiB over a tenth as many keys, so nine
// in ten records are dead, as after a zipfian load, then one merge). No gRPC, no other node:
// the part of a write's CPU that end-to-end runs on this shared machine cannot resolve (±10%).
// Each build runs in a process of its own, builds alternated, --pairs times; printed: CPU
// (user + system, all threads) per put, each run's median of its rounds.
// Run: npm run bench:replica-put -- [--builds .,/tmp/base] [--pairs 3] [--keys 40000]
//      (a build is a checkout whose dist/ is built)

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";

type Modules = {
  replica: typeof import("../node/replica.js");
  trees: typeof import("../node/anti-entropy/partition-trees.js");
  log: typeof import("../node/storage/log-storage.js");
  context: typeof import("../node/core/causal-context.js");
  dvv: typeof import("../node/core/dvv.js");
  codec: typeof import("../node/core/object-codec.js");
  server: typeof import("../node/replica-server.js");
};

const CONCURRENT = 100;
const ROUNDS = 3;

async function load(build: string): Promise<Modules> {
  const from = async <T>(file: string): Promise<T> =>
    (await import(pathToFileURL(path.join(build, "dist", file)).href)) as T;
  return {
    replica: await from("node/replica.js"),
    trees: await from("node/anti-entropy/partition-trees.js"),
    log: await from("node/storage/log-storage.js"),
    context: await from("node/core/causal-context.js"),
    dvv: await from("node/core/dvv.js"),
    codec: await from("node/core/object-codec.js"),
    server: await from("node/replica-server.js"),
  };
}

/** µs of CPU per put of `keys` new keys, `CONCURRENT` at a time, through `kind`'s path. */
async function run(
  m: Modules,
  kind: "replica" | "coordinate" | "get" | "merge",
  keys: number,
): Promise<number> {
  if (kind === "merge") return merge(m, keys);
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-bench-replica-put-"));
  const storage = new m.log.LogStorage({ dir });
  await storage.open();
  const replica = new m.replica.Replica(storage, "n2.bench");
  const trees = new m.trees.PartitionTrees(64);
  replica.onWrite((bucket, key, _before, after, id) => trees.apply(bucket, key, after, id));
  const calls = m.server.replicaCalls(
    replica,
    { self: "n2" as never, isMember: () => true, isSelfRemoved: () => false },
    {} as never,
  );
  const version = (): import("../node/core/dvv.js").Version => ({
    value: Buffer.alloc(1024, 120),
    contentType: "",
    metadata: {},
    lastModifiedMs: 1,
    deleted: false,
  });
  // What a replica receives: the object as bytes, as its stream message carries it.
  const requests = Array.from({ length: keys }, (_, index) => ({
    bucket: "default",
    key: Buffer.from(`key-${index}`),
    object: Buffer.from(
      m.codec.encodeObject(
        m.dvv.update(m.dvv.EMPTY_DVV_SET, m.context.EMPTY_CONTEXT, "n1.x", version(), 0).object,
      ),
    ),
    durable: false,
    reason: "REPLICA_PUT_REASON_WRITE" as const,
    hint_for: "",
  }));
  const versions = kind === "coordinate" ? requests.map(() => version()) : [];
  // A build from before encodeObjectShared encoded the object again for its replica calls.
  const codec: Partial<Modules["codec"]> & Pick<Modules["codec"], "encodeObject"> = m.codec;
  const encodeForPeers = codec.encodeObjectShared ?? codec.encodeObject;
  if (kind === "get") for (const request of requests) await calls.put(request);
  const started = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      for (let index = next++; index < keys; index = next++) {
        const request = requests[index]!;
        if (kind === "replica") {
          await calls.put(request);
        } else if (kind === "get") {
          await calls.get({ bucket: request.bucket, key: request.key, digest: Buffer.alloc(0) });
        } else {
          const write = await replica.coordinate(
            request.bucket,
            request.key,
            m.context.EMPTY_CONTEXT,
            versions[index]!,
            { durable: false, check: () => undefined },
          );
          encodeForPeers(write.object);
        }
      }
    }),
  );
  const used = process.cpuUsage(started);
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  return (used.user + used.system) / keys;
}

/** µs of CPU of one merge per record written: `keys` records over `keys / 10` keys. */
async function merge(m: Modules, keys: number): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-bench-merge-"));
  const storage = new m.log.LogStorage({ dir, autoMerge: false });
  await storage.open();
  const distinct = Math.max(1, Math.floor(keys / 10));
  const object = Buffer.alloc(1100, 120);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      for (let index = next++; index < keys; index = next++) {
        const key = Buffer.from(`key-${index % distinct}`);
        await storage.put("default", key, object, { durable: false });
      }
    }),
  );
  const started = process.cpuUsage();
  await storage.merge();
  const used = process.cpuUsage(started);
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  return (used.user + used.system) / keys;
}

async function worker(build: string, keys: number): Promise<void> {
  const m = await load(build);
  const result: Record<string, number> = {};
  for (const kind of ["replica", "coordinate", "get", "merge"] as const) {
    const rounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) rounds.push(await run(m, kind, keys));
    rounds.sort((a, b) => a - b);
    result[kind] = rounds[Math.floor(ROUNDS / 2)]!;
  }
  console.log(JSON.stringify(result));
}

async function main(): Promise<void> {
  const args = await yargs(hideBin(process.argv))
    .option("builds", { type: "string", default: "." })
    .option("pairs", { type: "number", default: 3 })
    .option("keys", { type: "number", default: 40_000 })
    .option("worker", { type: "string", hidden: true })
    .strict()
    .parseAsync();
  if (args.worker !== undefined) return worker(args.worker, args.keys);
  const builds = args.builds.split(",").map((build) => path.resolve(build));
  for (const build of builds) {
    if (!existsSync(path.join(build, "dist", "node", "replica.js"))) {
      console.error(`--builds: ${build} has no built dist/ (run npm run build there)`);
      process.exitCode = 2;
      return;
    }
  }
  if (
    !Number.isInteger(args.pairs) ||
    args.pairs < 1 ||
    !Number.isInteger(args.keys) ||
    args.keys < 1
  ) {
    console.error("--pairs and --keys must be whole numbers of at least 1");
    process.exitCode = 2;
    return;
  }
  const script = fileURLToPath(import.meta.url);
  for (let pair = 1; pair <= args.pairs; pair++) {
    for (const build of builds) {
      const child = spawnSync(
        process.execPath,
        ["--import", "tsx", script, "--worker", build, "--keys", String(args.keys)],
        { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
      );
      if (child.status !== 0) throw new Error(`the run of ${build} failed (${child.status})`);
      const result = JSON.parse(child.stdout.trim().split("\n").pop() ?? "{}") as Record<
        string,
        number
      >;
      console.log(
        `pair ${pair} ${build}: replica put ${result.replica?.toFixed(1)} µs, ` +
          `coordinated put ${result.coordinate?.toFixed(1)} µs, ` +
          `replica get ${result.get?.toFixed(1)} µs of CPU per call; ` +
          `merge ${result.merge?.toFixed(2)} µs per record written`,
      );
    }
  }
}

await main();
