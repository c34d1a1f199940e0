import * as grpc from "@grpc/grpc-js";
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

  describe("batchOperation", () => {
    /** A stand-in client for batches: each getMany or putMany call's keys and contexts. */
    function batchClient(fail: (key: string) => boolean = () => false) {
      const calls: { op: string; keys: string[]; contexts: (number | undefined)[] }[] = [];
      let refuse = false;
      const outcome = (key: string, reply: object) =>
        fail(key)
          ? { ok: false, error: Object.assign(new Error("no"), { code: grpc.status.UNAVAILABLE }) }
          : { ok: true, reply };
      const client = {
        getMany: (keys: string[]) => {
          calls.push({ op: "get", keys, contexts: [] });
          if (refuse) return Promise.reject(Object.assign(new Error("down"), { code: 14 }));
          // Each read's context names its key's record number, to follow it to the put.
          return Promise.resolve(
            keys.map((key) =>
              outcome(key, { siblings: [{}], context: new Uint8Array([Number(key.slice(4))]) }),
            ),
          );
        },
        putMany: (items: { key: string; context?: Uint8Array }[]) => {
          calls.push({
            op: "put",
            keys: items.map((item) => item.key),
            contexts: items.map((item) => item.context?.[0]),
          });
          if (refuse) return Promise.reject(Object.assign(new Error("down"), { code: 14 }));
          return Promise.resolve(
            items.map((item) => outcome(item.key, { context: new Uint8Array([200]) })),
          );
        },
      } as unknown as DkvClient;
      return { client, calls, refuseAll: () => (refuse = true) };
    }

    function batchExecutor(workload: WorkloadName, client: DkvClient, batch: number) {
      return new WorkloadExecutor([client], {
        workload: WORKLOADS[workload],
        records: 100,
        value: new Uint8Array(8),
        callOptions: {},
        seed: 7,
        workerIndex: 0,
        batch,
      });
    }

    it("sends a batch's reads in one BatchGet and its updates in one BatchPut, one result each", async () => {
      const { client, calls } = batchClient();
      const results = await batchExecutor("a", client, 20).batchOperation();
      expect(results).toHaveLength(20);
      expect(results.every((result) => result.status === "OK")).toBe(true);
      const reads = results.filter((result) => result.kind === "read").length;
      expect(calls.map((call) => [call.op, call.keys.length])).toEqual([
        ["get", reads],
        ["put", 20 - reads],
      ]);
    });

    it("puts each read-modify-write with the context its own get saw, after the gets", async () => {
      const { client, calls } = batchClient();
      const results = await batchExecutor("f", client, 30).batchOperation();
      const rmw = results.filter((result) => result.kind === "rmw").length;
      expect(rmw).toBeGreaterThan(0);
      const [gets, puts] = [calls[0]!, calls[1]!];
      expect([gets.op, puts.op]).toEqual(["get", "put"]);
      expect(puts.keys).toHaveLength(rmw);
      // Every rmw key was read in the BatchGet and its put carries that read's context.
      puts.keys.forEach((key, item) => {
        expect(gets.keys).toContain(key);
        expect(puts.contexts[item]).toBe(Number(key.slice(4)));
      });
    });

    it("fails the items that failed, alone, and every item of a batch refused whole", async () => {
      const failing = batchClient((key) => key.endsWith("1"));
      const results = await batchExecutor("c", failing.client, 40).batchOperation();
      const keys = failing.calls[0]!.keys;
      results.forEach((result, item) =>
        expect(result.status).toBe(keys[item]!.endsWith("1") ? "UNAVAILABLE" : "OK"),
      );
      const statuses = new Set(results.map((result) => result.status));
      expect(statuses).toEqual(new Set(["OK", "UNAVAILABLE"]));
      const refused = batchClient();
      refused.refuseAll();
      const all = await batchExecutor("a", refused.client, 10).batchOperation();
      expect(all.map((result) => result.status)).toEqual(Array(10).fill("UNAVAILABLE"));
    });
  });
});
