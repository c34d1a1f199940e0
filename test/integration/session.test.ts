// Goal: KV.Session answers each item as its unary call would, on its own and by id: gets, puts
// and deletes mixed on one stream; a bad item (a quorum past n, a value past the limit, no
// operation, an id already in flight) fails alone beside items that succeed; siblings and their
// context travel through it; each item keeps its own deadline; a node runs at most
// sessionItemsInFlightMax items of a session at once; and the client coalesces concurrent
// calls onto one stream, opening it again after it failed.
// Method: three `dkv serve` processes (TLS, n=3) with sessionItemsInFlightMax=4 and a 64 KiB
// value limit; raw Session streams for items the client would not send; a DkvClient with
// `session: true`; n3 paused (SIGSTOP) for the deadlines, so that r=3 cannot be met (which also
// shows the client's calls of one turn sharing one session and its bound).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { TestCluster } from "./local-cluster-harness.js";
import { DkvClient } from "../../coordinator/client.js";
import { loadProto } from "../../proto/load-proto.js";
import type { KVClient } from "../../proto/generated/dkv/v1/KV.js";
import type { SessionItem } from "../../proto/generated/dkv/v1/SessionItem.js";
import type { SessionResult__Output } from "../../proto/generated/dkv/v1/SessionResult.js";
import type { SessionResponse__Output } from "../../proto/generated/dkv/v1/SessionResponse.js";
import type { SessionRequest } from "../../proto/generated/dkv/v1/SessionRequest.js";

const IN_FLIGHT_MAX = 4;
const VALUE_BYTES_MAX = 64 * 1024;

let cluster: TestCluster;
let kv: KVClient;

beforeAll(async () => {
  cluster = await TestCluster.start({
    nodes: 3,
    serveArgs: [
      `--limit=sessionItemsInFlightMax=${IN_FLIGHT_MAX}`,
      `--limit=valueBytesMax=${VALUE_BYTES_MAX}`,
    ],
  });
  const address = cluster.spec("n1").address;
  const secured = cluster.security.channel(address);
  kv = new (loadProto().grpcObject.dkv.v1.KV)(address, secured.credentials, secured.options);
}, 60_000);

afterAll(async () => {
  kv?.close();
  await cluster?.stop();
});

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));
const text = (value: Uint8Array): string => Buffer.from(value).toString("utf8");
const bytes = (value: string): Buffer => Buffer.from(value, "utf8");

/** A raw session on n1: send messages, wait for the results of given ids. */
class RawSession {
  readonly stream: grpc.ClientDuplexStream<SessionRequest, SessionResponse__Output>;
  /** Every result of each id, with when it came (an id refused as a duplicate has two). */
  readonly results = new Map<number, { result: SessionResult__Output; atMs: number }[]>();
  #waiters: (() => void)[] = [];

  constructor() {
    this.stream = kv.Session();
    this.stream.on("data", (response: SessionResponse__Output) => {
      for (const result of response.results) {
        const earlier = this.results.get(result.id) ?? [];
        this.results.set(result.id, [...earlier, { result, atMs: Date.now() }]);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.stream.on("error", () => undefined);
  }

  send(items: SessionItem[]): void {
    this.stream.write({ items });
  }

  async wait(ids: number[]): Promise<SessionResult__Output[]> {
    while (!ids.every((id) => this.results.has(id))) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return ids.map((id) => this.results.get(id)![0]!.result);
  }

  end(): void {
    this.stream.end();
  }
}

const put = (key: string, value: string | Buffer, extra: Record<string, unknown> = {}) => ({
  put: { key: bytes(key), value: typeof value === "string" ? bytes(value) : value, ...extra },
});
const get = (key: string, extra: Record<string, unknown> = {}) => ({
  get: { key: bytes(key), ...extra },
});

describe("KV.Session", () => {
  it("runs gets, puts and deletes mixed on one stream, answering each by id", async () => {
    const session = new RawSession();
    session.send([
      { id: 1, ...put("mixed-a", "alpha") },
      { id: 2, ...put("mixed-b", "beta") },
    ]);
    const [a, b] = await session.wait([1, 2]);
    expect(a?.status?.code).toBe(grpc.status.OK);
    expect(a?.reply).toBe("put");
    session.send([
      { id: 3, ...get("mixed-a") },
      { id: 4, delete: { key: bytes("mixed-b"), context: b!.put!.context } },
      { id: 5, ...get("never-written") },
      { id: 6, ...put("mixed-c", "gamma") },
    ]);
    const [readA, deleted, missing, putC] = await session.wait([3, 4, 5, 6]);
    expect(readA?.get?.siblings.map((s) => text(s.value))).toEqual(["alpha"]);
    expect(deleted?.status?.code).toBe(grpc.status.OK);
    expect(deleted?.reply).toBe("delete");
    // Not found is OK with no siblings, as a unary get says it.
    expect(missing?.status?.code).toBe(grpc.status.OK);
    expect(missing?.get?.siblings).toEqual([]);
    expect(putC?.status?.code).toBe(grpc.status.OK);
    session.send([
      { id: 7, ...get("mixed-b") },
      { id: 8, ...get("mixed-c") },
    ]);
    const [readB, readC] = await session.wait([7, 8]);
    expect(readB?.get?.siblings).toEqual([]);
    expect(readC?.get?.siblings.map((s) => text(s.value))).toEqual(["gamma"]);
    session.end();
  });

  it("answers a bad item with its own status beside items that succeed", async () => {
    const session = new RawSession();
    session.send([
      { id: 10, ...put("fine-1", "a") },
      { id: 11, ...put("bad-quorum", "x", { options: { w: { count: 5 } } }) },
      { id: 12, ...put("too-big", Buffer.alloc(VALUE_BYTES_MAX + 1, 1)) },
      { id: 13, timeout_ms: 1000 },
      { id: 14, ...get("fine-1", { options: { r: { count: 4 } } }) },
      { id: 15, ...put("fine-2", "b") },
    ]);
    const results = await session.wait([10, 11, 12, 13, 14, 15]);
    const codes = results.map((result) => result.status?.code);
    expect(codes).toEqual([
      grpc.status.OK,
      grpc.status.INVALID_ARGUMENT,
      grpc.status.RESOURCE_EXHAUSTED,
      grpc.status.INVALID_ARGUMENT,
      grpc.status.INVALID_ARGUMENT,
      grpc.status.OK,
    ]);
    expect(results[1]?.status?.message).toMatch(/w.*5.*3|w=5/);
    expect(results[2]?.status?.message).toMatch(/value is 65537 bytes, over the limit of 65536/);
    expect(results[3]?.status?.message).toMatch(/names no operation/);
    expect(results[4]?.status?.message).toMatch(/r/);
    // The stream goes on: the good items were stored, the bad ones not.
    session.send([
      { id: 16, ...get("fine-2") },
      { id: 17, ...get("bad-quorum") },
    ]);
    const [fine, bad] = await session.wait([16, 17]);
    expect(fine?.get?.siblings.map((s) => text(s.value))).toEqual(["b"]);
    expect(bad?.get?.siblings).toEqual([]);
    session.end();
  });

  it("refuses an item whose id is still in flight, and runs the first", async () => {
    const session = new RawSession();
    session.send([
      { id: 20, ...put("dup", "first") },
      { id: 20, ...put("dup", "second") },
    ]);
    while ((session.results.get(20)?.length ?? 0) < 2) await session.wait([20, 20]).then(tick);
    const answers = session.results.get(20)!.map((entry) => entry.result.status);
    expect(answers.map((status) => status?.code).sort()).toEqual([
      grpc.status.OK,
      grpc.status.INVALID_ARGUMENT,
    ]);
    expect(answers.find((status) => status?.code !== 0)?.message).toMatch(/already in flight/);
    session.send([{ id: 21, ...get("dup") }]);
    const [read] = await session.wait([21]);
    expect(read?.get?.siblings.map((s) => text(s.value))).toEqual(["first"]);
    session.end();
  });

  it("carries siblings and their context through the client's session", async () => {
    const client = new DkvClient([cluster.spec("n2").address], {
      security: cluster.security,
      session: true,
    });
    try {
      // Two writes without a context are concurrent: both stay, as siblings.
      await Promise.all([client.put("sib", "left"), client.put("sib", "right")]);
      const read = await client.get("sib");
      expect(read.siblings.map((s) => text(s.value)).sort()).toEqual(["left", "right"]);
      // A write with that context supersedes exactly those two.
      const merged = await client.put("sib", "merged", { context: read.context, returnBody: true });
      expect(merged.siblings.map((s) => text(s.value))).toEqual(["merged"]);
      const after = await client.get("sib");
      expect(after.siblings.map((s) => text(s.value))).toEqual(["merged"]);
      await client.delete("sib", { context: after.context });
      expect((await client.get("sib")).siblings).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("coalesces concurrent calls onto one stream, each failing or succeeding alone", async () => {
    const client = new DkvClient([cluster.spec("n1").address], {
      security: cluster.security,
      session: true,
    });
    try {
      const keys = Array.from({ length: 60 }, (_, index) => `co-${index}`);
      const puts = await Promise.all(keys.map((key) => client.put(key, `v ${key}`)));
      expect(puts.every((reply) => reply.vtag !== "")).toBe(true);
      const [reads, bad] = await Promise.all([
        Promise.all(keys.map((key) => client.get(key))),
        client.put("co-bad", "x", { w: 9 }).catch((error: grpc.ServiceError) => error),
      ]);
      expect(reads.map((read) => text(read.siblings[0]!.value))).toEqual(
        keys.map((key) => `v ${key}`),
      );
      expect((bad as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
      expect((bad as grpc.ServiceError).details).toMatch(/w/);
      expect((bad as grpc.ServiceError).metadata.get("dkv-error-origin")).toHaveLength(1);
      await Promise.all(
        reads.map((read, index) => client.delete(keys[index]!, { context: read.context })),
      );
      const gone = await Promise.all(keys.map((key) => client.get(key)));
      expect(gone.every((read) => read.siblings.length === 0)).toBe(true);
    } finally {
      client.close();
    }
  });

  it("keeps each item's deadline, and runs at most sessionItemsInFlightMax at once", async () => {
    // The client's calls of one turn share one session, hence its bound: its fast read waits
    // for a slot too, where a unary call would have been answered at once. Its stream is open
    // before n3 is paused, and both sessions run at once: n3 stays paused for one deadline only,
    // well before the failure detector could mark it down.
    const client = new DkvClient([cluster.spec("n1").address], {
      security: cluster.security,
      session: true,
    });
    await client.put("dl-fine", "a", { w: 3 });
    cluster.pause("n3");
    try {
      const session = new RawSession();
      const startedMs = Date.now();
      const all = { options: { r: { count: 3 } } };
      session.send([
        // Four items fill every slot until their 800 ms deadlines pass.
        ...[30, 31, 32, 33].map((id) => ({ id, timeout_ms: 800, ...get("slow", all) })),
        // Waits for a slot; its 300 ms pass meanwhile: refused unrun.
        { id: 34, timeout_ms: 300, ...get("queued") },
        // Waits for a slot, then runs at r=2 without n3.
        { id: 35, ...get("dl-fine") },
      ]);
      const slow = [1, 2, 3, 4].map(() =>
        client.get("slow", { r: 3, timeoutMs: 800 }).catch((error: grpc.ServiceError) => error),
      );
      const fast = client.get("dl-fine").then(() => Date.now() - startedMs);
      const results = await session.wait([30, 31, 32, 33, 34, 35]);
      const atMs = (id: number): number => session.results.get(id)![0]!.atMs - startedMs;
      // At its deadline the coordinator answers that the deadline passed, or, when the replica
      // call's own deadline came first, that n3 gave no reply by it: as a unary get would.
      const late = [grpc.status.DEADLINE_EXCEEDED, grpc.status.UNAVAILABLE];
      for (const result of results.slice(0, 4)) {
        expect(late, result.status?.message).toContain(result.status?.code);
        if (result.status?.code === grpc.status.UNAVAILABLE) {
          expect(result.status.message).toMatch(/no reply from n3 by the deadline/);
        }
      }
      expect(atMs(30)).toBeGreaterThanOrEqual(750);
      expect(results[4]?.status?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(results[4]?.status?.message).toMatch(/deadline already passed/);
      expect(results[4]?.status?.not_applied).toBe(true);
      // Neither queued item ran before a slot was free, at the slow items' deadline.
      expect(atMs(34)).toBeGreaterThanOrEqual(750);
      expect(results[5]?.status?.code).toBe(grpc.status.OK);
      expect(results[5]?.get?.siblings.map((s) => text(s.value))).toEqual(["a"]);
      expect(atMs(35)).toBeGreaterThanOrEqual(750);
      session.end();
      expect(await fast).toBeGreaterThanOrEqual(700);
      for (const error of await Promise.all(slow)) {
        expect(late).toContain((error as grpc.ServiceError).code);
      }
    } finally {
      cluster.resume("n3");
      client.close();
    }
  });

  it("opens the session again after its stream failed", async () => {
    const client = new DkvClient([cluster.spec("n3").address], {
      security: cluster.security,
      session: true,
    });
    try {
      await client.put("reopen", "before", { w: 3 });
      await cluster.stopNode("n3", "kill");
      const during = await client.get("reopen").catch((error: grpc.ServiceError) => error);
      expect((during as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
      await cluster.startNode("n3");
      let read: Awaited<ReturnType<DkvClient["get"]>> | undefined;
      for (let attempt = 0; attempt < 50 && read === undefined; attempt++) {
        read = await client.get("reopen", { r: 1 }).catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return undefined;
        });
      }
      expect(read).toBeDefined();
    } finally {
      client.close();
    }
  }, 30_000);
});
