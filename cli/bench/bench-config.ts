// What one `dkv bench` run does, checked: workload, load shape, target, quorum. Built from the
// command's flags by cli/commands/bench.ts; everything here is validated once, up front.

import type { ClientCredentialsPem } from "../../node/security/client-security.js";
import type { CallOptions } from "../../coordinator/client.js";
import { DEFAULT_LIMITS } from "../../node/core/limits.js";
import { isValidPartitionCount } from "../../node/core/ring.js";
import { STORAGE_ENGINES } from "../../node/storage/storage-engines.js";
import { UsageError } from "../usage.js";
import { isWorkloadName, type WorkloadName } from "./workload.js";
import type { BenchRouting } from "./worker-messages.js";

/** Where the load goes. */
export type BenchTarget =
  | {
      /** A fresh local cluster started by the bench and removed afterwards. */
      readonly kind: "own";
      readonly nodes: number;
      readonly storage: string;
      readonly partitions: number;
      /** Further `dkv serve` flags for every node, e.g. ["--no-anti-entropy"]. */
      readonly serveArgs: readonly string[];
    }
  | {
      /** A running cluster; the pids (when known) let the bench read its CPU use. */
      readonly kind: "existing";
      readonly addresses: readonly string[];
      readonly pids: readonly number[];
      /** TLS credentials (absent: plaintext). */
      readonly credentials?: ClientCredentialsPem;
    };

/** A validated bench run. */
export interface BenchConfig {
  readonly workload: WorkloadName;
  readonly records: number;
  readonly valueBytes: number;
  /** Closed loop: concurrency; open loop: a rate and an in-flight bound. */
  readonly loop:
    | { readonly kind: "closed"; readonly concurrency: number }
    | { readonly kind: "open"; readonly ratePerSecond: number; readonly inFlightMax: number };
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly clientProcesses: number;
  readonly seed: number;
  readonly baseline: "none" | "echo";
  /** How the dkv client picks a node (worker-messages.ts BenchRouting). */
  readonly routing: BenchRouting;
  /** Calls coalesced onto KV.Session streams (DkvClientOptions.session). */
  readonly session: boolean;
  /**
   * Operations per KV.BatchGet / KV.BatchPut call, 0 for single calls: each step of the loop
   * (--concurrency, --rate) is then one batch, and the figures count its items.
   */
  readonly batch: number;
  readonly target: BenchTarget;
  /** Bucket, quorum and timeout of every request. */
  readonly callOptions: CallOptions;
  readonly preloadConcurrency: number;
}

/** The bench's flags as parsed (before validation). */
export interface BenchFlags {
  readonly workload: string;
  readonly records: number;
  readonly valueBytes: number;
  readonly concurrency: number;
  readonly rate: number | undefined;
  readonly inFlightMax: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly clientProcesses: number;
  readonly seed: number;
  readonly baseline: string;
  readonly routing: string;
  readonly session: boolean;
  readonly batch: number;
  readonly nodes: number;
  readonly storage: string;
  readonly partitions: number;
}

/** Bounds on the flags: generous, but every one is bounded. */
const LIMITS = {
  recordsMax: 100_000_000,
  valueBytesMax: 4 * 1024 * 1024,
  concurrencyMax: 10_000,
  rateMax: 1_000_000,
  durationSecondsMax: 24 * 3600,
  clientProcessesMax: 64,
  nodesMax: 64,
} as const;

/** Validates the flags; `target` and `callOptions` come from the shared client options. */
export function benchConfig(
  flags: BenchFlags,
  target: BenchTarget,
  callOptions: CallOptions,
): BenchConfig {
  if (!isWorkloadName(flags.workload)) {
    throw new UsageError(`--workload must be one of a, b, c, f, got '${flags.workload}'`);
  }
  integer("records", flags.records, 1, LIMITS.recordsMax);
  integer("value-bytes", flags.valueBytes, 0, LIMITS.valueBytesMax);
  integer("concurrency", flags.concurrency, 1, LIMITS.concurrencyMax);
  integer("in-flight-max", flags.inFlightMax, 1, LIMITS.concurrencyMax);
  integer("client-processes", flags.clientProcesses, 1, LIMITS.clientProcessesMax);
  integer("seed", flags.seed, 0, 0xffff_ffff);
  if (!(flags.durationSeconds > 0 && flags.durationSeconds <= LIMITS.durationSecondsMax)) {
    throw new UsageError(`--duration must be in (0, 86400] seconds, got ${flags.durationSeconds}`);
  }
  if (!(flags.warmupSeconds >= 0 && flags.warmupSeconds < flags.durationSeconds)) {
    throw new UsageError(
      `--warmup must be ≥ 0 and shorter than --duration (${flags.durationSeconds} s), got ${flags.warmupSeconds}`,
    );
  }
  if (flags.rate !== undefined && !(flags.rate > 0 && flags.rate <= LIMITS.rateMax)) {
    throw new UsageError(`--rate must be in (0, ${LIMITS.rateMax}] ops/s, got ${flags.rate}`);
  }
  if (flags.rate === undefined && flags.concurrency < flags.clientProcesses) {
    throw new UsageError(
      `--concurrency (${flags.concurrency}) must be at least --client-processes (${flags.clientProcesses})`,
    );
  }
  if (flags.baseline !== "none" && flags.baseline !== "echo") {
    throw new UsageError(`--baseline must be none or echo, got '${flags.baseline}'`);
  }
  if (flags.routing !== "primary" && flags.routing !== "given" && flags.routing !== "spread") {
    throw new UsageError(`--routing must be primary, given or spread, got '${flags.routing}'`);
  }
  integer("batch", flags.batch, 0, DEFAULT_LIMITS.batchItemsMax);
  if (flags.batch > 0 && flags.session) {
    throw new UsageError(
      "--batch sends KV.BatchGet and KV.BatchPut calls, --session coalesces single calls onto a stream: choose one",
    );
  }
  if (target.kind === "own") checkOwnCluster(target);
  return {
    workload: flags.workload,
    records: flags.records,
    valueBytes: flags.valueBytes,
    loop:
      flags.rate === undefined
        ? { kind: "closed", concurrency: flags.concurrency }
        : { kind: "open", ratePerSecond: flags.rate, inFlightMax: flags.inFlightMax },
    durationMs: Math.round(flags.durationSeconds * 1000),
    warmupMs: Math.round(flags.warmupSeconds * 1000),
    clientProcesses: flags.clientProcesses,
    seed: flags.seed,
    baseline: flags.baseline,
    routing: flags.routing,
    session: flags.session,
    batch: flags.batch,
    target,
    callOptions,
    preloadConcurrency: 32,
  };
}

function checkOwnCluster(target: { nodes: number; storage: string; partitions: number }): void {
  integer("nodes", target.nodes, 1, LIMITS.nodesMax);
  if (!(STORAGE_ENGINES as readonly string[]).includes(target.storage)) {
    throw new UsageError(
      `--storage must be one of ${STORAGE_ENGINES.join(", ")}, got '${target.storage}'`,
    );
  }
  if (!isValidPartitionCount(target.partitions)) {
    throw new UsageError(
      `--partitions must be a power of two from 1 to 4096, got ${target.partitions}`,
    );
  }
}

function integer(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}
