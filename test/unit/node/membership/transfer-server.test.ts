// The Transfer.Fetch handler: a stream whose receiver stops reading is ended after
// unreadMsMax with DEADLINE_EXCEEDED, and the source's stream slot is freed; a receiver that
// reads keeps its stream however long the transfer takes.

import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { transferHandlers, type FetchCall } from "../../../../node/membership/transfer-server.js";
import type { TransferBatchOut } from "../../../../node/membership/transfer-source.js";
import { FROM_HEADER } from "../../../../node/peer-clients.js";
import { silentLogger } from "../../../../node/logger.js";
import { ManualClock, settle } from "../manual-clock.js";

const UNREAD_MS_MAX = 30_000;

/** A source of endless one-object batches that counts its open streams (its slots). */
function endlessSource() {
  const stats = { active: 0, sent: 0 };
  return {
    stats,
    async *batches(): AsyncGenerator<TransferBatchOut> {
      stats.active += 1;
      try {
        for (let index = 0; ; index++) {
          stats.sent += 1;
          yield {
            objects: [{ bucket: "b", key: Buffer.from(`k${index}`), object: Buffer.from("v") }],
            cursor: { leaf: 0, afterId: undefined },
            done: false,
            keysLeft: 1,
            throttledMs: 0,
          };
        }
      } finally {
        stats.active -= 1;
      }
    },
  };
}

/** A Fetch call from n2 whose receiver reads only while `reading` is true. */
function fetchCall() {
  const call = new EventEmitter() as EventEmitter & {
    reading: boolean;
    cancelled: boolean;
    metadata: grpc.Metadata;
    request: object;
    write(): boolean;
    end(): void;
  };
  call.reading = true;
  call.cancelled = false;
  call.metadata = new grpc.Metadata();
  call.metadata.set(FROM_HEADER, "n2");
  call.request = { layout_version: 2, partition: 3, leaf: 0, has_after: false };
  call.write = () => call.reading;
  call.end = () => call.emit("ended");
  const errors: Partial<grpc.ServiceError>[] = [];
  call.on("error", (error: Partial<grpc.ServiceError>) => errors.push(error));
  return { call, errors };
}

function serve(clock: ManualClock) {
  const source = endlessSource();
  const calls = new Set<FetchCall>();
  const handlers = transferHandlers({
    source: source as never,
    view: { refusal: () => undefined, isMember: () => true },
    logger: silentLogger(),
    calls,
    clock,
    unreadMsMax: UNREAD_MS_MAX,
  });
  return { source, calls, handlers };
}

describe("Transfer.Fetch", () => {
  it("ends a stream whose receiver stopped reading after unreadMsMax, freeing the slot", async () => {
    const clock = new ManualClock();
    const { source, calls, handlers } = serve(clock);
    const { call, errors } = fetchCall();
    call.reading = false;
    handlers.Fetch(call as unknown as FetchCall);
    await settle();
    expect(source.stats).toEqual({ active: 1, sent: 1 });
    await clock.advance(UNREAD_MS_MAX - 1);
    expect(errors).toEqual([]);
    expect(source.stats.active).toBe(1);
    await clock.advance(1);
    await settle();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(errors[0]!.details).toMatch(
      /receiver read nothing for 30000 ms \(transferUnreadMsMax\)/,
    );
    expect(source.stats.active).toBe(0);
    expect(calls.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it("keeps a stream whose receiver reads, however slowly, and starts each wait afresh", async () => {
    const clock = new ManualClock();
    const { source, handlers } = serve(clock);
    const { call, errors } = fetchCall();
    call.reading = false;
    handlers.Fetch(call as unknown as FetchCall);
    for (let round = 0; round < 5; round++) {
      await clock.advance(UNREAD_MS_MAX - 1_000);
      call.emit("drain");
      await settle();
    }
    expect(errors).toEqual([]);
    expect(source.stats).toEqual({ active: 1, sent: 6 });
    call.cancelled = true;
    call.emit("cancelled");
    call.emit("drain");
    await settle();
    expect(source.stats.active).toBe(0);
  });
});
