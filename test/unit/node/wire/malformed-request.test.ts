// A request that does not decode is answered INVALID_ARGUMENT with what failed, not grpc-js's
// INTERNAL, and its handler never runs; a stream refused so still ends with its status (found
// by the protobuf fuzzer, issue 15).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { createBoundedServer } from "../../../../node/wire/bounded-server.js";
import { DEFAULT_LIMITS } from "../../../../node/core/limits.js";
import { SYSTEM_CLOCK } from "../../../../node/clock.js";
import { loadProto } from "../../../../proto/load-proto.js";

let server: grpc.Server;
let client: grpc.Client;
let handled = 0;
let port: number;

beforeAll(async () => {
  server = createBoundedServer(DEFAULT_LIMITS, {}, SYSTEM_CLOCK);
  server.addService(loadProto().grpcObject.dkv.v1.Admin.service, {
    Ping: (_call: unknown, done: grpc.sendUnaryData<object>) => {
      handled++;
      done(null, { node_id: "n1" });
    },
  });
  new ReflectionService(loadProto().definition).addToServer(server);
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(() => {
  client?.close();
  server?.forceShutdown();
});

function ping(bytes: Buffer): Promise<{ code: number; details: string }> {
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      "/dkv.v1.Admin/Ping",
      (value: Buffer) => value,
      (reply: Buffer) => reply,
      bytes,
      { deadline: Date.now() + 5000 },
      (error) => resolve({ code: error?.code ?? grpc.status.OK, details: error?.details ?? "" }),
    ),
  );
}

describe("a request message that does not decode", () => {
  it.each([
    ["an invalid wire type", [0x0f]],
    ["an unknown field whose length runs past the end", [0x12, 0x7f, 0x01]],
    ["an unclosed group", [0x0b]],
    ["a truncated varint", [0x08, 0xff]],
  ])("with %s is INVALID_ARGUMENT and never reaches the handler", async (_name, bytes) => {
    const before = handled;
    const result = await ping(Buffer.from(bytes));
    expect(result.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(result.details).toMatch(/^malformed request message: \S/);
    expect(handled).toBe(before);
  });

  it("leaves a well-formed request to its handler", async () => {
    const result = await ping(Buffer.from([0x0a, 0x01, 0x78]));
    expect(result.code).toBe(grpc.status.OK);
    expect(handled).toBeGreaterThan(0);
  });
});

/** A gRPC frame of `message`. */
function framed(message: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

describe("a stream whose later message does not decode", () => {
  it.each([1, 2, 3])(
    "ends INVALID_ARGUMENT after %i good messages, within its deadline",
    async (good) => {
      // ServerReflectionRequest { file_by_filename = 3: "x" }, then an invalid wire type. Two
      // good messages used to leave the call without a status: the reply to the second was
      // written after the status, and the stream never sent its trailers.
      const request = Buffer.from([0x1a, 0x01, 0x78]);
      const body = Buffer.concat([
        ...Array.from({ length: good }, () => framed(request)),
        framed(Buffer.from([0x0f])),
      ]);
      const session = http2.connect(`http://127.0.0.1:${port}`);
      try {
        const stream = session.request({
          ":method": "POST",
          ":path": "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
          "content-type": "application/grpc",
          te: "trailers",
          "grpc-timeout": "1000m",
        });
        const status = await new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve("no status"), 3000);
          const from = (headers: http2.IncomingHttpHeaders): void => {
            if (headers["grpc-status"] === undefined) return;
            clearTimeout(timer);
            resolve(String(headers["grpc-status"]));
          };
          stream.on("response", from);
          stream.on("trailers", from);
          stream.on("data", () => undefined);
          stream.end(body);
        });
        expect(status).toBe(String(grpc.status.INVALID_ARGUMENT));
      } finally {
        session.destroy();
      }
    },
  );
});
