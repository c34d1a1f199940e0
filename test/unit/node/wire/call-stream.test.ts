// Guards the one grpc-js private field dkv reads: if a grpc-js upgrade moves the base server
// call's http2 stream, this fails (and so does every node at its first call, by design).

import http2 from "node:http2";
import { describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { callStreamOf } from "../../../../node/wire/call-stream.js";

describe("callStreamOf", () => {
  it("finds the http2 stream of grpc-js's base server call", async () => {
    let seen: http2.ServerHttp2Stream | undefined;
    let hadSession = false;
    const server = new grpc.Server({
      interceptors: [
        (_method, call) => {
          seen = callStreamOf(call);
          hadSession = seen.session !== undefined;
          return new grpc.ServerInterceptingCall(call);
        },
      ],
    });
    server.addService(
      {
        Echo: {
          path: "/test.Echo/Echo",
          requestStream: false,
          responseStream: false,
          requestSerialize: (value: Buffer) => value,
          requestDeserialize: (bytes: Buffer) => bytes,
          responseSerialize: (value: Buffer) => value,
          responseDeserialize: (bytes: Buffer) => bytes,
        },
      },
      {
        Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) =>
          done(null, call.request),
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const reply = await new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest(
          "/test.Echo/Echo",
          (value: Buffer) => value,
          (bytes: Buffer) => bytes,
          Buffer.from("ping"),
          (error, value) => (error ? reject(error) : resolve(value as Buffer)),
        ),
      );
      expect(reply.toString()).toBe("ping");
      expect(hadSession).toBe(true);
      expect(typeof seen?.close).toBe("function");
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it("fails loudly on a call without the field", () => {
    expect(() => callStreamOf({} as grpc.ServerInterceptingCallInterface)).toThrow(
      /grpc-js internals changed/,
    );
  });
});
