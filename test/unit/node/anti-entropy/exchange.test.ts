// Goal: one exchange finds exactly the keys whose versions differ, walking roots → branches →
// leaves → keys, drops writes that were only in flight, repairs every difference on both sides
// with DVV sync (tombstones included), stays within its bounds, and costs bytes in proportion
// to the differences.
// Method: two replicas over memory storage in one process; the opening side runs runExchange
// against the other side's ExchangeAnswerer through the real protobuf encoding.

import { describe, expect, it } from "vitest";
import { runExchange } from "../../../../node/anti-entropy/exchange.js";
import { KvError } from "../../../../node/core/errors.js";
import { DEFAULT_TREE_SHAPE } from "../../../../node/core/merkle-tree.js";
import {
  ALL_PARTITIONS,
  PARTITIONS,
  answererOf,
  contextOf,
  directPort,
  fakeClock,
  makeSide,
  replicate,
  valuesAt,
  write,
  type Side,
} from "./aae-test-helpers.js";

async function pair(): Promise<[Side, Side]> {
  return [await makeSide("n1"), await makeSide("n2")];
}

async function inSync(a: Side, b: Side, keys: number): Promise<void> {
  for (let index = 0; index < keys; index++) {
    await write(a, `k${index}`, `v${index}`);
    await replicate(a, b, `k${index}`);
  }
}

function rootsOf(side: Side): bigint[] {
  return ALL_PARTITIONS.map((partition) => side.trees.root(partition));
}

describe("runExchange", () => {
  it("with no differences sends only the roots", async () => {
    const [a, b] = await pair();
    await inSync(a, b, 300);
    const port = directPort(answererOf(b, a.node), a.node);
    const report = await runExchange(port, contextOf(a, fakeClock()), b.node, ALL_PARTITIONS);
    expect(port.steps).toEqual(["roots"]);
    expect(report).toMatchObject({ differences: 0, repaired: 0, partitions: ALL_PARTITIONS });
    expect(report.bytesSent + report.bytesReceived).toBeLessThan(200);
  });

  it("repairs keys missing on either side, in both directions", async () => {
    const [a, b] = await pair();
    await inSync(a, b, 50);
    await write(a, "only-a", "1");
    await write(b, "only-b", "2");
    const port = directPort(answererOf(b, a.node), a.node);
    const report = await runExchange(port, contextOf(a, fakeClock()), b.node, ALL_PARTITIONS);
    expect(report).toMatchObject({ differences: 2, repaired: 2, truncated: false });
    for (const side of [a, b]) {
      expect(await valuesAt(side, "only-a")).toEqual(["1"]);
      expect(await valuesAt(side, "only-b")).toEqual(["2"]);
    }
    expect(rootsOf(a)).toEqual(rootsOf(b));
    expect(port.steps).toEqual([
      "roots",
      "branches",
      "leaves",
      "keys",
      "versions",
      "fetch",
      "store",
    ]);
  });

  it("merges concurrent writes into siblings on both sides", async () => {
    const [a, b] = await pair();
    const first = await write(a, "cart", "base");
    await replicate(a, b, "cart");
    await write(a, "cart", "from-a", { context: first.context });
    await write(b, "cart", "from-b", { context: first.context });
    const report = await runExchange(
      directPort(answererOf(b, a.node), a.node),
      contextOf(a, fakeClock()),
      b.node,
      ALL_PARTITIONS,
    );
    expect(report.repaired).toBe(1);
    expect(await valuesAt(a, "cart")).toEqual(["from-a", "from-b"]);
    expect(await valuesAt(b, "cart")).toEqual(["from-a", "from-b"]);
  });

  it("carries a tombstone to a replica that still has the old value, which stays deleted", async () => {
    const [a, b] = await pair();
    const live = await write(a, "gone", "alive");
    await replicate(a, b, "gone");
    await write(a, "gone", "", { context: live.context, deleted: true });
    await runExchange(
      directPort(answererOf(b, a.node), a.node),
      contextOf(a, fakeClock()),
      b.node,
      ALL_PARTITIONS,
    );
    expect(await valuesAt(b, "gone")).toEqual(["(deleted)"]);
    // Exchanging again, from the other side, does not bring the value back.
    await runExchange(
      directPort(answererOf(a, b.node), b.node),
      contextOf(b, fakeClock()),
      a.node,
      ALL_PARTITIONS,
    );
    expect(await valuesAt(a, "gone")).toEqual(["(deleted)"]);
    expect(await valuesAt(b, "gone")).toEqual(["(deleted)"]);
  });

  it("drops a difference that was a write in flight when the confirm pass runs", async () => {
    const [a, b] = await pair();
    await inSync(a, b, 20);
    await write(a, "in-flight", "v");
    // The write reaches b during the confirm pause, as the coordinator's fan-out would.
    const clock = fakeClock(() => replicate(a, b, "in-flight"));
    const port = directPort(answererOf(b, a.node), a.node);
    const report = await runExchange(
      port,
      contextOf(a, clock, { confirmDelayMs: 500 }),
      b.node,
      ALL_PARTITIONS,
    );
    expect(clock.slept).toEqual([500]);
    expect(report).toMatchObject({ differences: 0, repaired: 0 });
    expect(port.steps).toEqual(["roots", "branches", "leaves", "keys", "versions"]);
  });

  it("repairs at most repairKeysPerExchangeMax keys, leaving the rest to the next exchange", async () => {
    const [a, b] = await pair();
    for (let index = 0; index < 10; index++) await write(a, `new${index}`, "v");
    const context = contextOf(a, fakeClock(), { repairKeysPerExchangeMax: 4 });
    const first = await runExchange(
      directPort(answererOf(b, a.node), a.node),
      context,
      b.node,
      ALL_PARTITIONS,
    );
    expect(first).toMatchObject({ differences: 4, repaired: 4, truncated: true });
    const second = await runExchange(
      directPort(answererOf(b, a.node), a.node),
      contextOf(a, fakeClock()),
      b.node,
      ALL_PARTITIONS,
    );
    expect(second).toMatchObject({ differences: 6, repaired: 6, truncated: false });
    expect(rootsOf(a)).toEqual(rootsOf(b));
  });

  it("paces repairs with the token bucket", async () => {
    const [a, b] = await pair();
    for (let index = 0; index < 300; index++) await write(a, `k${index}`, "v");
    const clock = fakeClock();
    const context = contextOf(a, clock, { repairKeysPerSecond: 100, confirmDelayMs: 0 });
    const report = await runExchange(
      directPort(answererOf(b, a.node), a.node),
      context,
      b.node,
      ALL_PARTITIONS,
    );
    expect(report.repaired).toBe(300);
    // 64 tokens of burst, then 100 keys/s: the remaining 236 keys take 2.36 s of waiting.
    const waitedMs = clock.slept.reduce((sum, ms) => sum + ms, 0);
    expect(waitedMs).toBeCloseTo(2360, 0);
  });

  it("costs bytes in proportion to the differences, not to the keys", async () => {
    const [a, b] = await pair();
    await inSync(a, b, 2000);
    for (let index = 0; index < 5; index++)
      await write(a, `k${index}`, "changed", {
        context: (await a.replica.get("b", new TextEncoder().encode(`k${index}`)))!.context,
      });
    const report = await runExchange(
      directPort(answererOf(b, a.node), a.node),
      contextOf(a, fakeClock()),
      b.node,
      ALL_PARTITIONS,
    );
    expect(report.repaired).toBe(5);
    // Per difference: one partition's branches and one branch's leaves (2 × 256 bytes), a leaf's
    // keys, a version, and the objects both ways: far below 2 KiB each at this size.
    expect(report.bytesSent + report.bytesReceived).toBeLessThan(200 + 5 * 2048);
    const charged = [...report.perPartition.values()].reduce((sum, tally) => sum + tally.bytes, 0);
    expect(charged).toBeCloseTo(report.bytesSent + report.bytesReceived, 6);
  });

  it("compares only the partitions the peer can compare", async () => {
    const [a, b] = await pair();
    const answerer = answererOf(b, a.node);
    const rebuilding = await makeSide("n2", { ready: false });
    const report = await runExchange(
      directPort(answererOf(rebuilding, a.node), a.node),
      contextOf(a, fakeClock()),
      b.node,
      ALL_PARTITIONS,
    );
    expect(report.partitions).toEqual([]);
    const some = await runExchange(
      directPort(answerer, a.node),
      contextOf(a, fakeClock()),
      b.node,
      [0, 2, PARTITIONS + 5],
    );
    expect(some.partitions).toEqual([0, 2]);
  });
});

describe("ExchangeAnswerer", () => {
  it("refuses a caller with another tree shape or ring size", async () => {
    const [a, b] = await pair();
    const answerer = answererOf(b, a.node);
    const request = {
      roots: {
        partitions: [0],
        partition_count: PARTITIONS,
        branch_count: 64,
        leaves_per_branch: DEFAULT_TREE_SHAPE.leavesPerBranch,
      },
    };
    await expect(
      answerer.answer({ ...request, step: "roots" } as never, a.node),
    ).rejects.toMatchObject({ code: "precondition-failed" });
  });

  it("refuses partitions it does not share with the caller", async () => {
    const b = await makeSide("n2");
    const answerer = answererOf(b, b.node);
    const stranger = "n9" as never;
    const request = { step: "branches", branches: { partitions: [1] } } as never;
    const error: unknown = await answerer
      .answer(request, stranger)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KvError);
    expect((error as KvError).code).toBe("invalid-argument");
  });

  it("refuses oversized requests", async () => {
    const [a, b] = await pair();
    const request = {
      step: "versions",
      versions: {
        keys: Array.from({ length: 5000 }, () => ({ bucket: "b", key: new Uint8Array([1]) })),
      },
    } as never;
    await expect(answererOf(b, a.node).answer(request, a.node)).rejects.toMatchObject({
      code: "invalid-argument",
    });
  });
});
