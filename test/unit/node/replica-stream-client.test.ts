// Goal: the batched replica stream's calls go out in a shape the fast encoder takes, so no batch
// falls back to protobufjs's reflection (a fallback that once took every batch, unnoticed: wall
// deadlines made from the monotonic clock carry a fraction of a millisecond, which a uint64
// field cannot hold). Method: a ReplicaStreamClient over a fake stream that keeps what is
// written; the batches are encoded with the fast encoder, which throws where it would fall back.

import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { REPLICA_LINGER_MS_MAX, ReplicaStreamClient } from "../../../node/replica-stream-client.js";
import { decodeCallBatch, encodeCallBatch } from "../../../node/wire/replica-stream-codec.js";
import type { ReplicaClient } from "../../../proto/generated/dkv/v1/Replica.js";
import type { ReplicaCallBatch } from "../../../proto/generated/dkv/v1/ReplicaCallBatch.js";
import { ManualClock, settle } from "./manual-clock.js";

class FakeStream extends EventEmitter {
  readonly written: ReplicaCallBatch[] = [];
  write(batch: ReplicaCallBatch): boolean {
    this.written.push(batch);
    return true;
  }
  end(): void {}
}

/** A client over one FakeStream on a manual clock; `opened()` counts the streams it opened. */
function started(lingerMs?: number) {
  const stream = new FakeStream();
  let opens = 0;
  const client = {
    Stream: () => {
      opens += 1;
      return stream;
    },
  } as unknown as ReplicaClient;
  const clock = new ManualClock();
  const replica = new ReplicaStreamClient(client, "n2", clock, lingerMs);
  return { stream, clock, replica, opened: () => opens };
}

describe("the replica stream client", () => {
  it("sends a fractional deadline as the next whole millisecond, which the fast encoder takes", async () => {
    const { stream, clock, replica } = started();
    const deadlineMs = clock.nowMs() + 4_999.25;
    void replica.put({ bucket: "b", key: Buffer.from("k"), object: Buffer.from("v") }, deadlineMs);
    void replica.get({ bucket: "b", key: Buffer.from("k") }, deadlineMs);
    await clock.advance(0);
    await settle();
    expect(stream.written).toHaveLength(1);
    const batch = stream.written[0]!;
    const decoded = decodeCallBatch(encodeCallBatch(batch));
    expect(decoded.calls.map((call) => call.deadline_ms)).toEqual([
      Math.ceil(deadlineMs),
      Math.ceil(deadlineMs),
    ]);
    replica.close();
  });

  it("with a linger, sends the calls of that many milliseconds in one message, not before", async () => {
    const { stream, clock, replica } = started(5);
    const deadlineMs = clock.nowMs() + 5_000;
    const get = (key: string) =>
      void replica.get({ bucket: "b", key: Buffer.from(key) }, deadlineMs);
    get("a");
    await clock.advance(3);
    get("b");
    await clock.advance(1);
    await settle();
    expect(stream.written, "nothing before the first call's linger ends").toHaveLength(0);
    await clock.advance(1);
    await settle();
    expect(stream.written.map((batch) => batch.calls!.length)).toEqual([2]);
    // The next call starts a linger of its own.
    get("c");
    await clock.advance(4);
    await settle();
    expect(stream.written).toHaveLength(1);
    await clock.advance(1);
    await settle();
    expect(stream.written.map((batch) => batch.calls!.length)).toEqual([2, 1]);
    replica.close();
  });

  it("closed during a linger, sends nothing later and refuses new calls", async () => {
    const { clock, replica, opened } = started(5);
    const deadlineMs = clock.nowMs() + 5_000;
    const queued = replica.get({ bucket: "b", key: Buffer.from("a") }, deadlineMs);
    replica.close();
    expect(await queued).toMatchObject({ ok: false, code: grpc.status.CANCELLED });
    expect(clock.pendingTimers, "the linger and the call's deadline are cancelled").toBe(0);
    await clock.advance(10);
    await settle();
    expect(opened(), "no stream opened after the close").toBe(0);
    const late = await replica.get({ bucket: "b", key: Buffer.from("b") }, deadlineMs);
    expect(late).toMatchObject({ ok: false, code: grpc.status.CANCELLED });
    expect(opened()).toBe(0);
  });

  it("with a linger, sends a full message at once", async () => {
    const { stream, clock, replica } = started(20);
    const deadlineMs = clock.nowMs() + 5_000;
    for (let index = 0; index < 300; index++) {
      void replica.get({ bucket: "b", key: Buffer.from(`k${index}`) }, deadlineMs);
    }
    await settle();
    expect(
      stream.written.map((batch) => batch.calls!.length),
      "256 at once",
    ).toEqual([256]);
    await clock.advance(20);
    await settle();
    expect(stream.written.map((batch) => batch.calls!.length)).toEqual([256, 44]);
    replica.close();
  });

  it("fails each unanswered call at its own deadline, in any order, with one timer for all", async () => {
    const { stream, clock, replica } = started();
    const start = clock.nowMs();
    const outcomes = new Map<string, string>();
    const call = (key: string, inMs: number) =>
      void replica.get({ bucket: "b", key: Buffer.from(key) }, start + inMs).then((outcome) => {
        outcomes.set(key, outcome.ok ? "ok" : `${outcome.code} at ${clock.nowMs() - start}`);
      });
    call("late", 300);
    call("early", 100);
    call("answered", 50);
    call("middle", 200);
    call("same-as-early", 100);
    await clock.advance(0); // the batch goes out on the clock's defer
    expect(clock.pendingTimers, "one deadline timer, not one per call").toBe(1);
    const ids = stream.written.flatMap((batch) => batch.calls!.map((c) => Number(c.id)));
    stream.emit("data", { replies: [{ id: String(ids[2]), get: { found: false } }] });
    await settle();
    expect(outcomes.get("answered")).toBe("ok");
    await clock.advance(99);
    expect(outcomes.size, "nothing fails before its deadline").toBe(1);
    await clock.advance(1);
    await settle();
    const late = grpc.status.DEADLINE_EXCEEDED;
    expect(outcomes.get("early")).toBe(`${late} at 100`);
    expect(outcomes.get("same-as-early")).toBe(`${late} at 100`);
    expect(outcomes.has("middle")).toBe(false);
    await clock.advance(100);
    await settle();
    expect(outcomes.get("middle")).toBe(`${late} at 200`);
    await clock.advance(100);
    await settle();
    expect(outcomes.get("late")).toBe(`${late} at 300`);
    expect(clock.pendingTimers, "no timer left once nothing is pending").toBe(0);
    // A reply to a call already failed is dropped.
    stream.emit("data", { replies: [{ id: String(ids[0]), get: { found: true } }] });
    await settle();
    expect(outcomes.get("late")).toBe(`${late} at 300`);
    replica.close();
  });

  it("sets its timer earlier for a call with an earlier deadline than any pending", async () => {
    const { clock, replica } = started();
    const start = clock.nowMs();
    let failedAt: number | undefined;
    void replica.get({ bucket: "b", key: Buffer.from("a") }, start + 5_000);
    void replica.get({ bucket: "b", key: Buffer.from("b") }, start + 10).then((outcome) => {
      if (!outcome.ok) failedAt = clock.nowMs() - start;
    });
    await clock.advance(10);
    await settle();
    expect(failedAt).toBe(10);
    replica.close();
    expect(clock.pendingTimers, "close cancels the deadline timer").toBe(0);
  });

  it.each([-1, REPLICA_LINGER_MS_MAX + 1, Number.NaN])("refuses a linger of %d ms", (lingerMs) => {
    const client = { Stream: () => new FakeStream() } as unknown as ReplicaClient;
    expect(() => new ReplicaStreamClient(client, "n2", new ManualClock(), lingerMs)).toThrow(
      /replica linger .* ms outside 0\.\.20/,
    );
  });
});
