// The load phase of a benchmark: writes every record once (YCSB's "load"), `concurrency`
// puts at a time, with progress. Not measured.

import type { CallOptions, DkvClient } from "../../coordinator/client.js";
import { startProgress } from "./bench-progress.js";
import { keyName } from "./workload.js";
import { statusName } from "./workload-executor.js";

/** What the preload did. */
export interface PreloadOutcome {
  readonly records: number;
  readonly seconds: number;
  /** Puts refused because the key was already there (only with ifNoneMatch). */
  readonly alreadyPresent: number;
  /** Failed puts by gRPC status name. */
  readonly failed: Readonly<Record<string, number>>;
}

/** Options of preloadRecords. */
export interface PreloadOptions {
  readonly label: string;
  readonly client: DkvClient;
  readonly records: number;
  readonly value: Uint8Array;
  readonly callOptions: CallOptions;
  readonly concurrency: number;
  /** Keep what a running cluster already holds instead of adding a sibling to it. */
  readonly ifNoneMatch: boolean;
}

/** Writes records 0 … records − 1. */
export async function preloadRecords(options: PreloadOptions): Promise<PreloadOutcome> {
  const startedMs = performance.now();
  const progress = startProgress(options.label, options.records, "records");
  const failed: Record<string, number> = {};
  let alreadyPresent = 0;
  let next = 0;
  let done = 0;
  const putOptions = { ...options.callOptions, ifNoneMatch: options.ifNoneMatch };
  const writer = async (): Promise<void> => {
    while (next < options.records) {
      const index = next;
      next += 1;
      try {
        await options.client.put(keyName(index), options.value, putOptions);
      } catch (error) {
        const status = statusName(error);
        if (status === "FAILED_PRECONDITION" && options.ifNoneMatch) alreadyPresent += 1;
        else failed[status] = (failed[status] ?? 0) + 1;
      }
      done += 1;
      const seconds = (performance.now() - startedMs) / 1000;
      progress.update(done, `${Math.round(done / Math.max(seconds, 0.001))} puts/s`);
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency, options.records) }, writer),
    );
  } finally {
    progress.stop();
  }
  return {
    records: options.records,
    seconds: (performance.now() - startedMs) / 1000,
    alreadyPresent,
    failed,
  };
}
