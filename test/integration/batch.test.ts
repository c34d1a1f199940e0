// Goal: KV.BatchGet and KV.BatchPut answer each item as its unary call would, on its own: a bad
// item fails alone with its own status and the others are stored; a batch past the item limit,
// or empty, is refused whole before any item runs; and the client splits a long list.
// Method: three `dkv serve` processes (TLS, n=3); the client's getMany/putMany; raw BatchPut
// calls for the whole-batch refusals; each node's own copy read with Admin.LocalGet.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { TestCluster } from "./local-cluster-harness.js";
import { BatchItemError, type DkvClient } from "../../coordinator/client.js";
import { DEFAULT_LIMITS } from "../../node/core/limits.js";
import { loadProto } from "../../proto/load-proto.js";
import type { KVClient } from "../../proto/generated/dkv/v1/KV.js";

let cluster: TestCluster;
let client: DkvClient;

beforeAll(async () => {
  cluster = await TestCluster.start({ nodes: 3 });
  client = cluster.client("n1");
}, 60_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

const text = (value: Uint8Array): string => Buffer.from(value).toString("utf8");

/** A raw KV client of n1, for requests the TypeScript client would not make. */
function rawKv(): KVClient {
  const address = cluster.spec("n1").address;
  const secured = cluster.security.channel(address);
  return new (loadProto().grpcObject.dkv.v1.KV)(address, secured.credentials, secured.options);
}

describe("batches", () => {
  it("stores every item of a putMany and reads them back with getMany, in order", async () => {
    const items = Array.from({ length: 250 }, (_, index) => ({
      key: `batch-${index}`,
      value: `value ${index}`,
    }));
    const puts = await client.putMany(items, { w: 3 });
    expect(puts).toHaveLength(250);
    expect(puts.every((outcome) => outcome.ok)).toBe(true);
    const gets = await client.getMany([...items.map((item) => item.key), "never-written"]);
    expect(gets).toHaveLength(251);
    gets.slice(0, 250).forEach((outcome, index) => {
      expect(outcome.ok && outcome.reply.siblings.map((s) => text(s.value))).toEqual([
        `value ${index}`,
      ]);
    });
    // A key never written is found absent, as a unary get says it: OK with no siblings.
    const last = gets[250]!;
    expect(last.ok && last.reply.siblings).toEqual([]);
    // w=3 means every node holds its own copy of every item.
    const local = await cluster.client("n3").localGet("batch-249");
    expect(local.siblings.map((s) => text(s.value))).toEqual(["value 249"]);
  });

  it("answers a bad item with its own status and stores the others", async () => {
    await client.put("taken", "first");
    const outcomes = await client.putMany([
      { key: "fine-1", value: "a" },
      { key: "", value: "no key" },
      { key: "taken", value: "second", ifNoneMatch: true },
      { key: "forged", value: "x", context: Buffer.from("not a context") },
      { key: "fine-2", value: "b" },
    ]);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, false, false, false, true]);
    const errors = outcomes.map((outcome) => (outcome.ok ? undefined : outcome.error));
    expect(errors[1]).toBeInstanceOf(BatchItemError);
    expect(errors[1]?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(errors[1]?.message).toMatch(/key/);
    expect(errors[2]?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(errors[3]?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(errors[3]?.message).toMatch(/context/);
    const reads = await client.getMany(["fine-1", "fine-2", "taken", "forged"]);
    const values = reads.map((outcome) =>
      outcome.ok ? outcome.reply.siblings.map((s) => text(s.value)) : outcome.error.message,
    );
    expect(values).toEqual([["a"], ["b"], ["first"], []]);
  });

  it("refuses a batch past the item limit, or empty, whole and before any item runs", async () => {
    const kv = rawKv();
    try {
      const call = (count: number): Promise<grpc.ServiceError | null> =>
        new Promise((resolve) => {
          const items = Array.from({ length: count }, (_, index) => ({
            key: Buffer.from(`over-${index}`),
            value: Buffer.from("v"),
          }));
          kv.BatchPut({ items }, { deadline: Date.now() + 20_000 }, (error) => resolve(error));
        });
      const over = await call(DEFAULT_LIMITS.batchItemsMax + 1);
      expect(over?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(over?.details).toMatch(/at most 1000 items/);
      const empty = await call(0);
      expect(empty?.code).toBe(grpc.status.INVALID_ARGUMENT);
      const read = await client.get("over-0");
      expect(read.siblings).toEqual([]);
    } finally {
      kv.close();
    }
  });

  it("splits a list longer than a batch into batches the nodes accept", async () => {
    const keys = Array.from({ length: DEFAULT_LIMITS.batchItemsMax + 200 }, (_, i) => `long-${i}`);
    const puts = await client.putMany(
      keys.map((key) => ({ key, value: key })),
      { timeoutMs: 30_000 },
    );
    expect(puts.filter((outcome) => !outcome.ok)).toEqual([]);
    const gets = await client.getMany(keys, { timeoutMs: 30_000 });
    expect(gets.map((outcome) => outcome.ok && text(outcome.reply.siblings[0]!.value))).toEqual(
      keys,
    );
  }, 60_000);
});
