// The closed-loop driver: K loops, each starting its next operation when the previous one is
// done. It finds the maximum throughput; its latencies hide queueing (coordinated omission),
// so latency targets are checked with the open loop.

import type { Clock, LoadSchedule, Operation, OperationSink } from "./load-schedule.js";

/** Options of runClosedLoop. */
export interface ClosedLoopOptions {
  readonly clock: Clock;
  readonly schedule: LoadSchedule;
  /** Operations in flight at all times. */
  readonly concurrency: number;
  readonly operation: Operation;
  readonly sink: OperationSink;
}

/**
 * Runs `concurrency` loops from schedule.startMs until schedule.endMs. An operation is measured
 * when it started at or after the warmup; the ones in flight at the end are awaited and kept.
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<void> {
  const { clock, schedule } = options;
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new Error(`concurrency must be a positive integer, got ${options.concurrency}`);
  }
  const waitMs = schedule.startMs - clock.now();
  if (waitMs > 0) await clock.sleep(waitMs);
  const loop = async (): Promise<void> => {
    while (clock.now() < schedule.endMs) {
      const startMs = clock.now();
      const result = await options.operation();
      const doneMs = clock.now();
      if (startMs >= schedule.warmupEndMs) options.sink(result, doneMs - startMs, doneMs);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
}
