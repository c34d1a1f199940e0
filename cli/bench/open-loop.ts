// The open-loop driver: operations start on a fixed schedule (rate R) whether or not earlier
// ones are done, as independent users would send them. Latency counts from the INTENDED start,
// so time an operation spent waiting behind a slow one (for a free slot, or for a late event
// loop) is charged to it: the correction for coordinated omission (Tene, "How NOT to Measure
// Latency", 2015; wrk2).

import type { Clock, LoadSchedule, Operation, OperationSink } from "./load-schedule.js";

/** Options of runOpenLoop. */
export interface OpenLoopOptions {
  readonly clock: Clock;
  readonly schedule: LoadSchedule;
  /** Intended operations per second. */
  readonly ratePerSecond: number;
  /** Delay of the first intended start after schedule.startMs (spreads several processes). */
  readonly phaseOffsetMs: number;
  /** Operations in flight at most; a due operation waits for a slot, and the wait counts. */
  readonly inFlightMax: number;
  /** How long after schedule.endMs a backlog of due operations may still be started. */
  readonly drainMs: number;
  readonly operation: Operation;
  readonly sink: OperationSink;
  /** Ends the run before schedule.endMs once it returns true (a run of unknown length). */
  readonly stopped?: () => boolean;
}

/** What the open loop could not do as scheduled. */
export interface OpenLoopOutcome {
  /** Operations started. */
  readonly issued: number;
  /** Measured operations (due after the warmup) never started because the drain time ran out. */
  readonly notIssuedMeasured: number;
  /** The longest delay between an operation's intended and actual start. */
  readonly startLagMaxMs: number;
}

/** The intended start of operation `index`: operations are evenly spaced at the rate. */
export function intendedStartMs(firstMs: number, index: number, ratePerSecond: number): number {
  return firstMs + (index * 1000) / ratePerSecond;
}

/**
 * Starts the operations intended before schedule.endMs, each as soon as it is due and a slot
 * is free, then waits for all of them. Operations due after the warmup are measured.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopOutcome> {
  const { clock, schedule } = options;
  if (!(options.ratePerSecond > 0))
    throw new Error(`rate must be > 0, got ${options.ratePerSecond}`);
  if (!Number.isInteger(options.inFlightMax) || options.inFlightMax < 1) {
    throw new Error(`inFlightMax must be a positive integer, got ${options.inFlightMax}`);
  }
  const firstMs = schedule.startMs + options.phaseOffsetMs;
  const total = Math.max(0, Math.ceil(((schedule.endMs - firstMs) * options.ratePerSecond) / 1000));
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let failure: unknown;
  let startLagMaxMs = 0;
  const settle = (): void => {
    inFlight -= 1;
    const waiter = wake;
    wake = undefined;
    waiter?.();
  };
  let index = 0;
  while (index < total && failure === undefined && options.stopped?.() !== true) {
    const dueMs = intendedStartMs(firstMs, index, options.ratePerSecond);
    const nowMs = clock.now();
    if (dueMs > nowMs) {
      await clock.sleep(dueMs - nowMs);
      continue;
    }
    if (nowMs > schedule.endMs + options.drainMs) break;
    if (inFlight >= options.inFlightMax) {
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    index += 1;
    inFlight += 1;
    startLagMaxMs = Math.max(startLagMaxMs, nowMs - dueMs);
    const measured = dueMs >= schedule.warmupEndMs;
    options.operation().then(
      (result) => {
        const doneMs = clock.now();
        if (measured) options.sink(result, doneMs - dueMs, doneMs);
        settle();
      },
      (error: unknown) => {
        failure = error;
        settle();
      },
    );
  }
  while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  if (failure !== undefined) throw failure;
  let notIssuedMeasured = 0;
  const end = options.stopped?.() === true ? index : total;
  for (let rest = index; rest < end; rest++) {
    if (intendedStartMs(firstMs, rest, options.ratePerSecond) >= schedule.warmupEndMs) {
      notIssuedMeasured += 1;
    }
  }
  return { issued: index, notIssuedMeasured, startLagMaxMs };
}
