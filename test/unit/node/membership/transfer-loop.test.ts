// Goal: the transfer loop marks a partition transferred only after this node's stream of it is
// done and an exchange with every surviving old primary found it in sync; until then scheduled
// anti-entropy leaves it alone (leftToTransfer) and status says where it stands.
// Method: a committed join (a, b, c → + d) in an in-memory MetadataStore, seen by d; a puller
// whose port the test opens and closes; an exchange stub that reports every asked partition in
// sync; time a ManualClock.

import { describe, expect, it } from "vitest";
import type { ExchangeReport } from "../../../../node/anti-entropy/exchange.js";
import { planTransition } from "../../../../node/core/cluster-plan.js";
import { movingPartitions, ringsOf } from "../../../../node/core/layout.js";
import { markTransferred } from "../../../../node/core/layout-progress.js";
import { commitStaged } from "../../../../node/core/layout-merge.js";
import type { NodeId } from "../../../../node/core/node-id.js";
import { silentLogger } from "../../../../node/logger.js";
import { MetadataStore } from "../../../../node/membership/metadata-store.js";
import {
  PartitionPuller,
  type TransferPort,
} from "../../../../node/membership/partition-puller.js";
import { MemoryPullStore } from "../../../../node/membership/pull-file-store.js";
import { TransferLoop } from "../../../../node/membership/transfer-loop.js";
import { ManualClock } from "../manual-clock.js";
import { storeView } from "./store-view.js";
import { cluster, id, join, stage } from "../core/layout-fixtures.js";

async function setup() {
  const clock = new ManualClock();
  const metadata = MetadataStore.inMemory(commitStaged(stage(cluster("abc", 16), join("d"))));
  const { current, previous } = ringsOf(metadata.current.layout);
  const gained = planTransition({ previous: previous!, next: current, n: 3 }).moves.filter((move) =>
    move.gaining.includes(id("d")),
  );
  const up = new Set(["a", "b", "c", "d"].map(id));
  const viewOf = (self: NodeId) => storeView(metadata, self, up);
  // Streams finish only when the test says so.
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const port: TransferPort = {
    async *fetch(_source, _request, signal) {
      await released;
      if (signal.aborted) return;
      yield {
        objects: [],
        cursor: { leaf: 1024, afterId: undefined },
        done: true,
        keysLeft: 0,
        throttledMs: 0,
      };
    },
  };
  const puller = new PartitionPuller({
    replica: { merge: () => Promise.reject(new Error("no objects expected")) },
    port,
    store: new MemoryPullStore(),
    clock,
    logger: silentLogger(),
    streamsMax: 64,
    upNodes: () => up,
  });
  await puller.open();
  const exchanged: { peer: NodeId; partitions: readonly number[] }[] = [];
  const exchange = (peer: NodeId, partitions: readonly number[]): Promise<ExchangeReport> => {
    exchanged.push({ peer, partitions });
    const perPartition = new Map(partitions.map((p) => [p, { differences: 0 }]));
    return Promise.resolve({
      peer,
      partitions,
      differences: 0,
      repaired: 0,
      truncated: false,
      bytesSent: 0,
      bytesReceived: 0,
      perPartition,
    } as unknown as ExchangeReport);
  };
  const loop = new TransferLoop({
    view: viewOf(id("d")),
    metadata,
    exchange,
    puller,
    clock,
    logger: silentLogger(),
  });
  // The claimant (the lowest valid member up) retires the change once it is complete.
  const claimantLoop = (self: NodeId) =>
    new TransferLoop({ view: viewOf(self), metadata, exchange, clock, logger: silentLogger() });
  return { clock, metadata, gained, up, loop, claimantLoop, release, exchanged };
}

describe("TransferLoop", () => {
  it("confirms a partition only after its stream is done, with every old primary", async () => {
    const { clock, metadata, gained, loop, claimantLoop, release, exchanged } = await setup();
    expect(gained.length).toBeGreaterThan(0);
    const partition = gained[0]!.partition;
    loop.start();
    await clock.advance(2_500);
    // Streaming: nothing is compared or marked, and scheduled exchanges leave it alone.
    expect(exchanged).toEqual([]);
    expect(metadata.current.progress.done).toEqual([]);
    expect(loop.leftToTransfer(partition, id("a"))).toBe(true);
    expect(loop.incoming.find((row) => row.partition === partition)?.state).toBe("streaming");

    release();
    await clock.advance(2_500);
    // Then each old primary is asked about exactly the partitions it must confirm.
    const peers = new Set(exchanged.map((call) => call.peer));
    expect([...peers].sort()).toEqual(["a", "b", "c"]);
    for (const call of exchanged) {
      for (const p of call.partitions) {
        const move = gained.find((candidate) => candidate.partition === p);
        expect(move?.from, `partition ${p} asked of ${call.peer}`).toContain(call.peer);
      }
    }
    // Every gained partition was marked, but d is no claimant: the change is a's to retire.
    const moving = movingPartitions(metadata.current.layout);
    expect(metadata.current.progress.done).toEqual(moving);
    expect(loop.leftToTransfer(partition, id("a"))).toBe(false);
    await clock.advance(2_000);
    expect(metadata.current.layout.previousOwners).toBeDefined();
    const claimant = claimantLoop(id("a"));
    claimant.start();
    await clock.advance(1_000);
    expect(metadata.current.layout.previousOwners).toBeUndefined();
    await Promise.all([loop.close(), claimant.close()]);
  });

  it("is retired by whichever node is claimant in its own view", async () => {
    const { clock, metadata, up, claimantLoop, release } = await setup();
    release();
    const b = claimantLoop(id("b"));
    await metadata.update((current) => markTransferred(current, movingPartitions(current.layout)));
    b.start();
    await clock.advance(2_000);
    expect(metadata.current.layout.previousOwners).toBeDefined();
    // a is down: b is the claimant now.
    up.delete(id("a"));
    await clock.advance(1_000);
    expect(metadata.current.layout.previousOwners).toBeUndefined();
    await b.close();
  });

  it("waits, naming the old primary that is down, and confirms once it is back", async () => {
    const { clock, metadata, gained, up, loop, release, exchanged } = await setup();
    up.delete(id("c"));
    release();
    loop.start();
    await clock.advance(3_000);
    expect(exchanged.some((call) => call.peer === "c")).toBe(false);
    expect(loop.incoming.some((row) => row.why === "source down: c")).toBe(true);
    expect(metadata.current.layout.previousOwners).toBeDefined();
    up.add(id("c"));
    await clock.advance(3_000);
    const moving = movingPartitions(metadata.current.layout);
    expect(metadata.current.progress.done).toEqual(moving);
    await loop.close();
  });
});
