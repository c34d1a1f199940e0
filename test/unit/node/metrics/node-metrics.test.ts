// Goal: a node's registry exposes the request metrics and reads hints, handoff, read repair,
// anti-entropy, failure-detector and storage figures from the live objects at scrape time,
// with the node as a label, and never touches the global default registry.

import { afterEach, describe, expect, it } from "vitest";
import { register as globalRegistry } from "prom-client";
import type { NodeId } from "../../../../node/core/node-id.js";
import type { PeerReport } from "../../../../node/membership/member-view.js";
import type { DvvSet } from "../../../../node/core/dvv.js";
import { createNodeMetrics, type NodeMetrics } from "../../../../node/metrics/node-metrics.js";
import { KvMetrics } from "../../../../node/metrics/kv-metrics.js";
import { ManualClock } from "../manual-clock.js";
import { capturingLogger, sampleValue } from "./metrics-test-helpers.js";

const n1 = "n1" as NodeId;
const n2 = "n2" as NodeId;
const n3 = "n3" as NodeId;

function fixture() {
  const counters = {
    exchanges: 4,
    exchangesFailed: 1,
    exchangesSkipped: 2,
    differencesFound: 7,
    keysRepaired: 6,
    bytesSent: 1000,
    bytesReceived: 2000,
    tombstonesReaped: 3,
    reapsDeclined: 0,
    treeMaintenanceUs: 2_500_000,
  };
  const pending = new Map<NodeId, { count: number; bytes: number }>([
    [n3, { count: 5, bytes: 50 }],
  ]);
  const repairs = { readRepairs: 0, readRepairsSkipped: 0 };
  const delivery = { stats: { delivered: 9, deliveredBytes: 900, copiesRemoved: 1, failures: 0 } };
  const reports: Record<string, PeerReport> = {
    n2: { node: n2, state: "up", phi: 0.4, reason: "", roundTripMs: 2, silenceMs: 100 },
    n3: { node: n3, state: "down", phi: 9.5, reason: "phi", roundTripMs: 0, silenceMs: 4000 },
  };
  const logStats = {
    engine: "log",
    keys: 12,
    corruptRecords: 1,
    details: {
      segments: 3,
      activeBytes: 100,
      frozenBytes: 400,
      frozenDeadBytes: 150,
      merges: 2,
      batches: 7,
      syncs: 4,
      recordsWritten: 30,
    },
  };
  const metrics = createNodeMetrics({
    self: n1,
    members: () => [n1, n2, n3],
    peerReport: (node) => reports[node] as PeerReport,
    hints: {
      totals: (target) => pending.get(target) ?? { count: 0, bytes: 0 },
      targets: () => [...pending.keys()],
    },
    delivery,
    antiEntropy: { counters },
    readRepairs: repairs,
    storages: [
      { store: "data", storage: { stats: () => logStats } },
      {
        store: "hints",
        storage: { stats: () => ({ engine: "memory", keys: 5, corruptRecords: 0 }) },
      },
    ],
  });
  return { metrics, counters, pending, repairs, delivery };
}

let open: NodeMetrics | undefined;
afterEach(() => {
  open?.close();
  open = undefined;
});

describe("createNodeMetrics()", () => {
  it("reads every source at scrape time", async () => {
    const { metrics, counters, pending, repairs } = fixture();
    open = metrics;
    repairs.readRepairs = 3;
    counters.keysRepaired = 8;
    pending.set(n2, { count: 1, bytes: 10 });
    const text = await metrics.registry.metrics();
    const table: [string, Record<string, string>, number][] = [
      ["dkv_read_repairs_total", {}, 3],
      ["dkv_hints_pending", { target: "n3" }, 5],
      ["dkv_hint_bytes_pending", { target: "n3" }, 50],
      ["dkv_hints_pending", { target: "n2" }, 1],
      ["dkv_hints_delivered_total", {}, 9],
      ["dkv_aae_exchanges_total", {}, 4],
      ["dkv_aae_differences_total", {}, 7],
      ["dkv_aae_keys_repaired_total", {}, 8],
      ["dkv_aae_bytes_total", { direction: "received" }, 2000],
      ["dkv_aae_tree_maintenance_seconds_total", {}, 2.5],
      ["dkv_peer_up", { peer: "n2" }, 1],
      ["dkv_peer_up", { peer: "n3" }, 0],
      ["dkv_peer_phi", { peer: "n3" }, 9.5],
      ["dkv_peer_round_trip_seconds", { peer: "n2" }, 0.002],
      ["dkv_storage_keys", { store: "data" }, 12],
      ["dkv_storage_keys", { store: "hints" }, 5],
      ["dkv_storage_corrupt_records", { store: "data" }, 1],
      ["dkv_storage_segments", { store: "data" }, 3],
      ["dkv_storage_bytes", { store: "data" }, 500],
      ["dkv_storage_dead_bytes", { store: "data" }, 150],
      ["dkv_storage_merges_total", { store: "data" }, 2],
      ["dkv_storage_appends_total", { store: "data" }, 7],
      ["dkv_storage_fsyncs_total", { store: "data" }, 4],
      ["dkv_storage_records_written_total", { store: "data" }, 30],
    ];
    for (const [name, labels, value] of table) {
      expect(
        sampleValue(text, name, { node: "n1", ...labels }),
        `${name} ${JSON.stringify(labels)}`,
      ).toBe(value);
    }
    // The memory engine has no segments: no sample rather than a made-up zero.
    expect(sampleValue(text, "dkv_storage_segments", { store: "hints" })).toBeUndefined();
    expect(sampleValue(text, "dkv_storage_fsyncs_total", { store: "hints" })).toBeUndefined();
    // No series for the node itself in per-peer metrics.
    expect(sampleValue(text, "dkv_peer_up", { peer: "n1" })).toBeUndefined();
    expect(text).toMatch(/^process_cpu_user_seconds_total\{node="n1"\} /m);
    expect(await globalRegistry.metrics()).not.toMatch(/dkv_/);
  });

  it("counts KV requests and their latency by operation and outcome", async () => {
    const { metrics } = fixture();
    open = metrics;
    const kv = new KvMetrics({
      logger: capturingLogger().logger,
      registry: metrics.registry,
      clock: new ManualClock(),
    });
    kv.request("get", "ok", 0.3);
    kv.request("get", "ok", 12);
    kv.request("get", "not_found", 0.2);
    kv.request("put", "unavailable", 4000);
    const object = {
      siblings: [{ value: new Uint8Array(100), contentType: "text/plain", metadata: {} }],
    } as unknown as DvvSet;
    kv.object("get", object);
    const text = await metrics.registry.metrics();
    const get = { op: "get", outcome: "ok" };
    expect(sampleValue(text, "dkv_kv_requests_total", get)).toBe(2);
    expect(sampleValue(text, "dkv_kv_requests_total", { op: "get", outcome: "not_found" })).toBe(1);
    expect(sampleValue(text, "dkv_kv_requests_total", { op: "delete", outcome: "ok" })).toBe(0);
    expect(
      sampleValue(text, "dkv_kv_request_duration_seconds_bucket", { ...get, le: "0.0005" }),
    ).toBe(1);
    expect(
      sampleValue(text, "dkv_kv_request_duration_seconds_bucket", { ...get, le: "0.025" }),
    ).toBe(2);
    expect(
      sampleValue(text, "dkv_kv_request_duration_seconds_count", {
        op: "put",
        outcome: "unavailable",
      }),
    ).toBe(1);
    expect(sampleValue(text, "dkv_kv_get_siblings_bucket", { le: "1" })).toBe(1);
    expect(sampleValue(text, "dkv_kv_object_bytes_sum", { op: "get" })).toBe(110);
    expect(kv.recent().requests).toBe(4);
  });

  it("rate-limits the shedding line and reports what it held back", async () => {
    const clock = new ManualClock();
    const { logger, lines } = capturingLogger();
    const kv = new KvMetrics({ logger, clock });
    for (let index = 0; index < 5; index++) kv.shed(1024, 1024);
    expect(lines.map((line) => [line["msg"], line["shedSinceLastLine"]])).toEqual([
      ["overloaded: shedding requests", 0],
    ]);
    await clock.advance(10_000);
    kv.flushLogs();
    expect(lines.at(-1)).toMatchObject({
      msg: "overloaded: requests were shed",
      shedSinceLastLine: 4,
    });
  });
});
