// Goal: ownership transfer's stream moves every key of a partition a node gains, and only that
// partition; a receiver that crashes mid-stream resumes from its saved cursor (at another old
// primary too), never from the start; both ends keep their stream limit and refuse what does
// not fit the change under way; a receiver says why a partition waits.
// Method: real Replicas on memory storage with their anti-entropy trees, a TransferSource per
// old primary and a PartitionPuller at the new node, joined by an in-process port; the layout
// is a real committed join (a, b, c → + d), time a ManualClock.

import { describe, expect, it } from "vitest";
import { PartitionTrees } from "../../../../node/anti-entropy/partition-trees.js";
import { EMPTY_CONTEXT } from "../../../../node/core/causal-context.js";
import { planTransition } from "../../../../node/core/cluster-plan.js";
import { isKvError } from "../../../../node/core/errors.js";
import { partitionOfKey } from "../../../../node/core/key-hash.js";
import { ringsOf } from "../../../../node/core/layout.js";
import { commitStaged } from "../../../../node/core/layout-merge.js";
import type { NodeId } from "../../../../node/core/node-id.js";
import { silentLogger } from "../../../../node/logger.js";
import {
  rampWaitMs,
  PartitionPuller,
  type PullRequest,
  type TransferPort,
} from "../../../../node/membership/partition-puller.js";
import { MemoryPullStore } from "../../../../node/membership/pull-file-store.js";
import { TransferSource } from "../../../../node/membership/transfer-source.js";
import { Replica } from "../../../../node/replica.js";
import { MemoryStorage } from "../../../../node/storage/memory-storage.js";
import { ManualClock, settle } from "../manual-clock.js";
import { cluster, id, join, stage } from "../core/layout-fixtures.js";

const encoder = new TextEncoder();
const PARTITIONS = 16;

async function setup(options: { sourceStreamsMax?: number; sourceBytesPerSecond?: number } = {}) {
  const clock = new ManualClock();
  const metadata = commitStaged(stage(cluster("abc", PARTITIONS), join("d")));
  const { current, previous } = ringsOf(metadata.layout);
  const plan = planTransition({ previous: previous!, next: current, n: 3 });
  const moves = plan.moves.filter((move) => move.gaining.includes(id("d")));
  const up = new Set(["a", "b", "c", "d"].map(id));
  const nodes = new Map<
    NodeId,
    { replica: Replica; trees: PartitionTrees; source: TransferSource }
  >();
  for (const letter of "abcd") {
    const self = id(letter);
    const storage = new MemoryStorage();
    await storage.open();
    const replica = new Replica(storage, `${letter}.t`, undefined, { clock });
    const trees = new PartitionTrees(PARTITIONS);
    trees.markReady();
    replica.onWrite((bucket, key, _before, after, keyId) => trees.apply(bucket, key, after, keyId));
    const view = {
      self,
      ring: current,
      previousRing: previous,
      layout: metadata.layout,
      upNodes: () => up,
      onLayoutChange: () => () => undefined,
    };
    const source = new TransferSource({
      view,
      trees,
      replica,
      clock,
      bytesPerSecond: options.sourceBytesPerSecond ?? 0,
      ...(options.sourceStreamsMax === undefined ? {} : { streamsMax: options.sourceStreamsMax }),
    });
    nodes.set(self, { replica, trees, source });
  }
  const node = (letter: string) => nodes.get(id(letter))!;
  /** Writes `count` keys of `partition` at every old primary; returns them. */
  const fill = async (partition: number, count: number, from: readonly NodeId[], padBytes = 0) => {
    const keys: string[] = [];
    for (let index = 0; keys.length < count; index++) {
      const key = `p${partition}-${index}`;
      if (partitionOfKey("b", encoder.encode(key), PARTITIONS) !== partition) continue;
      keys.push(key);
      for (const holder of from) {
        const version = {
          value: encoder.encode(`v-${key}`.padEnd(padBytes, ".")),
          contentType: "",
          metadata: {},
          lastModifiedMs: clock.nowMs(),
          deleted: false,
        };
        await nodes
          .get(holder)!
          .replica.coordinate("b", encoder.encode(key), EMPTY_CONTEXT, version, {
            durable: false,
            check: () => undefined,
          });
      }
    }
    return keys;
  };
  const requests: { source: NodeId; request: PullRequest }[] = [];
  /** The port: calls the source's TransferSource in process; `hook` runs after each batch. */
  const port = (hook: (batches: number) => void = () => undefined): TransferPort => ({
    async *fetch(source, request, signal) {
      requests.push({ source, request });
      let batches = 0;
      for await (const batch of nodes.get(source)!.source.batches(request, id("d"), signal)) {
        yield batch;
        // The stream moves on only after the receiver stored the batch (flow control).
        hook((batches += 1));
      }
    },
  });
  const puller = (
    transferPort: TransferPort,
    store: MemoryPullStore,
    streamsMax = 2,
    bytesPerSecond = 0,
  ) =>
    new PartitionPuller({
      replica: node("d").replica,
      port: transferPort,
      store,
      clock,
      logger: silentLogger(),
      streamsMax,
      upNodes: () => up,
      bytesPerSecond,
    });
  return { clock, metadata, moves, up, node, fill, requests, port, puller };
}

async function until(check: () => boolean, clock: ManualClock): Promise<void> {
  for (let turn = 0; turn < 200 && !check(); turn++) await clock.advance(100);
  expect(check()).toBe(true);
}

describe("partition transfer stream", () => {
  it("moves every key of the partition gained, and nothing of any other", async () => {
    const { clock, metadata, moves, node, fill, port, puller } = await setup();
    const [move, other] = moves;
    const keys = await fill(move!.partition, 600, move!.from);
    const otherKeys = await fill(other!.partition, 20, other!.from);
    const receiver = puller(port(), new MemoryPullStore());
    await receiver.open();
    receiver.want(metadata.layout.version, [{ partition: move!.partition, sources: move!.from }]);
    await until(() => receiver.isDone(move!.partition), clock);
    for (const key of keys) {
      expect(await node("d").replica.get("b", encoder.encode(key)), key).toBeDefined();
    }
    for (const key of otherKeys) {
      expect(await node("d").replica.get("b", encoder.encode(key))).toBeUndefined();
    }
    const [progress] = receiver.progress();
    expect(progress).toMatchObject({ state: "done", keysDone: 600, keysLeft: 0, why: "" });
    expect(progress!.bytesDone).toBeGreaterThan(600 * 10);
    // 600 keys of 256-object batches: three batches, the last one marked done.
    expect(node(move!.from[0]!).source.stats.keysSent).toBe(600);
  });

  it("resumes after a crash from the saved cursor, at another old primary", async () => {
    const { clock, metadata, moves, node, fill, requests, port, puller } = await setup();
    const move = moves[0]!;
    const keys = await fill(move.partition, 900, move.from);
    const store = new MemoryPullStore();
    // The receiver dies after its second batch; a cursor is written at most once a second.
    let first: PartitionPuller | undefined;
    const crashing = port((batches) => {
      clock.stall(1_100);
      if (batches === 2) void first!.close();
    });
    first = puller(crashing, store);
    await first.open();
    first.want(metadata.layout.version, [{ partition: move.partition, sources: move.from }]);
    await until(() => store.file?.partitions.get(move.partition) !== undefined, clock);
    await settle();
    const saved = store.file!.partitions.get(move.partition)!;
    expect(saved.done).toBe(false);
    expect(saved.keysDone).toBe(512);
    expect(saved.cursor.leaf).toBeGreaterThan(0);

    // Restarted, with its first source down: it resumes from the cursor at the next one.
    const restarted = puller(port(), store);
    await restarted.open();
    const [down, ...rest] = move.from;
    restarted.want(metadata.layout.version, [
      { partition: move.partition, sources: [down!, ...rest] },
    ]);
    await until(() => restarted.isDone(move.partition), clock);
    const resumed = requests.at(-1)!;
    expect(resumed.request.cursor).toEqual(saved.cursor);
    expect(restarted.progress()[0]).toMatchObject({ state: "done", keysDone: 900 });
    for (const key of keys) {
      expect(await node("d").replica.get("b", encoder.encode(key)), key).toBeDefined();
    }
  });

  it("streams at most streamsMax partitions at once and says the rest wait for the limit", async () => {
    const { clock, metadata, moves, fill, port, puller } = await setup();
    const wanted = moves.slice(0, 4);
    expect(wanted.length).toBe(4);
    for (const move of wanted) await fill(move.partition, 5, move.from);
    let gate: () => void = () => undefined;
    const opened = new Promise<void>((resolve) => (gate = resolve));
    let active = 0;
    let most = 0;
    const slow: TransferPort = {
      async *fetch(source, request, signal) {
        active += 1;
        most = Math.max(most, active);
        await opened;
        try {
          yield* port().fetch(source, request, signal);
        } finally {
          active -= 1;
        }
      },
    };
    const receiver = puller(slow, new MemoryPullStore(), 2);
    await receiver.open();
    receiver.want(
      metadata.layout.version,
      wanted.map((move) => ({ partition: move.partition, sources: move.from })),
    );
    await settle();
    const states = receiver.progress().map((row) => `${row.state}:${row.why}`);
    expect(states).toEqual([
      "streaming:",
      "streaming:",
      "queued:transfer limit",
      "queued:transfer limit",
    ]);
    gate();
    await until(() => wanted.every((move) => receiver.isDone(move.partition)), clock);
    expect(most).toBe(2);
  });

  it("ramps the receive rate up after an idle spell: 1/8 of the throttle, doubling every 0.5 s", () => {
    // 64 KiB at 1 MiB/s: the throttle waits 62.5 ms; at 1/8 of the rate they take 500 ms.
    const rate = 1_048_576;
    expect(rampWaitMs(65_536, rate, 0)).toBeCloseTo(437.5);
    expect(rampWaitMs(65_536, rate, 500)).toBeCloseTo(187.5); // 1/4
    expect(rampWaitMs(65_536, rate, 1_000)).toBeCloseTo(62.5); // 1/2
    expect(rampWaitMs(65_536, rate, 1_250)).toBeCloseTo(62.5 * (Math.SQRT2 - 1));
    expect(rampWaitMs(65_536, rate, 1_500)).toBe(0); // the full rate
    expect(rampWaitMs(65_536, rate, 60_000)).toBe(0);
    // 4 KiB at 4 KiB/s would wait 7 s more at 1/8, but the ramp ends 1.5 s after it began.
    expect(rampWaitMs(4_096, 4_096, 0)).toBe(1_500);
    expect(rampWaitMs(4_096, 4_096, 1_000)).toBe(500);
  });

  it("ramps once at a low throttle, where each batch waits longer than an idle spell", async () => {
    // Sources at 64 KiB/s send batches of 16 KiB; at 1 KiB/s each waits 16 s at the receiver,
    // more than the 10 s without a batch that starts a new ramp. A batch's own wait is no idle
    // spell: the ramp must not start again at every batch, at 1/8 of the rate.
    const { clock, metadata, moves, fill, port, puller } = await setup({
      sourceBytesPerSecond: 65_536,
    });
    const move = moves[0]!;
    await fill(move.partition, 200, move.from, 1_000);
    const receiver = puller(port(), new MemoryPullStore(), 2, 1_024);
    await receiver.open();
    receiver.want(metadata.layout.version, [{ partition: move.partition, sources: move.from }]);
    await clock.advance(200_000);
    const [moving] = receiver.progress();
    // 200 s at 1 KiB/s is about 200 KB; restarting the ramp at every batch moved 2 batches.
    expect(moving!.bytesDone).toBeGreaterThan(150_000);
  });

  it("paces what it receives to its throttle, and says so", async () => {
    const { clock, metadata, moves, fill, port, puller } = await setup();
    const move = moves[0]!;
    await fill(move.partition, 600, move.from);
    const receiver = puller(port(), new MemoryPullStore(), 2, 4_096);
    await receiver.open();
    receiver.want(metadata.layout.version, [{ partition: move.partition, sources: move.from }]);
    await clock.advance(1_000);
    const [waiting] = receiver.progress();
    expect(waiting).toMatchObject({ state: "streaming", why: "throttled" });
    let elapsedMs = 1_000;
    while (!receiver.isDone(move.partition) && elapsedMs < 120_000) {
      await clock.advance(500);
      elapsedMs += 500;
    }
    const [done] = receiver.progress();
    expect(done!.state).toBe("done");
    // The throttle's burst is at most one second's bytes; the rest arrived at its rate.
    expect(elapsedMs).toBeGreaterThanOrEqual(((done!.bytesDone - 4_096 * 2) / 4_096) * 1000);
  });

  it("waits, saying why, while every source is down or busy", async () => {
    const { clock, metadata, moves, up, fill, port, puller } = await setup({ sourceStreamsMax: 1 });
    const move = moves[0]!;
    await fill(move.partition, 5, move.from);
    for (const node of move.from) up.delete(node);
    const receiver = puller(port(), new MemoryPullStore());
    await receiver.open();
    receiver.want(metadata.layout.version, [{ partition: move.partition, sources: move.from }]);
    await clock.advance(100);
    expect(receiver.progress()[0]!.why).toBe(`source down: ${move.from.join(", ")}`);
    for (const node of move.from) up.add(node);
    await until(() => receiver.isDone(move.partition), clock);
  });

  it("refuses a caller that gains nothing, another layout version, and past its stream limit", async () => {
    const { metadata, moves, node } = await setup({ sourceStreamsMax: 1 });
    const move = moves[0]!;
    const source = node(move.from[0]!).source;
    const signal = new AbortController().signal;
    const start = { leaf: 0, afterId: undefined };
    const first = async (
      request: { layoutVersion: number; partition: number },
      from: NodeId,
    ): Promise<string> => {
      try {
        const stream = source.batches({ ...request, cursor: start }, from, signal);
        await stream.next();
        return "served";
      } catch (error) {
        return isKvError(error) ? `${error.code}: ${error.message}` : String(error);
      }
    };
    const version = metadata.layout.version;
    expect(await first({ layoutVersion: version, partition: move.partition }, id("a"))).toMatch(
      /^precondition-failed: transfer: a gains no partition/,
    );
    expect(await first({ layoutVersion: version + 1, partition: move.partition }, id("d"))).toMatch(
      /^precondition-failed: .* follows layout version/,
    );
    expect(await first({ layoutVersion: version, partition: PARTITIONS }, id("d"))).toMatch(
      /^invalid-argument: transfer: partition 16 is not in the ring/,
    );
    // One stream open (suspended after its first batch): a second is refused.
    const open = source.batches(
      { layoutVersion: version, partition: move.partition, cursor: start },
      id("d"),
      signal,
    );
    await open.next();
    expect(await first({ layoutVersion: version, partition: move.partition }, id("d"))).toMatch(
      /^overloaded: transfer limit/,
    );
    await open.return(undefined);
    expect(await first({ layoutVersion: version, partition: move.partition }, id("d"))).toBe(
      "served",
    );
  });
});
