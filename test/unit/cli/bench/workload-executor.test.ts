import { describe, expect, it } from "vitest";
import type { DkvClient } from "../../../../coordinator/client.js";
import { WorkloadExecutor } from "../../../../cli/bench/workload-executor.js";
import { WORKLOADS, type WorkloadName } from "../../../../cli/bench/workload.js";

/** A stand-in client that records which keys it was asked for, by operation. */
function recordingClient(): { client: DkvClient; calls: string[] } {
  const calls: string[] = [];
  const client = {
    get: (key: string) => {
      calls.push(`get ${key}`);
      return Promise.resolve({ siblings: [{}], context: new Uint8Array([1]) });
    },
    put: (key: string) => {
      calls.push(`put ${key}`);
      return Promise.resolve({ context: new Uint8Array([2]) });
    },
  } as unknown as DkvClient;
  return { client, calls };
}

function executor(workload: WorkloadName, clients: DkvClient[], workerIndex = 0) {
  return new WorkloadExecutor(clients, {
    workload: WORKLOADS[workload],
    records: 100,
    value: new Uint8Array(8),
    callOptions: {},
    seed: 7,
    workerIndex,
  });
}

describe("WorkloadExecutor", () => {
  it("spreads operations over its clients in turn, an rmw's two calls on one client", async () => {
    const nodes = [recordingClient(), recordingClient(), recordingClient()];
    const run = executor(
      "f",
      nodes.map((node) => node.client),
    );
    for (let operation = 0; operation < 30; operation++) await run.operation();
    const perClient = nodes.map((node) => node.calls.length);
    // 10 operations each; an rmw is a get and a put on the same client.
    for (const calls of perClient) expect(calls).toBeGreaterThanOrEqual(10);
    for (const node of nodes) {
      node.calls.forEach((call, index) => {
        if (call.startsWith("put")) expect(node.calls[index - 1]).toBe(`get ${call.slice(4)}`);
      });
    }
  });

  it("inserts keys never used before, distinct between workers, of the records' key width", async () => {
    const a = recordingClient();
    const b = recordingClient();
    const first = executor("insert", [a.client], 0);
    const second = executor("insert", [b.client], 1);
    for (let operation = 0; operation < 50; operation++) {
      expect((await first.operation()).status).toBe("OK");
      await second.operation();
    }
    const keys = [...a.calls, ...b.calls];
    expect(keys.every((call) => call.startsWith("put new"))).toBe(true);
    expect(new Set(keys).size).toBe(100);
    expect(keys.every((call) => call.length === "put user0000000001".length)).toBe(true);
  });
});
