// The put-cost half of the anti-entropy benchmark (run through scripts/bench-aae.ts): what tree
// maintenance costs a write. Replica-level puts with maintenance on and off, the CPU time of
// one maintenance step, and the CPU a put costs a real 3-node cluster, to put the two together.

import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { readFileSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { PartitionTrees } from "../node/anti-entropy/partition-trees.js";
import { Replica } from "../node/replica.js";
import { MemoryStorage } from "../node/storage/memory-storage.js";
import { LogStorage } from "../node/storage/log-storage.js";
import type { Storage } from "../node/storage/storage.js";
import { EMPTY_CONTEXT } from "../node/core/causal-context.js";
import { update, EMPTY_DVV_SET, type DvvSet, type Version } from "../node/core/dvv.js";
import { DkvClient } from "../coordinator/client.js";
import {
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  waitForServing,
  clusterClientSecurity,
} from "../cli/local-cluster.js";

const BUCKET = "bench";
const PARTITIONS = 64;
const WRITERS = 64;

function keyOf(prefix: string, index: number): Uint8Array {
  return Buffer.from(`${prefix}-${String(index).padStart(10, "0")}`);
}

function version(valueBytes: number): Version {
  return {
    value: Buffer.alloc(valueBytes, 120),
    contentType: "",
    metadata: {},
    lastModifiedMs: 1,
    deleted: false,
  };
}

/** Runs `work(i)` for i in 0..count-1 from WRITERS concurrent loops. */
async function concurrently(count: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const writer = async (): Promise<void> => {
    for (let index = next++; index < count; index = next++) await work(index);
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

export interface PutRun {
  readonly perSecond: number;
  /** Process CPU time (user + system) per put: less sensitive to other load on the machine. */
  readonly cpuMicrosPerPut: number;
}

/** Replica.coordinate on fresh keys from 64 writers, with or without tree maintenance. */
async function putRun(
  storage: Storage,
  puts: number,
  valueBytes: number,
  maintain: boolean,
  durable: boolean,
): Promise<PutRun> {
  await storage.open();
  const replica = new Replica(storage, "n1.bench");
  if (maintain) {
    const trees = new PartitionTrees(PARTITIONS);
    replica.onWrite((bucket, key, _before, after) => trees.apply(bucket, key, after));
  }
  const cpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  await concurrently(puts, async (index) => {
    await replica.coordinate(BUCKET, keyOf("put", index), EMPTY_CONTEXT, version(valueBytes), {
      durable,
      check: () => undefined,
    });
  });
  const elapsedMs = performance.now() - startedMs;
  const cpu = process.cpuUsage(cpuBefore);
  await storage.close();
  return { perSecond: (puts * 1000) / elapsedMs, cpuMicrosPerPut: (cpu.user + cpu.system) / puts };
}

export interface PutRow {
  readonly engine: string;
  readonly off: PutRun;
  readonly on: PutRun;
}

const PUT_CASES = [
  { engine: "memory", durable: false },
  { engine: "log", durable: false },
  { engine: "log", durable: true },
] as const;

function median(values: readonly number[]): number {
  return [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
}

/** Replica-level puts, maintenance off and on, alternated five times each; medians. */
export async function benchReplicaPuts(puts: number, valueBytes: number): Promise<PutRow[]> {
  const rows: PutRow[] = [];
  for (const { engine, durable } of PUT_CASES) {
    const runs: Record<"on" | "off", PutRun[]> = { on: [], off: [] };
    for (let repeat = 0; repeat < 5; repeat++) {
      for (const maintain of [false, true]) {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "dkv-bench-aae-"));
        const storage = engine === "memory" ? new MemoryStorage() : new LogStorage({ dir });
        runs[maintain ? "on" : "off"].push(
          await putRun(storage, puts, valueBytes, maintain, durable),
        );
        await fs.rm(dir, { recursive: true, force: true });
      }
    }
    const summary = (list: PutRun[]): PutRun => ({
      perSecond: median(list.map((run) => run.perSecond)),
      cpuMicrosPerPut: median(list.map((run) => run.cpuMicrosPerPut)),
    });
    rows.push({
      engine: durable ? `${engine}, durable` : engine,
      off: summary(runs.off),
      on: summary(runs.on),
    });
  }
  return rows;
}

/** CPU µs of one PartitionTrees.apply: of a new key, and of a new version of a known key. */
export function benchApply(keys: number): { newKeyMicros: number; overwriteMicros: number } {
  const objects: DvvSet[] = [];
  let object = EMPTY_DVV_SET;
  for (let round = 0; round < 4; round++) {
    object = update(object, object.context, `n${round % 3}.bench`, version(100)).object;
    objects.push(object);
  }
  const ids = Array.from({ length: keys }, (_, index) => keyOf("apply", index));
  const measure = (work: () => void): number => {
    const before = process.cpuUsage();
    work();
    const cpu = process.cpuUsage(before);
    return (cpu.user + cpu.system) / keys;
  };
  const newKey: number[] = [];
  const overwrite: number[] = [];
  for (let repeat = 0; repeat < 5; repeat++) {
    const trees = new PartitionTrees(PARTITIONS);
    newKey.push(measure(() => ids.forEach((key) => trees.apply(BUCKET, key, objects[0]))));
    const next = objects[1 + (repeat % 3)];
    overwrite.push(measure(() => ids.forEach((key) => trees.apply(BUCKET, key, next))));
  }
  return { newKeyMicros: median(newKey), overwriteMicros: median(overwrite) };
}

/** utime + stime of a process from /proc, in µs (Linux only). */
function processCpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / 100;
}

/**
 * Puts through a real 3-node cluster (`dkv serve` processes of the build, memory engine, n=3,
 * w=2) from 64 concurrent writers: puts/s and the CPU the three nodes spent per put.
 */
export async function benchClusterPuts(
  puts: number,
  valueBytes: number,
): Promise<{ perSecond: number; nodeCpuMicrosPerPut: number }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "dkv-bench-aae-cluster-"));
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(3),
    clusterDir: dir,
    storage: "memory",
    partitionCount: PARTITIONS,
    logLevel: "warn",
    mainScript: path.resolve("dist/cli/main.js"),
  });
  const children: ChildProcess[] = specs.map(spawnNode);
  const clients = specs.map(
    (spec) => new DkvClient([spec.address], { security: clusterClientSecurity(dir) }),
  );
  try {
    await Promise.all(
      specs.map((spec) => waitForServing(spec.address, 20_000, clusterClientSecurity(dir))),
    );
    const value = Buffer.alloc(valueBytes, 120);
    const put = (prefix: string) => (index: number) =>
      clients[index % clients.length]!.put(keyOf(prefix, index), value).then(() => undefined);
    await concurrently(Math.min(5000, puts), put("warm"));
    const cpuBefore = children.map((child) => processCpuMicros(child.pid!));
    const startedMs = performance.now();
    await concurrently(puts, put("cluster"));
    const elapsedMs = performance.now() - startedMs;
    const cpu = children.reduce(
      (sum, child, index) => sum + processCpuMicros(child.pid!) - cpuBefore[index]!,
      0,
    );
    return { perSecond: (puts * 1000) / elapsedMs, nodeCpuMicrosPerPut: cpu / puts };
  } finally {
    for (const client of clients) client.close();
    for (const child of children) child.kill("SIGKILL");
    await fs.rm(dir, { recursive: true, force: true });
  }
}
