// Steady foreground loads for the benchmarks of background work (handoff, ownership transfer),
// measured by phase (p50, p99, p99.9, failures), so the latency while the background work runs
// can be set against the same load without it: a closed loop (gets and puts of its own keys at
// w=2/r=2, as fast as they return) and an open loop (YCSB at a fixed rate over loaded records,
// latency from each operation's intended start, through cli/bench's own drivers).

import Table from "cli-table3";
import type { Histogram } from "hdr-histogram-js";
import type { DkvClient } from "../../coordinator/client.js";
import { newLatencyHistogram } from "../../cli/bench/latency-recorder.js";
import { runOpenLoop, type OpenLoopOutcome } from "../../cli/bench/open-loop.js";
import { REAL_CLOCK, type OperationResult } from "../../cli/bench/load-schedule.js";
import { WorkloadExecutor } from "../../cli/bench/workload-executor.js";
import { WORKLOADS } from "../../cli/bench/workload.js";
import { sleep } from "./fault-cluster.js";

/** One measured phase of the foreground load. */
export interface Phase {
  readonly name: string;
  readonly seconds: number;
  readonly operations: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** Per second of the phase (open loop only): where in it the slow operations fell. */
  readonly series?: readonly SecondOfPhase[];
  /** Wall-clock start (open loop only), to match the series with the nodes' logs. */
  readonly startedAt?: string;
}

/** One second of a phase, by the operations' intended starts. */
export interface SecondOfPhase {
  readonly second: number;
  readonly operations: number;
  /** Operations over the slow threshold (OpenForeground's slowMs), by kind ("read", ...). */
  readonly slow: Readonly<Record<string, number>>;
  readonly maxMs: number;
}

/** A steady closed-loop foreground load (gets and puts of its own keys), measured by phase. */
export class Foreground implements PhasedLoad {
  readonly #client: DkvClient;
  readonly #value: Buffer;
  #histogram: Histogram = newLatencyHistogram();
  #failed = 0;
  #startedMs = performance.now();
  /** Failed operations by message, over the whole run. */
  readonly errors = new Map<string, number>();
  #stopped = false;
  readonly #workers: Promise<void>[];

  constructor(client: DkvClient, value: Buffer, concurrency: number) {
    this.#client = client;
    this.#value = value;
    this.#workers = Array.from({ length: concurrency }, (_, id) => this.#worker(id));
  }

  async #worker(id: number): Promise<void> {
    const contexts = new Map<string, Uint8Array>();
    for (let index = 0; !this.#stopped; index++) {
      const key = `fg-${id}-${index % 500}`;
      const startedMs = performance.now();
      try {
        // A put carries the context last seen for its key, as a client that means to replace
        // the value does: a blind put adds a sibling, and the objects grew all run long.
        if (index % 2 === 0) {
          const context = contexts.get(key);
          const reply = await this.#client.put(key, this.#value, {
            w: 2,
            ...(context === undefined ? {} : { context }),
          });
          contexts.set(key, reply.context);
        } else {
          contexts.set(key, (await this.#client.get(key, { r: 2 })).context);
        }
        this.#histogram.recordValue(
          Math.max(1, Math.round((performance.now() - startedMs) * 1000)),
        );
      } catch (error) {
        this.#failed += 1;
        const message = (error instanceof Error ? error.message : String(error)).slice(0, 160);
        this.errors.set(message, (this.errors.get(message) ?? 0) + 1);
      }
    }
  }

  /** Starts a fresh measurement (a phase). */
  begin(): void {
    this.#histogram = newLatencyHistogram();
    this.#failed = 0;
    this.#startedMs = performance.now();
  }

  /** Ends the phase begun last and names it. */
  end(name: string): Phase {
    const histogram = this.#histogram;
    const seconds = (performance.now() - this.#startedMs) / 1000;
    const phase: Phase = {
      name,
      seconds,
      operations: histogram.totalCount,
      failed: this.#failed,
      p50Ms: histogram.getValueAtPercentile(50) / 1000,
      p99Ms: histogram.getValueAtPercentile(99) / 1000,
      p999Ms: histogram.getValueAtPercentile(99.9) / 1000,
    };
    this.#histogram = newLatencyHistogram();
    return phase;
  }

  async run(name: string, ms: number): Promise<Phase> {
    this.begin();
    await sleep(ms);
    return this.end(name);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#workers);
  }
}

/** The measured phases of a load: begun and ended in turn; end resolves once they are known. */
export interface PhasedLoad {
  readonly errors: Map<string, number>;
  begin(): void;
  end(name: string): Phase | Promise<Phase>;
  stop(): Promise<void>;
}

/** One phase of the open loop: operations whose intended start is in [startMs, endMs). */
interface OpenPhase {
  readonly startedAt: string;
  readonly startMs: number;
  endMs: number;
  readonly histogram: Histogram;
  failed: number;
  readonly seconds: { operations: number; slow: Record<string, number>; maxMs: number }[];
}

/**
 * YCSB-A (50% reads, 50% updates, scrambled Zipfian over records 0 … records − 1, r and w the
 * bucket's) at a fixed rate, whether or not earlier operations are done (cli/bench/open-loop.ts):
 * an operation is charged from its intended start, so a stall shows as the latency of every
 * operation due during it instead of hiding in a slower closed loop.
 */
export class OpenForeground implements PhasedLoad {
  readonly errors = new Map<string, number>();
  readonly #phases: OpenPhase[] = [];
  readonly #inFlight = new Set<Promise<OperationResult>>();
  #stopped = false;
  readonly #run: Promise<OpenLoopOutcome>;

  /** Latency over which an operation counts as slow in the per-second series. */
  readonly #slowMs: number;

  constructor(
    client: DkvClient,
    options: { records: number; value: Uint8Array; rate: number; slowMs?: number },
  ) {
    this.#slowMs = options.slowMs ?? 20;
    const executor = new WorkloadExecutor([client], {
      workload: WORKLOADS.a,
      records: options.records,
      value: options.value,
      callOptions: {},
      seed: 14,
      workerIndex: 0,
    });
    const startMs = performance.now();
    this.#run = runOpenLoop({
      clock: REAL_CLOCK,
      schedule: { startMs, warmupEndMs: startMs, endMs: startMs + 24 * 3_600_000 },
      ratePerSecond: options.rate,
      phaseOffsetMs: 0,
      inFlightMax: 256,
      drainMs: 0,
      stopped: () => this.#stopped,
      operation: () => {
        const operation = executor.operation();
        this.#inFlight.add(operation);
        void operation.then(() => this.#inFlight.delete(operation));
        return operation;
      },
      sink: (result, latencyMs, doneMs) => {
        // executor.operation runs one operation per step, never a batch.
        if (!("kind" in result)) throw new Error("the foreground load got a batch's results");
        const dueMs = doneMs - latencyMs;
        const phase = this.#phases.find((one) => one.startMs <= dueMs && dueMs < one.endMs);
        if (phase === undefined) return;
        const index = Math.floor((dueMs - phase.startMs) / 1000);
        const second = (phase.seconds[index] ??= { operations: 0, slow: {}, maxMs: 0 });
        second.operations += 1;
        second.maxMs = Math.max(second.maxMs, latencyMs);
        if (latencyMs > this.#slowMs) {
          second.slow[result.kind] = (second.slow[result.kind] ?? 0) + 1;
        }
        if (result.status === "OK") {
          phase.histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
        } else {
          phase.failed += 1;
          this.errors.set(result.status, (this.errors.get(result.status) ?? 0) + 1);
        }
      },
    });
  }

  begin(): void {
    const startMs = performance.now();
    this.#phases.push({
      startedAt: new Date().toISOString(),
      startMs,
      endMs: Infinity,
      histogram: newLatencyHistogram(),
      failed: 0,
      seconds: [],
    });
  }

  /** Ends the phase begun last, once the operations started in it are done. */
  async end(name: string): Promise<Phase> {
    const phase = this.#phases.at(-1);
    if (phase === undefined || phase.endMs !== Infinity) throw new Error("no phase begun");
    phase.endMs = performance.now();
    await Promise.all([...this.#inFlight]);
    const { histogram } = phase;
    return {
      name,
      seconds: (phase.endMs - phase.startMs) / 1000,
      operations: histogram.totalCount + phase.failed,
      failed: phase.failed,
      p50Ms: histogram.getValueAtPercentile(50) / 1000,
      p99Ms: histogram.getValueAtPercentile(99) / 1000,
      p999Ms: histogram.getValueAtPercentile(99.9) / 1000,
      startedAt: phase.startedAt,
      series: Array.from(phase.seconds, (second, index) => ({
        second: index,
        operations: second?.operations ?? 0,
        slow: second?.slow ?? {},
        maxMs: Math.round(second?.maxMs ?? 0),
      })),
    };
  }

  async run(name: string, ms: number): Promise<Phase> {
    this.begin();
    await sleep(ms);
    return this.end(name);
  }

  /** Stops issuing and resolves with the driver's outcome (its longest start lag). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.outcome = await this.#run;
  }

  /** The driver's outcome, once stopped. */
  outcome: OpenLoopOutcome | undefined;
}

/** The phases as the benchmarks print them: a row each, with ops, failures and latencies. */
export function phaseTable(phases: readonly Phase[]): string {
  const table = new Table({
    head: ["foreground phase", "s", "ops", "failed", "p50 ms", "p99 ms", "p99.9 ms"],
  });
  for (const phase of phases) {
    table.push([
      phase.name,
      phase.seconds.toFixed(1),
      phase.operations,
      phase.failed,
      phase.p50Ms.toFixed(2),
      phase.p99Ms.toFixed(2),
      phase.p999Ms.toFixed(2),
    ]);
  }
  return table.toString();
}
