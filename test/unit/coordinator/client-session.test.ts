// The client's sessions (coordinator/client-session.ts) over a fake KV client: calls issued in
// one turn go out in one message; results settle their own calls by id, in any order; a stream
// that fails fails the items it had in flight (UNAVAILABLE, not known to be unapplied) and the
// next call opens a new one; a node never reached hands its items to the next; a stream refused
// before it ran anything keeps its code and says nothing was applied; a deadline fails alone.

import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { SessionPool, type SessionConnection } from "../../../coordinator/client-session.js";
import type { KVClient } from "../../../proto/generated/dkv/v1/KV.js";
import type { SessionRequest } from "../../../proto/generated/dkv/v1/SessionRequest.js";
import { ManualClock } from "../node/manual-clock.js";

/** A fake Session stream: records what the client writes; the test plays the node. */
class FakeStream extends EventEmitter {
  readonly written: SessionRequest[] = [];
  cancelled = false;

  write(message: SessionRequest): boolean {
    this.written.push(message);
    return true;
  }

  cancel(): void {
    this.cancelled = true;
  }

  get ids(): number[] {
    return this.written.flatMap((message) => (message.items ?? []).map((item) => Number(item.id)));
  }

  answer(results: object[]): void {
    this.emit("data", { results });
  }

  fail(code: grpc.status, details: string, metadata = new grpc.Metadata()): void {
    this.emit("status", { code, details, metadata });
  }
}

function connection(address: string): SessionConnection & { streams: FakeStream[] } {
  const streams: FakeStream[] = [];
  const kv = {
    Session: () => {
      const stream = new FakeStream();
      streams.push(stream);
      return stream;
    },
  } as unknown as KVClient;
  return { address, kv, streams };
}

/** The unary fallback of a call to a node that has KV.Session: never taken. */
const noUnary = (): Promise<never> => Promise.reject(new Error("unary call on a session node"));
const OK = { code: 0, message: "", not_applied: false };
const get = (key: string) => ({ get: { bucket: "", key: Buffer.from(key) } });

describe("SessionPool", () => {
  it("sends an item larger than a message's share as a unary call, never on the stream", async () => {
    const clock = new ManualClock();
    const pool = new SessionPool(clock);
    const node = connection("n1");
    const big = {
      put: { bucket: "", key: Buffer.from("k"), value: Buffer.alloc(5 * 1024 * 1024) },
    };
    const reply = await pool.call([node], big, clock.nowMs() + 1000, () =>
      Promise.resolve("unary"),
    );
    expect(reply).toBe("unary");
    expect(node.streams).toHaveLength(0);
  });

  it("sends the calls of one turn in one message and settles each by its id", async () => {
    const clock = new ManualClock();
    const pool = new SessionPool(clock);
    const node = connection("n1");
    const deadlineMs = clock.nowMs() + 1000;
    const calls = ["a", "b", "c"].map((key) => pool.call([node], get(key), deadlineMs, noUnary));
    await clock.advance(0);
    expect(node.streams).toHaveLength(1);
    const stream = node.streams[0]!;
    expect(stream.written).toHaveLength(1);
    const items = stream.written[0]!.items!;
    expect(items.map((item) => item.get?.key?.toString())).toEqual(["a", "b", "c"]);
    expect(items.map((item) => item.timeout_ms)).toEqual([1000, 1000, 1000]);
    const [a, b, c] = stream.ids;
    stream.emit("metadata");
    stream.answer([
      { id: c, status: OK, get: { siblings: [], context: Buffer.from("c") } },
      { id: a, status: OK, get: { siblings: [], context: Buffer.from("a") } },
      { id: b, status: { code: grpc.status.INVALID_ARGUMENT, message: "bad", not_applied: true } },
    ]);
    const [first, second, third] = await Promise.allSettled(calls);
    expect(first).toMatchObject({ status: "fulfilled", value: { context: Buffer.from("a") } });
    expect(third).toMatchObject({ status: "fulfilled", value: { context: Buffer.from("c") } });
    const error = (second as PromiseRejectedResult).reason as grpc.ServiceError;
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.message).toBe("3 INVALID_ARGUMENT: bad");
    expect(error.metadata.get("dkv-not-applied")).toEqual(["1"]);
    expect(error.metadata.get("dkv-error-origin")).toEqual(["n1"]);
    // Another turn, another message on the same stream.
    const later = pool.call([node], get("d"), deadlineMs, noUnary);
    await clock.advance(0);
    expect(node.streams).toHaveLength(1);
    expect(stream.written).toHaveLength(2);
    stream.answer([
      { id: stream.ids[3], status: OK, get: { siblings: [], context: Buffer.alloc(0) } },
    ]);
    await expect(later).resolves.toBeDefined();
    pool.close();
  });

  it("refuses an item past the node's in-flight bound as not applied, and sends once one is answered", async () => {
    const clock = new ManualClock();
    const pool = new SessionPool(clock, 2);
    const node = connection("n1");
    const deadlineMs = clock.nowMs() + 1000;
    const calls = ["a", "b", "c"].map((key) =>
      pool.call([node], get(key), deadlineMs, noUnary).catch((error: grpc.ServiceError) => error),
    );
    await clock.advance(0);
    const stream = node.streams[0]!;
    expect(stream.written[0]!.items!.map((item) => item.get?.key?.toString())).toEqual(["a", "b"]);
    const refused = (await calls[2]) as grpc.ServiceError;
    expect(refused.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused.details).toBe("2 session items already in flight to n1");
    expect(refused.metadata.get("dkv-not-applied")).toEqual(["1"]);
    stream.emit("metadata");
    stream.answer([
      { id: stream.ids[0], status: OK, get: { siblings: [], context: Buffer.alloc(0) } },
    ]);
    await expect(calls[0]).resolves.toMatchObject({ siblings: [] });
    // One slot is free again: the next call goes out on the same stream.
    const next = pool.call([node], get("d"), deadlineMs, noUnary);
    await clock.advance(0);
    expect(stream.written[1]!.items!.map((item) => item.get?.key?.toString())).toEqual(["d"]);
    stream.answer([
      { id: stream.ids[1], status: OK, get: { siblings: [], context: Buffer.alloc(0) } },
      { id: stream.ids[2], status: OK, get: { siblings: [], context: Buffer.alloc(0) } },
    ]);
    await expect(next).resolves.toBeDefined();
    await expect(calls[1]).resolves.toBeDefined();
    expect(() => new SessionPool(clock, 0)).toThrow(/itemsInFlightMax must be a positive integer/);
    pool.close();
  });

  it("fails the items of a failed stream as unknown, and opens a new stream for the next call", async () => {
    const clock = new ManualClock();
    const pool = new SessionPool(clock);
    const node = connection("n1");
    const deadlineMs = clock.nowMs() + 1000;
    const lost = pool
      .call([node], get("a"), deadlineMs, noUnary)
      .catch((error: grpc.ServiceError) => error);
    await clock.advance(0);
    node.streams[0]!.emit("metadata");
    node.streams[0]!.fail(grpc.status.INTERNAL, "stream reset");
    const error = (await lost) as grpc.ServiceError;
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toMatch(/ended with 1 items unanswered: INTERNAL: stream reset/);
    expect(error.metadata.get("dkv-not-applied")).toEqual([]);
    const next = pool.call([node], get("b"), deadlineMs, noUnary);
    await clock.advance(0);
    expect(node.streams).toHaveLength(2);
    const stream = node.streams[1]!;
    stream.answer([
      { id: stream.ids[0], status: OK, get: { siblings: [], context: Buffer.alloc(0) } },
    ]);
    await expect(next).resolves.toBeDefined();
    pool.close();
  });

  it("moves the items of a node never reached on to the next one", async () => {
    const clock = new ManualClock();
    const pool = new SessionPool(clock);
    const [down, up] = [connection("n1"), connection("n2")];
    const call = pool.call([down, up], get("a"), clock.nowMs() + 1000, noUnary);
    await clock.advance(0);
    down.streams[0]!.fail(grpc.status.UNAVAILABLE, "No connection established");
    await clock.advance(0);
    expect(up.streams).toHaveLength(1);
    const stream = up.streams[0]!;
    stream.answer([
      { id: stream.ids[0], status: OK, get: { siblings: [], context: Buffer.alloc(0) } },
    ]);
    await expect(call).resolves.toBeDefined();
    pool.close();
  });

  it("keeps the code of a stream refused before it ran anything, which applied nothing", async () => {
    const clock = new ManualClock();
    const pool = new SessionPool(clock);
    const node = connection("n1");
    const call = pool.call([node], get("a"), clock.nowMs() + 1000, noUnary).catch((e) => e);
    await clock.advance(0);
    node.streams[0]!.fail(grpc.status.UNAUTHENTICATED, "this call needs a client certificate");
    const error = (await call) as grpc.ServiceError;
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error.metadata.get("dkv-not-applied")).toEqual(["1"]);
    pool.close();
  });

  it("fails an item at its deadline, and ignores its late result", async () => {
    const clock = new ManualClock();
    const pool = new SessionPool(clock);
    const node = connection("n1");
    const slow = pool.call([node], get("a"), clock.nowMs() + 100, noUnary).catch((e) => e);
    const fast = pool.call([node], get("b"), clock.nowMs() + 1000, noUnary);
    await clock.advance(100);
    const error = (await slow) as grpc.ServiceError;
    expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    const stream = node.streams[0]!;
    const [a, b] = stream.ids;
    stream.answer([
      { id: a, status: OK, get: { siblings: [], context: Buffer.alloc(0) } },
      { id: b, status: OK, get: { siblings: [], context: Buffer.from("b") } },
    ]);
    await expect(fast).resolves.toMatchObject({ context: Buffer.from("b") });
    pool.close();
  });

  it("falls back to unary calls on a node without KV.Session", async () => {
    const clock = new ManualClock();
    const pool = new SessionPool(clock);
    const node = connection("n1");
    let unaryCalls = 0;
    const unary = () => Promise.resolve(`unary ${++unaryCalls}`);
    const first = pool.call([node], get("a"), clock.nowMs() + 1000, unary);
    await clock.advance(0);
    node.streams[0]!.fail(grpc.status.UNIMPLEMENTED, "The server does not implement the method");
    await expect(first).resolves.toBe("unary 1");
    await expect(pool.call([node], get("b"), clock.nowMs() + 1000, unary)).resolves.toBe("unary 2");
    expect(node.streams).toHaveLength(1);
    pool.close();
  });
});
