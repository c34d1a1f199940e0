// Anti-entropy counters of one node and the history of each partition's last exchange, as
// `dkv aae-status` shows them (AntiEntropy.Status).

import type { AaeCounters } from "../../proto/generated/dkv/v1/AaeCounters.js";
import type { AaePartitionStatus } from "../../proto/generated/dkv/v1/AaePartitionStatus.js";
import type { ExchangeReport } from "./exchange.js";

/** Node-wide counters; monotone. */
export interface Counters {
  exchanges: number;
  exchangesFailed: number;
  exchangesSkipped: number;
  differencesFound: number;
  keysRepaired: number;
  bytesSent: number;
  bytesReceived: number;
  tombstonesReaped: number;
  reapsDeclined: number;
  treeMaintenanceUs: number;
}

/** What this node knows of one partition's exchanges (those it opened). */
export interface PartitionStats {
  lastExchangeMs: number;
  lastPeer: string;
  keysRepairedLast: number;
  keysRepairedTotal: number;
  bytesLast: number;
  bytesTotal: number;
  exchanges: number;
}

/** The counters and per-partition history; byte counts are fed by the transports. */
export class AaeStats {
  readonly counters: Counters = {
    exchanges: 0,
    exchangesFailed: 0,
    exchangesSkipped: 0,
    differencesFound: 0,
    keysRepaired: 0,
    bytesSent: 0,
    bytesReceived: 0,
    tombstonesReaped: 0,
    reapsDeclined: 0,
    treeMaintenanceUs: 0,
  };
  readonly #partitions = new Map<number, PartitionStats>();

  /** Records a finished exchange at `nowMs` (wall clock). */
  recordExchange(report: ExchangeReport, nowMs: number): void {
    this.counters.exchanges += 1;
    this.counters.differencesFound += report.differences;
    this.counters.keysRepaired += report.repaired;
    for (const partition of report.partitions) {
      const tally = report.perPartition.get(partition);
      const stats = this.#stats(partition);
      const repaired = tally?.repaired ?? 0;
      const bytes = Math.round(tally?.bytes ?? 0);
      stats.lastExchangeMs = nowMs;
      stats.lastPeer = report.peer;
      stats.keysRepairedLast = repaired;
      stats.keysRepairedTotal += repaired;
      stats.bytesLast = bytes;
      stats.bytesTotal += bytes;
      stats.exchanges += 1;
    }
  }

  partition(partition: number): Readonly<PartitionStats> | undefined {
    return this.#partitions.get(partition);
  }

  #stats(partition: number): PartitionStats {
    let stats = this.#partitions.get(partition);
    if (stats === undefined) {
      stats = {
        lastExchangeMs: 0,
        lastPeer: "",
        keysRepairedLast: 0,
        keysRepairedTotal: 0,
        bytesLast: 0,
        bytesTotal: 0,
        exchanges: 0,
      };
      this.#partitions.set(partition, stats);
    }
    return stats;
  }

  /** The counters in wire form. */
  countersWire(): AaeCounters {
    const c = this.counters;
    return {
      exchanges: c.exchanges,
      exchanges_failed: c.exchangesFailed,
      exchanges_skipped: c.exchangesSkipped,
      differences_found: c.differencesFound,
      keys_repaired: c.keysRepaired,
      bytes_sent: c.bytesSent,
      bytes_received: c.bytesReceived,
      tombstones_reaped: c.tombstonesReaped,
      reaps_declined: c.reapsDeclined,
      tree_maintenance_us: Math.round(c.treeMaintenanceUs),
    };
  }

  /** One partition in wire form; `treeKeys` comes from the trees. */
  partitionWire(partition: number, treeKeys: number): AaePartitionStatus {
    const stats = this.#partitions.get(partition);
    return {
      partition,
      last_exchange_ms: stats?.lastExchangeMs ?? 0,
      last_peer: stats?.lastPeer ?? "",
      keys_repaired_last: stats?.keysRepairedLast ?? 0,
      keys_repaired_total: stats?.keysRepairedTotal ?? 0,
      bytes_last: stats?.bytesLast ?? 0,
      bytes_total: stats?.bytesTotal ?? 0,
      exchanges: stats?.exchanges ?? 0,
      tree_keys: treeKeys,
    };
  }
}
