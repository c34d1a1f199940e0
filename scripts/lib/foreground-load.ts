// A steady closed-loop foreground load for the benchmarks of background work (handoff, ownership
// transfer): gets and puts of its own keys at w=2/r=2, measured by phase (p50, p99, p99.9,
// failures), so the latency while the background work runs can be set against the same load
// without it.

import Table from "cli-table3";
import type { Histogram } from "hdr-histogram-js";
import type { DkvClient } from "../../coordinator/client.js";
import { newLatencyHistogram } from "../../cli/bench/latency-recorder.js";
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
}

/** A steady closed-loop foreground load (gets and puts of its own keys), measured by phase. */
export class Foreground {
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
    for (let index = 0; !this.#stopped; index++) {
      const key = `fg-${id}-${index % 500}`;
      const startedMs = performance.now();
      try {
        if (index % 2 === 0) await this.#client.put(key, this.#value, { w: 2 });
        else await this.#client.get(key, { r: 2 });
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
