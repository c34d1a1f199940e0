// Goal: the anti-entropy component over real gRPC: an exchange repairs both replicas and is
// counted in the status, dropped peers are skipped, the schedule converges replicas with no
// reads, the start-up rebuild indexes stored keys, and close() cancels an exchange at once.
// Method: two nodes in this process, each a gRPC server with the AntiEntropy service, a
// ClusterView and a Replica over memory storage, on free loopback ports.

import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { AntiEntropy } from "../../../../node/anti-entropy/anti-entropy.js";
import type { AntiEntropyOptions } from "../../../../node/anti-entropy/aae-options.js";
import { MetadataStore } from "../../../../node/membership/metadata-store.js";
import { initialMetadata } from "../../../../node/core/layout.js";
import { ClusterView } from "../../../../node/cluster-view.js";
import { SYSTEM_CLOCK, type Clock } from "../../../../node/clock.js";
import { grpcExchangeOpener } from "../../../../node/anti-entropy/exchange-client.js";
import { GrpcReapPort } from "../../../../node/anti-entropy/reap-client.js";
import { Replica } from "../../../../node/replica.js";
import { MemoryStorage } from "../../../../node/storage/memory-storage.js";
import { silentLogger } from "../../../../node/logger.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { EMPTY_CONTEXT } from "../../../../node/core/causal-context.js";
import { KvError } from "../../../../node/core/errors.js";
import { probeFreePorts } from "../../../../cli/local-cluster.js";
import { preferenceList } from "../../../../coordinator/core/preference-list.js";

interface TestNode {
  readonly self: NodeId;
  readonly view: ClusterView;
  readonly replica: Replica;
  readonly storage: MemoryStorage;
  readonly antiEntropy: AntiEntropy;
  close(): Promise<void>;
}

const running: TestNode[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((node) => node.close()));
});

const encoder = new TextEncoder();

async function startPair(
  options: Partial<AntiEntropyOptions> = {},
  prefill = 0,
  clock: Clock = SYSTEM_CLOCK,
): Promise<[TestNode, TestNode]> {
  const ports = await probeFreePorts(2);
  const members = ports.map((port, index) => ({
    node: nodeId(`n${index + 1}`),
    address: `127.0.0.1:${port}`,
  }));
  const nodes = await Promise.all(
    members.map(async ({ node, address }) => {
      const storage = new MemoryStorage();
      await storage.open();
      const replica = new Replica(storage, `${node}.t`);
      for (let index = 0; index < prefill; index++) await put(replica, `pre${index}`, "v");
      const view = new ClusterView({
        self: node,
        metadata: MetadataStore.inMemory(
          initialMetadata({ members, partitionCount: 16, targetN: 3 }),
        ),
        messageBytesMax: 64 << 20,
        clock: SYSTEM_CLOCK,
      });
      const antiEntropy = new AntiEntropy({
        view,
        replica,
        primariesOf: (p) => preferenceList(view.ring, view.upNodes(), p, 3).primaries,
        logger: silentLogger(),
        exchanges: grpcExchangeOpener(view, clock),
        reaps: new GrpcReapPort(view),
        clock,
        hints: { targets: () => [], totals: () => ({ count: 0, bytes: 0 }) },
        options: { confirmDelayMs: 0, ...options },
      });
      replica.onWrite(antiEntropy.writeListener);
      const server = new grpc.Server();
      antiEntropy.addToServer(server, view);
      await new Promise<void>((resolve, reject) =>
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error) =>
          error ? reject(error) : resolve(),
        ),
      );
      const testNode: TestNode = {
        self: node,
        view,
        replica,
        storage,
        antiEntropy,
        async close() {
          await antiEntropy.close();
          server.forceShutdown();
          view.close();
        },
      };
      running.push(testNode);
      return testNode;
    }),
  );
  return [nodes[0]!, nodes[1]!];
}

async function put(replica: Replica, key: string, value: string): Promise<void> {
  const version = {
    value: encoder.encode(value),
    contentType: "",
    metadata: {},
    lastModifiedMs: 1,
    deleted: false,
  };
  await replica.coordinate("b", encoder.encode(key), EMPTY_CONTEXT, version, {
    durable: false,
    check: () => undefined,
  });
}

async function has(node: TestNode, key: string): Promise<boolean> {
  return (await node.replica.get("b", encoder.encode(key))) !== undefined;
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const giveUpAtMs = Date.now() + timeoutMs;
  while (Date.now() < giveUpAtMs) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

describe("AntiEntropy over gRPC", () => {
  it("repairs both replicas in one exchange and reports it in the status", async () => {
    const [a, b] = await startPair();
    a.antiEntropy.trees.markReady();
    b.antiEntropy.trees.markReady();
    for (let index = 0; index < 30; index++) await put(a.replica, `a${index}`, "x");
    for (let index = 0; index < 20; index++) await put(b.replica, `b${index}`, "y");
    const report = await a.antiEntropy.exchangeWith(b.self);
    expect(report).toMatchObject({ differences: 50, repaired: 50 });
    expect(await has(b, "a7")).toBe(true);
    expect(await has(a, "b7")).toBe(true);

    const status = a.antiEntropy.status();
    expect(status.counters).toMatchObject({
      exchanges: 1,
      differences_found: 50,
      keys_repaired: 50,
    });
    expect(Number(status.counters?.bytes_sent)).toBe(report?.bytesSent);
    const partitions = status.partitions ?? [];
    expect(partitions).toHaveLength(16);
    const touched = partitions.filter((partition) => Number(partition.keys_repaired_last) > 0);
    expect(
      touched.every(
        (partition) => partition.last_peer === "n2" && Number(partition.last_exchange_ms) > 0,
      ),
    ).toBe(true);
    const repairedTotal = partitions.reduce(
      (sum, partition) => sum + Number(partition.keys_repaired_total),
      0,
    );
    expect(repairedTotal).toBe(50);
    // The answering side counted the same messages the other way round.
    const answered = b.antiEntropy.status().counters;
    expect(Number(answered?.bytes_received)).toBe(report?.bytesSent);
    expect(Number(answered?.bytes_sent)).toBe(report?.bytesReceived);
  });

  it("skips a peer whose traffic is dropped and counts the skip", async () => {
    const [a, b] = await startPair();
    a.antiEntropy.trees.markReady();
    a.view.setDroppedPeers([b.self]);
    expect(await a.antiEntropy.exchangeWith(b.self)).toBeUndefined();
    expect(a.antiEntropy.status().counters?.exchanges_skipped).toBe(1);
  });

  it("fails an exchange the peer refuses because it drops this node", async () => {
    const [a, b] = await startPair();
    a.antiEntropy.trees.markReady();
    b.antiEntropy.trees.markReady();
    b.view.setDroppedPeers([a.self]);
    const refused = a.antiEntropy.exchangeWith(b.self);
    await expect(refused).rejects.toBeInstanceOf(KvError);
    await expect(refused).rejects.toMatchObject({
      code: "unavailable",
      message: "traffic from n1 is dropped by fault injection",
    });
    expect(a.antiEntropy.status().counters?.exchanges).toBe(0);
  });

  it("rebuilds the trees from storage at start, then converges the replicas on its schedule", async () => {
    const [a, b] = await startPair({ intervalMs: 200 }, 40);
    for (let index = 0; index < 25; index++) await put(a.replica, `late${index}`, "z");
    a.antiEntropy.start();
    b.antiEntropy.start();
    expect(
      await eventually(async () => a.antiEntropy.trees.ready && b.antiEntropy.trees.ready, 5000),
    ).toBe(true);
    expect(a.antiEntropy.trees.keyCount).toBe(65);
    // Each side wrote its own pre0..pre39 (different dots), so every key becomes two siblings.
    const converged = async (): Promise<boolean> => {
      const object = await b.replica.get("b", encoder.encode("pre3"));
      return (await has(b, "late24")) && object?.siblings.length === 2;
    };
    expect(await eventually(converged, 10_000)).toBe(true);
    // The exchange is counted once it has finished, just after its last repair landed.
    const counted = async (): Promise<boolean> =>
      Number(a.antiEntropy.status().counters?.exchanges) > 0;
    expect(await eventually(counted, 5000)).toBe(true);
  });

  it("close() cancels an exchange waiting to confirm its differences", async () => {
    // The confirm pause of this clock never ends by itself, so the exchange can only end by
    // being cancelled; and the clock says when the exchange has reached it.
    const confirmDelayMs = 60_000;
    let reachedConfirm = (): void => undefined;
    const confirming = new Promise<void>((resolve) => (reachedConfirm = resolve));
    const clock: Clock = {
      ...SYSTEM_CLOCK,
      sleep(ms, signal) {
        if (ms !== confirmDelayMs) return SYSTEM_CLOCK.sleep(ms, signal);
        reachedConfirm();
        return new Promise((_, reject) =>
          signal?.addEventListener("abort", () => reject(signal.reason), { once: true }),
        );
      },
    };
    const [a, b] = await startPair({ confirmDelayMs }, 0, clock);
    a.antiEntropy.trees.markReady();
    b.antiEntropy.trees.markReady();
    await put(a.replica, "k", "v");
    const exchange = a.antiEntropy.exchangeWith(b.self);
    const ended = exchange.then(
      (report) => ({ ended: "resolved", report }),
      (error: unknown) => ({ ended: "rejected", error }),
    );
    const first = await Promise.race([confirming.then(() => undefined), ended]);
    expect(first, "the exchange ended before it reached the confirm pause").toBeUndefined();

    await a.antiEntropy.close();
    // 10 s is a give-up: without cancellation the exchange would wait forever.
    let giveUpTimer: ReturnType<typeof setTimeout> | undefined;
    const giveUp = new Promise((resolve) => {
      giveUpTimer = setTimeout(() => resolve({ ended: "not within 10 s of close()" }), 10_000);
    });
    const outcome = await Promise.race([ended, giveUp]);
    clearTimeout(giveUpTimer);
    expect(outcome).toEqual({ ended: "rejected", error: expect.any(KvError) });
    expect((outcome as { error: KvError }).error).toMatchObject({
      code: "unavailable",
      message: "anti-entropy is shutting down",
    });
    expect(await has(b, "k")).toBe(false);
  });
});
