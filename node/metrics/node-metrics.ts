// The Prometheus registry of one node: process and Node.js metrics, the KV request metrics
// (kv-metrics.ts), and gauges and counters read at scrape time from the counters the node keeps
// anyway (hints, handoff, read repair, anti-entropy, failure detector, storage), plus the fsync
// latency histogram fed by the log engine's write queue. Nothing here runs between scrapes.

import { registerSecurityMetrics, type SecurityMetricSources } from "./security-metrics.js";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { NodeId } from "../core/node-id.js";
import type { HintTotals } from "../hints/hint-store.js";
import type { DeliveryStats } from "../hints/hint-delivery.js";
import type { Counters as AaeCounters } from "../anti-entropy/aae-stats.js";
import { replicaCodecFallbacks } from "../wire/replica-stream-codec.js";
import { replicaStreamTotals } from "../replica-stream-client.js";
import type { PeerReport } from "../membership/member-view.js";
import type { StorageStats } from "../storage/storage.js";
import { observeFsync } from "../storage/write-queue.js";
import { LATENCY_BUCKETS_SECONDS } from "./kv-metrics.js";
import { registerMembershipMetrics, type MembershipMetricSources } from "./membership-metrics.js";

/** A storage engine whose stats() are reported, under `store`. */
export interface StoreSource {
  /** Label value: "data" for the node's objects, "hints" for the hint store's engine. */
  readonly store: string;
  readonly storage: { stats(): StorageStats };
}

/** Where the scrape-time metrics read from; each is a live object the node already keeps. */
export interface NodeMetricSources {
  readonly self: NodeId;
  /** Every member of the cluster, this node included. */
  readonly members: () => readonly NodeId[];
  readonly peerReport: (node: NodeId) => PeerReport;
  readonly hints: { totals(target: NodeId): HintTotals; targets(): NodeId[] };
  readonly delivery: { readonly stats: Readonly<DeliveryStats> };
  readonly antiEntropy: { readonly counters: Readonly<AaeCounters> };
  /** The coordinator's read-repair counters. */
  readonly readRepairs: { readonly readRepairs: number; readonly readRepairsSkipped: number };
  readonly storages: readonly StoreSource[];
  /** Layout and transfers (membership-metrics.ts). */
  readonly membership?: MembershipMetricSources;
  /** TLS and refused calls (security-metrics.ts). */
  readonly security?: SecurityMetricSources;
}

/** A node's registry; close() detaches the fsync observer. */
export interface NodeMetrics {
  readonly registry: Registry;
  close(): void;
}

/** Builds the registry of one node (never the global default registry). */
export function createNodeMetrics(sources: NodeMetricSources): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: sources.self });
  collectDefaultMetrics({ register: registry });
  registerRepairMetrics(registry, sources);
  registerAaeMetrics(registry, sources.antiEntropy.counters);
  registerPeerMetrics(registry, sources);
  registerStorageMetrics(registry, sources.storages);
  labelledCounterOf(
    registry,
    "dkv_replica_codec_fallbacks_total",
    "Replica stream batches encoded by protobufjs reflection because the fast encoder refused them (0 unless something is wrong)",
    "message",
    () => Object.entries(replicaCodecFallbacks()),
  );
  // Calls per message and records per append or fsync say how well the node batches: high
  // under load, one or two at a light fixed rate, where each message and fsync is a wake-up.
  counterOf(
    registry,
    "dkv_replica_stream_messages_total",
    "Messages this node sent on its replica streams (each carries one or more calls)",
    () => replicaStreamTotals().messages,
  );
  counterOf(
    registry,
    "dkv_replica_stream_calls_total",
    "Gets and puts this node sent to other replicas over its replica streams",
    () => replicaStreamTotals().calls,
  );
  if (sources.membership !== undefined) registerMembershipMetrics(registry, sources.membership);
  if (sources.security !== undefined) registerSecurityMetrics(registry, sources.security);
  const fsync = new Histogram({
    name: "dkv_storage_fsync_duration_seconds",
    help: "Duration of each fsync of the log engine's group commit (data and hint stores)",
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  observeFsync((durationMs) => fsync.observe(durationMs / 1000));
  return {
    registry,
    close: () => observeFsync(undefined),
  };
}

function registerRepairMetrics(registry: Registry, sources: NodeMetricSources): void {
  const repairs = sources.readRepairs;
  counterOf(
    registry,
    "dkv_read_repairs_total",
    "Read repairs sent to stale or missing primaries",
    () => repairs.readRepairs,
  );
  counterOf(
    registry,
    "dkv_read_repairs_skipped_total",
    "Read repairs not sent because readRepairsInFlightMax were in flight",
    () => repairs.readRepairsSkipped,
  );
  const pending = (read: (totals: HintTotals) => number) => (): [string, number][] =>
    hintTargets(sources).map((target) => [target, read(sources.hints.totals(target))]);
  gaugeOf(
    registry,
    "dkv_hints_pending",
    "Hints this node holds for a primary",
    "target",
    pending((t) => t.count),
  );
  gaugeOf(
    registry,
    "dkv_hint_bytes_pending",
    "Object bytes of the hints this node holds for a primary",
    "target",
    pending((t) => t.bytes),
  );
  const delivery = sources.delivery.stats;
  counterOf(
    registry,
    "dkv_hints_delivered_total",
    "Hints handed off and acknowledged by their primary",
    () => delivery.delivered,
  );
  counterOf(
    registry,
    "dkv_hint_bytes_delivered_total",
    "Object bytes handed off to primaries",
    () => delivery.deliveredBytes,
  );
  counterOf(
    registry,
    "dkv_hint_deliveries_failed_total",
    "Hint delivery runs interrupted (resumed at the next check)",
    () => delivery.failures,
  );
}

function registerAaeMetrics(registry: Registry, counters: Readonly<AaeCounters>): void {
  const rows: [string, string, () => number][] = [
    [
      "dkv_aae_exchanges_total",
      "Anti-entropy exchanges this node opened and finished",
      () => counters.exchanges,
    ],
    [
      "dkv_aae_exchanges_failed_total",
      "Anti-entropy exchanges that failed",
      () => counters.exchangesFailed,
    ],
    [
      "dkv_aae_exchanges_skipped_total",
      "Anti-entropy exchanges skipped (trees not built, peer down, nothing shared)",
      () => counters.exchangesSkipped,
    ],
    [
      "dkv_aae_differences_total",
      "Keys found different by anti-entropy exchanges",
      () => counters.differencesFound,
    ],
    [
      "dkv_aae_keys_repaired_total",
      "Keys repaired by anti-entropy exchanges",
      () => counters.keysRepaired,
    ],
    ["dkv_aae_tombstones_reaped_total", "Tombstones reaped", () => counters.tombstonesReaped],
    [
      "dkv_aae_tree_maintenance_seconds_total",
      "Time spent updating Merkle trees on writes",
      () => counters.treeMaintenanceUs / 1e6,
    ],
  ];
  for (const [name, help, read] of rows) counterOf(registry, name, help, read);
  labelledCounterOf(
    registry,
    "dkv_aae_bytes_total",
    "Anti-entropy bytes on the wire",
    "direction",
    () => [
      ["sent", counters.bytesSent],
      ["received", counters.bytesReceived],
    ],
  );
}

function registerPeerMetrics(registry: Registry, sources: NodeMetricSources): void {
  const peers = (): NodeId[] => sources.members().filter((node) => node !== sources.self);
  const each = (read: (report: PeerReport) => number) => (): [string, number][] =>
    peers().map((peer) => [peer, read(sources.peerReport(peer))]);
  gaugeOf(
    registry,
    "dkv_peer_up",
    "1 when the failure detector believes the peer up, else 0",
    "peer",
    each((r) => (r.state === "up" ? 1 : 0)),
  );
  gaugeOf(
    registry,
    "dkv_peer_phi",
    "Phi-accrual suspicion of the peer (down at the threshold, default 8)",
    "peer",
    each((r) => r.phi),
  );
  gaugeOf(
    registry,
    "dkv_peer_round_trip_seconds",
    "Round trip of the last answered ping to the peer (0 before the first)",
    "peer",
    each((r) => r.roundTripMs / 1000),
  );
}

function registerStorageMetrics(registry: Registry, stores: readonly StoreSource[]): void {
  const each = (read: (stats: StorageStats) => number | undefined) => (): [string, number][] => {
    const rows: [string, number][] = [];
    for (const { store, storage } of stores) {
      const value = read(storage.stats());
      if (value !== undefined) rows.push([store, value]);
    }
    return rows;
  };
  const detail = (name: string) => (stats: StorageStats) => detailsOf(stats)?.[name];
  gaugeOf(
    registry,
    "dkv_storage_keys",
    "Keys stored by the engine",
    "store",
    each((s) => s.keys),
  );
  gaugeOf(
    registry,
    "dkv_storage_corrupt_records",
    "Records found corrupt (repaired from replicas)",
    "store",
    each((s) => s.corruptRecords),
  );
  gaugeOf(
    registry,
    "dkv_storage_segments",
    "Segment files of the log engine",
    "store",
    each(detail("segments")),
  );
  for (const [name, help, field] of [
    [
      "dkv_storage_appends_total",
      "Appends of the log engine's group commit (one write each)",
      "batches",
    ],
    ["dkv_storage_fsyncs_total", "Fsyncs of the log engine's group commit", "syncs"],
    ["dkv_storage_records_written_total", "Records the log engine appended", "recordsWritten"],
  ] as const) {
    labelledCounterOf(registry, name, help, "store", each(detail(field)));
  }
  gaugeOf(
    registry,
    "dkv_storage_bytes",
    "Bytes in the log engine's segments (active and frozen)",
    "store",
    each((s) => {
      const details = detailsOf(s);
      return details === undefined
        ? undefined
        : (details["activeBytes"] ?? 0) + (details["frozenBytes"] ?? 0);
    }),
  );
  gaugeOf(
    registry,
    "dkv_storage_dead_bytes",
    "Bytes of superseded records in frozen segments, reclaimed by merge",
    "store",
    each(detail("frozenDeadBytes")),
  );
  labelledCounterOf(
    registry,
    "dkv_storage_merges_total",
    "Merges of the log engine",
    "store",
    each(detail("merges")),
  );
  labelledCounterOf(
    registry,
    "dkv_storage_object_cache_hits_total",
    "Reads the log engine served from its object cache",
    "store",
    each(detail("objectCacheHits")),
  );
  labelledCounterOf(
    registry,
    "dkv_storage_object_cache_misses_total",
    "Reads the log engine's object cache did not hold (read from the file)",
    "store",
    each(detail("objectCacheMisses")),
  );
}

/** The log engine's detail counters (other engines have none). */
function detailsOf(stats: StorageStats): Readonly<Record<string, number>> | undefined {
  const details = (stats as { details?: unknown }).details;
  return typeof details === "object" && details !== null
    ? (details as Record<string, number>)
    : undefined;
}

/** Every other member, plus any node hints are still held for. */
function hintTargets(sources: NodeMetricSources): NodeId[] {
  const targets = new Set(sources.members().filter((node) => node !== sources.self));
  for (const target of sources.hints.targets()) targets.add(target);
  return [...targets];
}

/** A counter whose value is read from a monotone counter the node keeps. */
function counterOf(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function labelledCounterOf(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  read: () => [string, number][],
): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, count] of read()) this.labels(value).inc(count);
    },
  });
}

function gaugeOf(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  read: () => [string, number][],
): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      // Labels of members that left or stores that closed must not linger.
      this.reset();
      for (const [value, reading] of read()) this.labels(value).set(reading);
    },
  });
}
