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

  it.each([-1, REPLICA_LINGER_MS_MAX + 1, Number.NaN])("refuses a linger of %d ms", (lingerMs) => {
    const client = { Stream: () => new FakeStream() } as unknown as ReplicaClient;
    expect(() => new ReplicaStreamClient(client, "n2", new ManualClock(), lingerMs)).toThrow(
      /replica linger .* ms outside 0\.\.20/,
    );
  });
});
