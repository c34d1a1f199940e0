// The time frame of one load run and the contract between the load drivers (closed and open
// loop) and what they drive: an operation to start, a sink for what it measured, a clock.

import type { OperationKind } from "./workload.js";

/** When a run starts, when its warmup ends and when it stops issuing, on the clock's scale. */
export interface LoadSchedule {
  readonly startMs: number;
  readonly warmupEndMs: number;
  readonly endMs: number;
}

/** What one operation did: its kind and "OK" or the gRPC status name of its failure. */
export interface OperationResult {
  readonly kind: OperationKind;
  readonly status: string;
}

/**
 * What one step of a driver did: one operation's result, or one result per item of a batch
 * (`dkv bench --batch`), every item taking its batch's latency.
 */
export type StepResult = OperationResult | readonly OperationResult[];

/** Starts one operation (or one batch of them); resolves when it is done and never rejects. */
export type Operation = () => Promise<StepResult>;

/**
 * Receives every measured step (started at or after the warmup): its result, its latency and
 * when it finished. The open loop measures latency from the intended start.
 */
export type OperationSink = (result: StepResult, latencyMs: number, doneMs: number) => void;

/** Time as the drivers see it, so that tests can run them on a virtual clock. */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Resolves after at least `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

/** The process's monotonic clock (performance.now) and timers. */
export const REAL_CLOCK: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
