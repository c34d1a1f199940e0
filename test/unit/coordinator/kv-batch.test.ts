// Batches, pure parts: a batch runs every item once, at most batchItemsInFlightMax at once, and
// answers in the items' order whatever order they end in; a bad batch is refused whole; the
// client splits long lists by count and bytes and reads each item's status.

import { describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { checkBatch, runBatch } from "../../../coordinator/kv-batch.js";
import { BatchItemError, chunkBatch, outcomesOf } from "../../../coordinator/client-batch.js";
import { KvError } from "../../../node/core/errors.js";
import { DEFAULT_LIMITS } from "../../../node/core/limits.js";

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("runBatch", () => {
  it("runs each item once, at most inFlightMax at once, and answers in the items' order", async () => {
    let running = 0;
    let most = 0;
    const items = Array.from({ length: 50 }, (_, index) => index);
    const results = await runBatch(items, 7, async (item) => {
      running += 1;
      most = Math.max(most, running);
      // Later items end sooner: the order of the results must not follow the order of ends.
      for (let turn = 0; turn < (50 - item) % 5; turn++) await tick();
      running -= 1;
      if (item % 10 === 3) throw new KvError("invalid-argument", `item ${item} is bad`);
      return item * 2;
    });
    expect(most).toBe(7);
    expect(results).toHaveLength(50);
    results.forEach((result, index) => {
      if (index % 10 === 3) {
        expect(result.ok).toBe(false);
        expect(!result.ok && result.error.message).toBe(`item ${index} is bad`);
      } else {
        expect(result).toEqual({ ok: true, reply: index * 2 });
      }
    });
  });

  it("refuses an empty batch and one past batchItemsMax, naming the limit", () => {
    expect(() => checkBatch([], DEFAULT_LIMITS)).toThrow(/at least one item/);
    const over = new Array(DEFAULT_LIMITS.batchItemsMax + 1).fill(0);
    expect(() => checkBatch(over, DEFAULT_LIMITS)).toThrow(/at most 1000 items.*batchItemsMax/);
    expect(() => checkBatch(over.slice(1), DEFAULT_LIMITS)).not.toThrow();
  });
});

describe("the client's batches", () => {
  it("splits by item count and by bytes, a large item alone, keeping the order", () => {
    const sizes = [10, 10, 10, 10, 10, 100, 10, 10];
    const chunks = chunkBatch(sizes, (size) => size, 3, 30);
    expect(chunks).toEqual([[10, 10, 10], [10, 10], [100], [10, 10]]);
    expect(chunkBatch([], (size: number) => size)).toEqual([]);
  });

  it("reads each item's status; a missing reply or result is a broken answer", () => {
    const ok = { code: 0, message: "", not_applied: false };
    const refused = {
      code: grpc.status.RESOURCE_EXHAUSTED,
      message: "overloaded",
      not_applied: true,
    };
    const outcomes = outcomesOf(
      [
        { status: ok, reply: "a" },
        { status: refused, reply: null },
      ],
      2,
    );
    expect(outcomes[0]).toEqual({ ok: true, reply: "a" });
    const error = !outcomes[1]!.ok ? outcomes[1]!.error : undefined;
    expect(error).toBeInstanceOf(BatchItemError);
    expect(error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(error?.notApplied).toBe(true);
    expect(error?.message).toMatch(/RESOURCE_EXHAUSTED: overloaded/);
    expect(() => outcomesOf([{ status: ok, reply: null }], 1)).toThrow(/without its reply/);
    expect(() => outcomesOf([], 1)).toThrow(/1 items was answered with 0/);
  });
});
