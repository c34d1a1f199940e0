// Goal: the client never sends a deadline the server cannot represent. A timeout of 2^31 ms or
// more wraps to a negative one inside grpc-js on the server and fails a put that may have
// landed; the client cuts every timeout to Limits.requestTimeoutMsMax and refuses nonsense.
// Method: a fake KV server that records the deadline each Put arrives with.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { loadProto } from "../../../proto/load-proto.js";
import { DkvClient, clientTimeoutMs } from "../../../coordinator/client.js";
import { DEFAULT_LIMITS } from "../../../node/core/limits.js";
import { KvError } from "../../../node/core/errors.js";

const DAY_MS = 24 * 3600 * 1000;

describe("clientTimeoutMs", () => {
  it.each([
    [undefined, DEFAULT_LIMITS.requestTimeoutMsDefault],
    [0, 0],
    [1234, 1234],
    [DEFAULT_LIMITS.requestTimeoutMsMax + 1, DEFAULT_LIMITS.requestTimeoutMsMax],
    [30 * DAY_MS, DEFAULT_LIMITS.requestTimeoutMsMax],
  ])("gives timeoutMs %s as %s ms", (given, expected) => {
    expect(clientTimeoutMs(given)).toBe(expected);
  });

  it.each([[-1], [Number.NaN], [Infinity], [-Infinity]])("refuses timeoutMs %s", (given) => {
    expect(() => clientTimeoutMs(given)).toThrow(/timeoutMs must be a finite number of ms >= 0/);
  });
});

describe("a client's deadline at a server", () => {
  let server: grpc.Server;
  let address: string;
  const deadlinesMs: number[] = [];

  beforeAll(async () => {
    const v1 = loadProto().grpcObject.dkv.v1;
    server = new grpc.Server();
    server.addService(v1.KV.service, {
      Put: (
        call: grpc.ServerUnaryCall<unknown, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        deadlinesMs.push(Number(call.getDeadline()));
        // A real put takes a moment; the wrapped deadline's timer fires within it.
        setTimeout(
          () => callback(null, { context: Buffer.from([1]), vtag: "v", siblings: [] }),
          20,
        );
      },
    } as unknown as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    address = `127.0.0.1:${port}`;
  });

  afterAll(() => {
    server?.forceShutdown();
  });

  it("a raw 30-day deadline wraps inside grpc-js: the server answers DEADLINE_EXCEEDED", async () => {
    // The failure the cut prevents; if grpc-js ever parses the header safely, this fails and
    // the cut is merely harmless.
    const v1 = loadProto().grpcObject.dkv.v1;
    const raw = new v1.KV(address, grpc.credentials.createInsecure());
    try {
      const code = await new Promise<number>((resolve) =>
        raw.Put({ key: Buffer.from("k") }, { deadline: Date.now() + 30 * DAY_MS }, (error) =>
          resolve(error?.code ?? grpc.status.OK),
        ),
      );
      expect(code).toBe(grpc.status.DEADLINE_EXCEEDED);
    } finally {
      raw.close();
    }
  });

  it("a put with a 30-day timeout lands and arrives with the longest server deadline", async () => {
    const client = new DkvClient([address]);
    try {
      const before = deadlinesMs.length;
      const startedMs = Date.now();
      const reply = await client.put("k", "v", { timeoutMs: 30 * DAY_MS });
      expect(reply.vtag).toBe("v");
      const deadlineMs = deadlinesMs[before] ?? 0;
      expect(deadlineMs).toBeGreaterThan(startedMs + DEFAULT_LIMITS.requestTimeoutMsMax - 5000);
      expect(deadlineMs).toBeLessThanOrEqual(Date.now() + DEFAULT_LIMITS.requestTimeoutMsMax);
    } finally {
      client.close();
    }
  });

  it("a negative or infinite timeout is refused before anything is sent", async () => {
    const client = new DkvClient([address]);
    try {
      const before = deadlinesMs.length;
      for (const timeoutMs of [-5, Infinity, Number.NaN]) {
        const error = await client.put("k", "v", { timeoutMs }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(KvError);
        expect((error as KvError).code).toBe("invalid-argument");
      }
      await expect(client.get("k", { timeoutMs: -1 })).rejects.toThrow(/timeoutMs/);
      expect(deadlinesMs.length).toBe(before);
    } finally {
      client.close();
    }
  });
});
