// A status whose details quote a lone surrogate from the request reaches the client with U+FFFD
// in its place; before, grpc-js's encodeURI threw and the node process died (found by the
// protobuf fuzzer, issue 15).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { createBoundedServer } from "../../../../node/wire/bounded-server.js";
import { wellFormed } from "../../../../node/wire/status-details.js";
import { DEFAULT_LIMITS } from "../../../../node/core/limits.js";
import { SYSTEM_CLOCK } from "../../../../node/clock.js";
import { loadProto } from "../../../../proto/load-proto.js";

let server: grpc.Server;
let client: grpc.Client;

beforeAll(async () => {
  server = createBoundedServer(DEFAULT_LIMITS, {}, SYSTEM_CLOCK);
  server.addService(loadProto().grpcObject.dkv.v1.Admin.service, {
    Ping: (
      call: grpc.ServerUnaryCall<{ metadata_digest: string }, object>,
      done: grpc.sendUnaryData<object>,
    ) =>
      done({
        code: grpc.status.INVALID_ARGUMENT,
        details: `bad digest ${JSON.parse(call.request.metadata_digest) as string}`,
      }),
  });
  const port = await new Promise<number>((resolve, reject) =>
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

describe("status details", () => {
  it("replace lone surrogates only", () => {
    expect(wellFormed("a\ud800b\udc00c")).toBe("a\ufffdb\ufffdc");
    expect(wellFormed("pair \ud83d\ude00 kept")).toBe("pair \ud83d\ude00 kept");
  });

  it("quoting a lone surrogate of the request reach the client, and the server lives", async () => {
    // PingRequest { metadata_digest = 1: "\ud800" } as JSON text (as Membership.Exchange's
    // metadata_json is): parsed, a lone high surrogate.
    const text = Buffer.from(JSON.stringify("\ud800"));
    const request = Buffer.concat([Buffer.from([0x0a, text.length]), text]);
    for (let attempt = 0; attempt < 2; attempt++) {
      const result = await new Promise<{ code: number; details: string }>((resolve) =>
        client.makeUnaryRequest(
          "/dkv.v1.Admin/Ping",
          (value: Buffer) => value,
          (reply: Buffer) => reply,
          request,
          { deadline: Date.now() + 5000 },
          (error) => resolve({ code: error?.code ?? 0, details: error?.details ?? "" }),
        ),
      );
      expect(result.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(result.details).toBe("bad digest \ufffd");
    }
  });
});
