// The messages between `dkv bench` and its load worker processes (over the fork IPC channel):
// configure → ready → start → progress … → result (or failed).

import type { ClientCredentialsPem } from "../../node/security/client-security.js";
import type { CallOptions } from "../../coordinator/client.js";
import type { RecordingSnapshot } from "./latency-recorder.js";
import type { ReadStats } from "./workload-executor.js";
import type { WorkloadName } from "./workload.js";

/** How a worker generates load. */
export type LoopSpec =
  | { readonly kind: "closed"; readonly concurrency: number }
  | {
      readonly kind: "open";
      readonly ratePerSecond: number;
      readonly phaseOffsetMs: number;
      readonly inFlightMax: number;
      readonly drainMs: number;
    };

/**
 * How requests pick a node: "given", the addresses in order (each worker starts at a different
 * one); "primary", a primary of each key (the partition-aware client); "spread", every node in
 * turn, request by request, as a plain gRPC client in any language balances them.
 */
export type BenchRouting = "primary" | "given" | "spread";

/** Everything a worker needs to run its share of the load. */
export interface WorkerConfig {
  readonly workerIndex: number;
  readonly addresses: readonly string[];
  /** --routing for dkv, "given" for the echo server. */
  readonly routing: BenchRouting;
  /** Calls coalesced onto KV.Session streams. */
  readonly session: boolean;
  /** Operations per batch call (each step of the loop is one batch), 0 for single calls. */
  readonly batch: number;
  /** TLS credentials (absent: plaintext). */
  readonly credentials?: ClientCredentialsPem;
  readonly workload: WorkloadName;
  readonly records: number;
  readonly valueBytes: number;
  readonly seed: number;
  readonly callOptions: CallOptions;
  readonly loop: LoopSpec;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly progressIntervalMs: number;
}

/** CPU the worker process used while it generated load. */
export interface WorkerCpu {
  readonly userMicros: number;
  readonly systemMicros: number;
  readonly wallMs: number;
  /** p99 of the event loop's delay (perf_hooks.monitorEventLoopDelay), a sign of saturation. */
  readonly eventLoopDelayP99Ms: number;
}

export type ToWorker =
  | { readonly type: "configure"; readonly config: WorkerConfig }
  | { readonly type: "start"; readonly startAtEpochMs: number };

export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "progress"; readonly completed: number; readonly failed: number }
  | {
      readonly type: "result";
      readonly recording: RecordingSnapshot;
      /** Measured operations, successful and failed. */
      readonly completed: number;
      /** lastDoneMs − warmup end, in ms: the measured span of this worker. */
      readonly measuredMs: number;
      readonly cpu: WorkerCpu;
      readonly readStats: ReadStats;
      readonly notIssued: number;
      readonly startLagMaxMs: number;
    }
  | { readonly type: "failed"; readonly message: string };
