// A reply its caller leaves unread is reset after Limits.replyUnreadMsMax, within a quarter of it
// more (one timer checks every pending reply), and what it held is given back; a reply read in
// time is not touched. The admission interceptor on a real socket, plaintext.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { createBoundedServer } from "../../../../node/wire/bounded-server.js";
import type { AdmissionEvent } from "../../../../node/wire/admission-interceptor.js";
import { DEFAULT_LIMITS } from "../../../../node/core/limits.js";
import { SYSTEM_CLOCK } from "../../../../node/clock.js";
import { loadProto } from "../../../../proto/load-proto.js";
import { connectRaw, frame, startRawCall } from "../../../../scripts/raw-grpc.js";

const UNREAD_MS = 400;
/** A reply far past the client's 1 KiB flow control window below. */
const REPLY_CHARS = 256 * 1024;

let server: grpc.Server;
let port: number;
const events: AdmissionEvent[] = [];

beforeAll(async () => {
  server = createBoundedServer(
    { ...DEFAULT_LIMITS, replyUnreadMsMax: UNREAD_MS },
    {},
    SYSTEM_CLOCK,
    { observer: { event: (event) => events.push(event) } },
  );
  server.addService(loadProto().grpcObject.dkv.v1.Admin.service, {
    Ping: (_call: unknown, done: grpc.sendUnaryData<object>) =>
      done(null, { node_id: "n".repeat(REPLY_CHARS) }),
  });
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
});

afterAll(() => {
  server?.forceShutdown();
});

/** A connection whose streams take 1 KiB before their reader must read. */
async function smallWindow(): Promise<http2.ClientHttp2Session> {
  const session = await connectRaw(`127.0.0.1:${port}`);
  session.settings({ initialWindowSize: 1024 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  return session;
}

describe("a reply left unread", () => {
  it("is reset after replyUnreadMsMax, and a reply read in time is not", async () => {
    const session = await smallWindow();
    try {
      const started = performance.now();
      const unread = startRawCall(session, "/dkv.v1.Admin/Ping", frame(Buffer.alloc(0)), {
        read: false,
      });
      const read = startRawCall(session, "/dkv.v1.Admin/Ping", frame(Buffer.alloc(0)), {
        read: true,
      });
      expect((await read.status).code).toBe(grpc.status.OK);
      const outcome = await unread.status;
      const elapsed = performance.now() - started;
      expect(outcome).toEqual({ code: -1, details: `reset (${http2.constants.NGHTTP2_CANCEL})` });
      expect(elapsed).toBeGreaterThanOrEqual(UNREAD_MS - 5);
      expect(events).toEqual(["reply-unread-reset"]);
      // What it held is given back: the connection is served again.
      const after = startRawCall(session, "/dkv.v1.Admin/Ping", frame(Buffer.alloc(0)));
      expect((await after.status).code).toBe(grpc.status.OK);
      expect(events).toEqual(["reply-unread-reset"]);
    } finally {
      session.destroy();
    }
  });
});
