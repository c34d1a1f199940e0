// Anti-entropy benchmark (DESIGN §9): two replicas in this process, each a gRPC server with
// the AntiEntropy service over memory storage, holding the same keys; one exchange with D
// differing keys, its bytes (counted per message, and on the socket through a counting TCP
// proxy) and wall time; then what tree maintenance costs puts (scripts/bench-aae-puts.ts).
// Run (after npm run build, for the cluster part): node --expose-gc --import tsx scripts/bench-aae.ts
//   [--keys 200000] [--diffs 0,10,100,1000] [--value-bytes 100] [--puts 100000]
//   [--cluster-puts 20000] [--confirm-delay-ms 500] [--repair-keys-per-second 2000]

import * as grpc from "@grpc/grpc-js";
import * as net from "node:net";
import * as os from "node:os";
import { AntiEntropy } from "../node/anti-entropy/anti-entropy.js";
import { PartitionTrees } from "../node/anti-entropy/partition-trees.js";
import { MetadataStore } from "../node/membership/metadata-store.js";
import { initialMetadata } from "../node/core/layout.js";
import { ClusterView } from "../node/cluster-view.js";
import { SYSTEM_CLOCK } from "../node/clock.js";
import { grpcExchangeOpener } from "../node/anti-entropy/exchange-client.js";
import { GrpcReapPort } from "../node/anti-entropy/reap-client.js";
import { Replica } from "../node/replica.js";
import { MemoryStorage } from "../node/storage/memory-storage.js";
import { silentLogger } from "../node/logger.js";
import { nodeId, type NodeId } from "../node/core/node-id.js";
import { EMPTY_CONTEXT, type CausalContext } from "../node/core/causal-context.js";
import { encodeObject } from "../node/core/object-codec.js";
import { preferenceList } from "../coordinator/core/preference-list.js";
import { probeFreePorts } from "../cli/local-cluster.js";
import { benchApply, benchClusterPuts, benchReplicaPuts } from "./bench-aae-puts.js";

interface BenchOptions {
  readonly keys: number;
  readonly diffs: number[];
  readonly valueBytes: number;
  readonly puts: number;
  readonly clusterPuts: number;
  readonly confirmDelayMs: number;
  readonly repairKeysPerSecond: number;
}

function parseArguments(argv: string[]): BenchOptions {
  const value = (name: string, fallback: string): string => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? (argv[index + 1] ?? fallback) : fallback;
  };
  return {
    keys: Number(value("keys", "200000")),
    diffs: value("diffs", "0,10,100,1000").split(",").map(Number),
    valueBytes: Number(value("value-bytes", "100")),
    puts: Number(value("puts", "100000")),
    clusterPuts: Number(value("cluster-puts", "20000")),
    confirmDelayMs: Number(value("confirm-delay-ms", "500")),
    repairKeysPerSecond: Number(value("repair-keys-per-second", "2000")),
  };
}

const BUCKET = "bench";
const PARTITIONS = 64;
const KiB = 1024;

function keyOf(index: number): Uint8Array {
  return Buffer.from(`key-${String(index).padStart(10, "0")}`);
}

/** A TCP proxy that counts the bytes going each way. */
async function countingProxy(
  targetPort: number,
): Promise<{ port: number; bytes: () => number; close: () => void }> {
  let bytes = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(targetPort, "127.0.0.1");
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      socket.on("error", () => socket.destroy());
      socket.on("close", () => sockets.delete(socket));
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    bytes: () => bytes,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

interface BenchNode {
  readonly self: NodeId;
  readonly replica: Replica;
  readonly antiEntropy: AntiEntropy;
  close(): Promise<void>;
}

/** Two nodes; n1 reaches n2 through the counting proxy. */
async function startPair(
  options: BenchOptions,
): Promise<{ a: BenchNode; b: BenchNode; proxyBytes: () => number; close: () => Promise<void> }> {
  const [portA, portB] = (await probeFreePorts(2)) as [number, number];
  const proxy = await countingProxy(portB);
  const nodeA = nodeId("n1");
  const nodeB = nodeId("n2");
  const viewOf = (self: NodeId): ClusterView => {
    const addressOfB = self === nodeA ? proxy.port : portB;
    const members = [
      { node: nodeA, address: `127.0.0.1:${portA}` },
      { node: nodeB, address: `127.0.0.1:${addressOfB}` },
    ];
    return new ClusterView({
      self,
      metadata: MetadataStore.inMemory(
        initialMetadata({ members, partitionCount: PARTITIONS, targetN: 3 }),
      ),
      messageBytesMax: 64 << 20,
      clock: SYSTEM_CLOCK,
    });
  };
  const start = async (self: NodeId, port: number): Promise<BenchNode> => {
    const storage = new MemoryStorage();
    await storage.open();
    const replica = new Replica(storage, `${self}.bench`);
    const view = viewOf(self);
    const antiEntropy = new AntiEntropy({
      view,
      replica,
      primariesOf: (p) => preferenceList(view.ring, view.upNodes(), p, 3).primaries,
      logger: silentLogger(),
      exchanges: grpcExchangeOpener(view, SYSTEM_CLOCK),
      reaps: new GrpcReapPort(view),
      clock: SYSTEM_CLOCK,
      hints: { targets: () => [], totals: () => ({ count: 0, bytes: 0 }) },
      options: {
        confirmDelayMs: options.confirmDelayMs,
        repairKeysPerSecond: options.repairKeysPerSecond,
      },
    });
    replica.onWrite(antiEntropy.writeListener);
    antiEntropy.trees.markReady();
    const server = new grpc.Server({ "grpc.max_receive_message_length": 64 << 20 });
    antiEntropy.addToServer(server, view);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    return {
      self,
      replica,
      antiEntropy,
      close: async () => {
        await antiEntropy.close();
        server.forceShutdown();
        view.close();
      },
    };
  };
  const a = await start(nodeA, portA);
  const b = await start(nodeB, portB);
  return {
    a,
    b,
    proxyBytes: proxy.bytes,
    close: async () => {
      await a.close();
      await b.close();
      proxy.close();
    },
  };
}

function versionOf(
  text: string,
  valueBytes: number,
): {
  value: Uint8Array;
  contentType: string;
  metadata: Record<string, string>;
  lastModifiedMs: number;
  deleted: boolean;
} {
  const value = Buffer.alloc(valueBytes, 120);
  value.write(text);
  return {
    value,
    contentType: "application/octet-stream",
    metadata: {},
    lastModifiedMs: Date.now(),
    deleted: false,
  };
}

async function coordinate(
  replica: Replica,
  index: number,
  text: string,
  valueBytes: number,
  context: CausalContext = EMPTY_CONTEXT,
): Promise<void> {
  await replica.coordinate(BUCKET, keyOf(index), context, versionOf(text, valueBytes), {
    durable: false,
    check: () => undefined,
  });
}

/** Writes every key on a and replicates it to b, as a quorum write with all acks would. */
async function fill(a: BenchNode, b: BenchNode, options: BenchOptions): Promise<number> {
  const startedMs = performance.now();
  for (let index = 0; index < options.keys; index++) {
    await coordinate(a.replica, index, `v0-${index}`, options.valueBytes);
    const object = await a.replica.get(BUCKET, keyOf(index));
    if (object !== undefined)
      await b.replica.merge(BUCKET, keyOf(index), object, { durable: false });
  }
  return performance.now() - startedMs;
}

/** D differing keys, spread over the key space: half newer on a, half newer on b. */
async function makeDifferences(
  pair: { a: BenchNode; b: BenchNode },
  d: number,
  round: number,
  options: BenchOptions,
): Promise<number[]> {
  const stride = Math.max(1, Math.floor(options.keys / Math.max(1, d)));
  const indexes = Array.from({ length: d }, (_, i) => (i * stride + round) % options.keys);
  for (const [i, index] of indexes.entries()) {
    const side = i % 2 === 0 ? pair.a : pair.b;
    const stored = await side.replica.get(BUCKET, keyOf(index));
    await coordinate(
      side.replica,
      index,
      `r${round}-${index}`,
      options.valueBytes,
      stored?.context,
    );
  }
  return indexes;
}

function rootsEqual(a: BenchNode, b: BenchNode): boolean {
  for (let p = 0; p < PARTITIONS; p++)
    if (a.antiEntropy.trees.root(p) !== b.antiEntropy.trees.root(p)) return false;
  return true;
}

async function largestObjectBytes(node: BenchNode, indexes: number[]): Promise<number> {
  let largest = 0;
  for (const index of indexes) {
    const object = await node.replica.get(BUCKET, keyOf(index));
    if (object !== undefined) largest = Math.max(largest, encodeObject(object).length);
  }
  return largest;
}

interface ExchangeRow {
  d: number;
  differences: number;
  repaired: number;
  messageBytes: number;
  socketBytes: number;
  budgetBytes: number;
  objectBytes: number;
  wallMs: number;
  converged: boolean;
}

async function benchExchanges(options: BenchOptions): Promise<{
  rows: ExchangeRow[];
  fillMs: number;
  rebuildMs: number;
  treeBytesPerKey: number | undefined;
}> {
  const pair = await startPair(options);
  try {
    const fillMs = await fill(pair.a, pair.b, options);
    const { rebuildMs, treeBytesPerKey } = await measureRebuild(pair.a, options.keys);
    // Warm the connection so that connection set-up is not charged to the first row.
    await pair.a.antiEntropy.exchangeWith(pair.b.self);
    const rows: ExchangeRow[] = [];
    for (const [round, d] of options.diffs.entries()) {
      const indexes = await makeDifferences(pair, d, round + 1, options);
      const socketBefore = pair.proxyBytes();
      const startedMs = performance.now();
      const report = await pair.a.antiEntropy.exchangeWith(pair.b.self);
      const wallMs = performance.now() - startedMs;
      if (report === undefined) throw new Error("exchange skipped");
      const objectBytes = await largestObjectBytes(pair.a, indexes);
      rows.push({
        d,
        differences: report.differences,
        repaired: report.repaired,
        messageBytes: report.bytesSent + report.bytesReceived,
        socketBytes: pair.proxyBytes() - socketBefore,
        budgetBytes: d === 0 ? 16 * KiB : 64 * KiB + 2 * d * (objectBytes + KiB),
        objectBytes,
        wallMs,
        converged: rootsEqual(pair.a, pair.b),
      });
    }
    return { rows, fillMs, rebuildMs, treeBytesPerKey };
  } finally {
    await pair.close();
  }
}

function collect(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  gc();
  gc();
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
}

/** Rebuilds a fresh set of trees from a's storage: time, and heap per key when gc is exposed. */
async function measureRebuild(
  node: BenchNode,
  keys: number,
): Promise<{ rebuildMs: number; treeBytesPerKey: number | undefined }> {
  const before = collect();
  const trees = new PartitionTrees(PARTITIONS);
  const startedMs = performance.now();
  await trees.rebuild(node.replica.storage.entries(), {
    chunkEntries: 1000,
    pause: () => new Promise((resolve) => setImmediate(resolve)),
  });
  const rebuildMs = performance.now() - startedMs;
  for (let p = 0; p < PARTITIONS; p++) {
    if (trees.root(p) !== node.antiEntropy.trees.root(p))
      throw new Error(`rebuild differs in partition ${p}`);
  }
  const after = collect();
  const treeBytesPerKey =
    before === undefined || after === undefined ? undefined : (after - before) / keys;
  if (trees.keyCount !== keys) throw new Error(`rebuild indexed ${trees.keyCount} keys`);
  return { rebuildMs, treeBytesPerKey };
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  console.log(`# bench-aae ${JSON.stringify(options)}`);
  console.log(
    `# node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? "?"}), ${new Date().toISOString()}`,
  );
  const exchanges = await benchExchanges(options);
  console.log(
    `fill ${options.keys} keys on both replicas: ${(exchanges.fillMs / 1000).toFixed(1)} s; rebuild of one replica's trees: ${exchanges.rebuildMs.toFixed(0)} ms; trees ${exchanges.treeBytesPerKey?.toFixed(1) ?? "?"} B/key`,
  );
  console.log(
    "| D | differences | repaired | message bytes | socket bytes | budget | object bytes | wall ms | converged |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const row of exchanges.rows) {
    console.log(
      `| ${row.d} | ${row.differences} | ${row.repaired} | ${row.messageBytes} | ${row.socketBytes} | ${row.budgetBytes} | ${row.objectBytes} | ${row.wallMs.toFixed(0)} | ${row.converged} |`,
    );
  }
  if (options.puts > 0) {
    console.log(
      "\nReplica.coordinate of fresh keys, 64 writers, tree maintenance off and on (medians of 5):",
    );
    console.log(
      "| engine | puts/s off | puts/s on | throughput cost | CPU µs/put off | CPU µs/put on | CPU cost |",
    );
    console.log("|---|---|---|---|---|---|---|");
    for (const { engine, off, on } of await benchReplicaPuts(options.puts, options.valueBytes)) {
      const cost = (100 * (1 - on.perSecond / off.perSecond)).toFixed(1);
      const cpuCost = (100 * (on.cpuMicrosPerPut / off.cpuMicrosPerPut - 1)).toFixed(1);
      console.log(
        `| ${engine} | ${off.perSecond.toFixed(0)} | ${on.perSecond.toFixed(0)} | ${cost}% | ${off.cpuMicrosPerPut.toFixed(1)} | ${on.cpuMicrosPerPut.toFixed(1)} | ${cpuCost}% |`,
      );
    }
    const apply = benchApply(options.puts);
    console.log(
      `\nPartitionTrees.apply CPU per write: new key ${apply.newKeyMicros.toFixed(2)} µs, new version of a known key ${apply.overwriteMicros.toFixed(2)} µs`,
    );
    if (options.clusterPuts > 0) {
      const cluster = await benchClusterPuts(options.clusterPuts, options.valueBytes);
      const share = (3 * apply.newKeyMicros) / cluster.nodeCpuMicrosPerPut;
      console.log(
        `3-node cluster (dkv serve, memory engine, n=3, w=2), ${options.clusterPuts} fresh puts: ${cluster.perSecond.toFixed(0)} puts/s, ` +
          `${cluster.nodeCpuMicrosPerPut.toFixed(0)} µs node CPU per put; maintenance of 3 replicas ≈ ${(100 * share).toFixed(1)}% of it`,
      );
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
