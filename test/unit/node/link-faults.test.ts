// Goal: node-level link faults (Admin.SetLinkFaults) check their input, and the interceptor on a
// peer's clients really delays or drops what is sent there, and stops once healed.
// Method: the LinkFaults rules with an injected random source, and real calls through the
// interceptor to an in-process Admin server on a free loopback port.

import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LINK_DELAY_MS_MAX, LOSS_RETRANSMIT_MS, LinkFaults } from "../../../node/link-faults.js";
import { nodeId } from "../../../node/core/node-id.js";
import { SYSTEM_CLOCK } from "../../../node/clock.js";
import { loadProto } from "../../../proto/load-proto.js";
import type { AdminClient } from "../../../proto/generated/dkv/v1/Admin.js";

const n2 = nodeId("n2");
const isPeer = (node: string): boolean => node === "n2" || node === "n3";

describe("LinkFaults rules", () => {
  it("refuses unknown peers and out-of-range numbers, changing nothing", () => {
    const faults = new LinkFaults(SYSTEM_CLOCK);
    faults.set([{ peer: n2, delayMs: 10, jitterMs: 0, loss: 0 }], isPeer);
    expect(() =>
      faults.set([{ peer: nodeId("n9"), delayMs: 1, jitterMs: 0, loss: 0 }], isPeer),
    ).toThrow(/n9 is not a peer/);
    expect(() => faults.set([{ peer: n2, delayMs: -1, jitterMs: 0, loss: 0 }], isPeer)).toThrow(
      new RegExp(`delayMs must be an integer from 0 to ${LINK_DELAY_MS_MAX}, got -1`),
    );
    expect(() => faults.set([{ peer: n2, delayMs: 0, jitterMs: 0, loss: 1.5 }], isPeer)).toThrow(
      /loss must be from 0 to 1, got 1.5/,
    );
    expect(faults.list()).toEqual([{ peer: "n2", delayMs: 10, jitterMs: 0, loss: 0 }]);
  });

  it("loses with the given probability (retransmitted 1 s later) and adds delay and jitter", () => {
    const draws = [0.1, 0.5, 0.9, 0.5];
    const faults = new LinkFaults(SYSTEM_CLOCK, () => draws.shift() ?? 0);
    faults.set([{ peer: n2, delayMs: 100, jitterMs: 50, loss: 0.2 }], isPeer);
    expect(faults.delayOf(n2)).toBe(100 + 25 + LOSS_RETRANSMIT_MS); // 0.1 < 0.2: lost
    expect(faults.delayOf(n2)).toBe(125); // 0.9 ≥ 0.2: kept; 100 + 0.5 × 50
    expect(faults.delayOf(nodeId("n3"))).toBe(0);
    faults.set([], isPeer);
    expect(faults.delayOf(n2)).toBe(0);
  });
});

describe("the link fault interceptor", () => {
  let server: grpc.Server;
  let client: AdminClient;
  const faults = new LinkFaults(SYSTEM_CLOCK);

  beforeAll(async () => {
    const v1 = loadProto().grpcObject.dkv.v1;
    server = new grpc.Server();
    server.addService(v1.Admin.service, {
      Ping: (_call: unknown, callback: grpc.sendUnaryData<{ node_id: string }>) =>
        callback(null, { node_id: "n2" }),
    } as unknown as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    client = new v1.Admin(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      interceptors: [faults.interceptor(n2)],
    });
  });

  afterAll(() => {
    client?.close();
    server?.forceShutdown();
  });

  function ping(timeoutMs: number): Promise<{ ms: number; error?: grpc.ServiceError }> {
    const startedMs = performance.now();
    return new Promise((resolve) =>
      client.Ping({}, { deadline: Date.now() + timeoutMs }, (error) =>
        resolve({ ms: performance.now() - startedMs, ...(error ? { error } : {}) }),
      ),
    );
  }

  it("delays a call by at least the delay, retransmits a lost one late, and heals", async () => {
    expect((await ping(5000)).error).toBeUndefined();
    faults.set([{ peer: n2, delayMs: 300, jitterMs: 0, loss: 0 }], isPeer);
    const delayed = await ping(5000);
    expect(delayed.error).toBeUndefined();
    expect(delayed.ms).toBeGreaterThanOrEqual(295);
    faults.set([{ peer: n2, delayMs: 0, jitterMs: 0, loss: 1 }], isPeer);
    const lost = await ping(400);
    expect(lost.error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    const retransmitted = await ping(5000);
    expect(retransmitted.error).toBeUndefined();
    expect(retransmitted.ms).toBeGreaterThanOrEqual(LOSS_RETRANSMIT_MS - 5);
    faults.set([], isPeer);
    expect((await ping(5000)).error).toBeUndefined();
  });
});
