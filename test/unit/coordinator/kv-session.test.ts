// KV.Session without a transport (coordinator/kv-session.ts): at most sessionItemsInFlightMax
// items run at once and the stream is paused while items wait; the results of one turn go out
// in one message; a malformed, duplicate or guard-refused item is answered alone and unrun;
// each item's bytes are held in the call's budget from its arrival until its result was sent; the stream ends
// only once every item is answered; deadlines and message sizes by table.

import { describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import {
  KvSession,
  itemDeadlineMs,
  operationOf,
  takeCount,
  SESSION_RESULTS_PER_MESSAGE_MAX,
  SESSION_RESULT_BYTES_PER_MESSAGE_MAX,
  type SessionService,
} from "../../../coordinator/kv-session.js";
import type { SessionItem__Output } from "../../../proto/generated/dkv/v1/SessionItem.js";
import type { SessionResult } from "../../../proto/generated/dkv/v1/SessionResult.js";
import type { ItemStatus } from "../../../proto/generated/dkv/v1/ItemStatus.js";
import { KvError, isKvError } from "../../../node/core/errors.js";
import { grpcStatusOf } from "../../../node/wire/grpc-status.js";
import { refusedItem } from "../../../node/security/session-item-refusal.js";
import type { KvCall } from "../../../coordinator/kv-service.js";

const LIMITS = { sessionItemsInFlightMax: 3, requestTimeoutMsDefault: 5000 };
const NOW_MS = 1_000_000;

/** A get item for `key` in the default bucket. */
function getItem(id: number, key = `k${id}`, timeout_ms = 0): SessionItem__Output {
  const get = { bucket: "", key: Buffer.from(key), options: null };
  return { id, timeout_ms, op: "get", get };
}

function putItem(id: number, value: string): SessionItem__Output {
  const put = {
    bucket: "",
    key: Buffer.from(`k${id}`),
    value: Buffer.from(value),
    content_type: "",
    metadata: {},
    context: Buffer.alloc(0),
    options: null,
    return_body: false,
    if_none_match: false,
  };
  return { id, timeout_ms: 0, op: "put", put };
}

function statusOf(error: unknown): ItemStatus {
  if (!isKvError(error)) return { code: grpc.status.UNKNOWN, message: String(error) };
  return { code: grpcStatusOf(error.code), message: error.message, not_applied: error.notApplied };
}

/** A session over a service whose calls the test ends by hand, and a port that records. */
function harness(options: { holdLimitBytes?: number } = {}) {
  const calls: { key: string; call: KvCall; end: (error?: KvError) => void }[] = [];
  const started = (key: string, call: KvCall) =>
    new Promise<never>((resolve, reject) => {
      calls.push({
        key,
        call,
        end: (error) =>
          error === undefined
            ? resolve({ siblings: [], context: Buffer.alloc(0) } as never)
            : reject(error),
      });
    });
  const service: SessionService = {
    get: (request, call) => started(request.key.toString(), call),
    put: (request, call) => started(request.key.toString(), call),
    delete: (request, call) => started(request.key.toString(), call),
  };
  const deferred: (() => void)[] = [];
  const sent: { results: SessionResult[]; done: () => void }[] = [];
  const events: string[] = [];
  let heldBytes = 0;
  const holdLimitBytes = options.holdLimitBytes ?? Infinity;
  const session = new KvSession({
    service,
    limits: LIMITS,
    clock: { nowMs: () => NOW_MS, defer: (callback) => deferred.push(callback) },
    statusOf,
    port: {
      send: (results, done) => sent.push({ results, done }),
      pause: () => events.push("pause"),
      resume: () => events.push("resume"),
      end: () => events.push("end"),
      budget: {
        hold(bytes) {
          if (heldBytes + bytes > holdLimitBytes)
            return { ok: false, message: "overloaded: budget" };
          heldBytes += bytes;
          return { ok: true };
        },
        release(bytes) {
          heldBytes -= bytes;
        },
      },
      deadlineMs: Infinity,
    },
  });
  /** Lets promise continuations run, then the deferred flushes. */
  const turn = async (): Promise<void> => {
    for (let round = 0; round < 3; round++) await new Promise((resolve) => setImmediate(resolve));
    for (const callback of deferred.splice(0)) callback();
  };
  return { session, calls, sent, events, turn, held: () => heldBytes };
}

describe("KvSession", () => {
  it("runs at most sessionItemsInFlightMax items, pausing the stream while others wait", async () => {
    const { session, calls, sent, events, turn } = harness();
    session.receive([1, 2, 3, 4, 5].map((id) => getItem(id)));
    expect(calls.map((call) => call.key)).toEqual(["k1", "k2", "k3"]);
    expect(session.waiting).toBe(2);
    expect(events).toEqual(["pause"]);
    calls[1]!.end();
    await turn();
    expect(calls.map((call) => call.key)).toEqual(["k1", "k2", "k3", "k4"]);
    expect(events).toEqual(["pause"]);
    calls[0]!.end();
    await turn();
    // The queue is drained but every slot is taken: still paused.
    expect(calls).toHaveLength(5);
    expect(events).toEqual(["pause"]);
    calls[2]!.end(new KvError("unavailable", "read quorum unreachable: 1/2 replies"));
    await turn();
    expect(events).toEqual(["pause", "resume"]);
    for (const call of calls.slice(3)) call.end();
    await turn();
    const results = sent.flatMap((message) => message.results);
    expect(results.map((result) => result.id).sort()).toEqual([1, 2, 3, 4, 5]);
    const failed = results.find((result) => result.id === 3);
    expect(failed?.status).toEqual({
      code: grpc.status.UNAVAILABLE,
      message: "read quorum unreachable: 1/2 replies",
      not_applied: false,
    });
    expect(results.find((result) => result.id === 1)?.get).toBeDefined();
  });

  it("sends the results that end in one turn in one message", async () => {
    const { session, calls, sent, turn } = harness();
    session.receive([getItem(1), getItem(2), getItem(3)]);
    for (const call of calls) call.end();
    await turn();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.results.map((result) => result.id)).toEqual([1, 2, 3]);
  });

  it("answers a malformed, duplicate or refused item alone, without running it", async () => {
    const { session, calls, sent, turn } = harness();
    const both = { ...getItem(2), put: putItem(2, "x").put!, op: "put" as const };
    const refused = refusedItem(getItem(4), {
      code: grpc.status.PERMISSION_DENIED,
      reason: "no read grant",
    });
    session.receive([
      getItem(1),
      both,
      { id: 3, timeout_ms: 0 },
      refused as unknown as SessionItem__Output,
      getItem(1, "again"),
    ]);
    expect(calls.map((call) => call.key)).toEqual(["k1"]);
    await turn();
    const statuses = new Map(
      sent.flatMap((message) => message.results).map((r) => [r.id, r.status]),
    );
    expect(statuses.get(2)?.message).toMatch(/names 2 operations/);
    expect(statuses.get(3)?.message).toMatch(/names no operation/);
    expect(statuses.get(4)).toEqual({
      code: grpc.status.PERMISSION_DENIED,
      message: "no read grant",
      not_applied: true,
    });
    expect(
      sent.flatMap((message) => message.results).find((r) => r.id === 1)?.status?.message,
    ).toMatch(/id 1 is already in flight/);
    for (const id of [2, 3]) {
      expect(statuses.get(id)?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(statuses.get(id)?.not_applied).toBe(true);
    }
  });

  it("holds each item's bytes until its result was sent, and refuses an item past the budget", async () => {
    const { session, calls, sent, turn, held } = harness({ holdLimitBytes: 200 });
    session.receive([putItem(1, "a".repeat(100)), putItem(2, "b".repeat(100))]);
    expect(calls).toHaveLength(1);
    const afterFirst = held();
    expect(afterFirst).toBeGreaterThan(100);
    // What the running item holds itself (a get's object) is counted as its own.
    expect(calls[0]!.call.holdBytes?.(50)).toEqual({ ok: true });
    expect(held()).toBe(afterFirst + 50);
    calls[0]!.end();
    await turn();
    const second = sent[0]!.results.find((result) => result.id === 2);
    expect(second?.status?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(second?.status?.not_applied).toBe(true);
    expect(held()).toBe(afterFirst + 50);
    for (const message of sent) message.done();
    expect(held()).toBe(0);
  });

  it("counts the items waiting for a slot in the budget too", () => {
    const { session, calls, held } = harness();
    session.receive([1, 2, 3, 4, 5].map((id) => putItem(id, "v".repeat(100))));
    expect(calls).toHaveLength(3);
    expect(session.waiting).toBe(2);
    expect(held()).toBe(5 * (32 + 2 + 100));
  });

  it("ends the stream only once every item is answered and sent", async () => {
    const { session, calls, events, turn } = harness();
    session.receive([getItem(1)]);
    session.end();
    await turn();
    expect(events).toEqual([]);
    calls[0]!.end();
    await turn();
    expect(events).toEqual(["end"]);
  });

  it("gives each item its deadline at its arrival, and nothing after the stream is closed", async () => {
    const { session, calls, sent, turn } = harness();
    session.receive([getItem(1, "a", 250), getItem(2, "b")]);
    expect(calls.map((call) => call.call.deadlineMs)).toEqual([NOW_MS + 250, NOW_MS + 5000]);
    session.close();
    for (const call of calls) call.end();
    await turn();
    expect(sent).toEqual([]);
  });
});

describe("session parts", () => {
  it.each([
    // timeout, received, stream deadline, deadline
    [0, 1000, Infinity, 6000],
    [250, 1000, Infinity, 1250],
    [250, 1000, 1100, 1100],
    [0, 1000, 3000, 3000],
  ])("itemDeadlineMs(%d, %d, %d) = %d", (timeoutMs, receivedMs, streamMs, expected) => {
    expect(itemDeadlineMs(timeoutMs, receivedMs, streamMs, LIMITS)).toBe(expected);
  });

  it("reads the one operation of an item", () => {
    expect(operationOf(getItem(1))).toMatchObject({ kind: "get" });
    expect(operationOf(putItem(1, "v"))).toMatchObject({ kind: "put" });
    // `op` naming a field that is absent is no operation.
    expect(operationOf({ id: 7, timeout_ms: 0, op: "delete" })).toMatch(/names no operation/);
  });

  it("splits results by count and bytes, a large one alone", () => {
    const big = SESSION_RESULT_BYTES_PER_MESSAGE_MAX;
    expect(takeCount([10, 10, 10])).toBe(3);
    expect(takeCount([big, 10])).toBe(1);
    expect(takeCount([10, big])).toBe(1);
    expect(takeCount(new Array(SESSION_RESULTS_PER_MESSAGE_MAX + 5).fill(1))).toBe(
      SESSION_RESULTS_PER_MESSAGE_MAX,
    );
  });
});
