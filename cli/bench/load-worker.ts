// One load worker: its own DkvClient (own gRPC channels, own CPU thread), a workload executor
// and a closed- or open-loop driver; it reports progress and, at the end, its histograms.

import { securityOf } from "../../node/security/client-security.js";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { DkvClient } from "../../coordinator/client.js";
import { runClosedLoop } from "./closed-loop.js";
import { runOpenLoop } from "./open-loop.js";
import { LatencyRecorder } from "./latency-recorder.js";
import { REAL_CLOCK, type LoadSchedule, type Operation } from "./load-schedule.js";
import { WorkloadExecutor, benchValue } from "./workload-executor.js";
import { WORKLOADS } from "./workload.js";
import type { FromWorker, WorkerConfig } from "./worker-messages.js";

/** A configured worker, connected and waiting for its start time. */
export class LoadWorker {
  readonly #config: WorkerConfig;
  /** One client; one per node when requests are spread (each with the others as fallbacks). */
  readonly #clients: DkvClient[];
  readonly #executor: WorkloadExecutor;
  /** One step of the loop: a single operation, or a batch of them (--batch). */
  readonly #operation: Operation;

  constructor(config: WorkerConfig) {
    this.#config = config;
    const security = securityOf(config.credentials);
    const session = config.session;
    const { addresses } = config;
    this.#clients =
      config.routing === "spread"
        ? addresses.map(
            (_, first) =>
              new DkvClient([...addresses.slice(first), ...addresses.slice(0, first)], {
                security,
                session,
              }),
          )
        : [new DkvClient(addresses, { routing: config.routing, security, session })];
    this.#executor = new WorkloadExecutor(this.#clients, {
      workload: WORKLOADS[config.workload],
      records: config.records,
      value: benchValue(config.valueBytes, config.seed),
      callOptions: config.callOptions,
      // Each worker draws its own key and operation sequence from the run's seed.
      seed: config.seed * 1000 + config.workerIndex + 1,
      workerIndex: config.workerIndex,
      batch: config.batch,
    });
    this.#operation = config.batch > 0 ? this.#executor.batchOperation : this.#executor.operation;
  }

  /** Opens the channels with one read each so that connecting is not measured. */
  async connect(): Promise<void> {
    await Promise.all(
      this.#clients.map((client) => client.get("user-connect", this.#config.callOptions)),
    );
  }

  /** Runs the load from the given wall-clock time and returns the result message. */
  async run(startAtEpochMs: number, send: (message: FromWorker) => void): Promise<FromWorker> {
    const config = this.#config;
    const startMs = REAL_CLOCK.now() + Math.max(0, startAtEpochMs - Date.now());
    const schedule: LoadSchedule = {
      startMs,
      warmupEndMs: startMs + config.warmupMs,
      endMs: startMs + config.durationMs,
    };
    const recorder = new LatencyRecorder();
    const sink = recorder.record.bind(recorder);
    const progress = setInterval(
      () => send({ type: "progress", completed: recorder.completed, failed: recorder.failed }),
      config.progressIntervalMs,
    );
    const delay = monitorEventLoopDelay({ resolution: 10 });
    await REAL_CLOCK.sleep(startMs - REAL_CLOCK.now());
    delay.enable();
    const cpuBefore = process.cpuUsage();
    const wallBeforeMs = REAL_CLOCK.now();
    let notIssued = 0;
    let startLagMaxMs = 0;
    try {
      if (config.loop.kind === "closed") {
        await runClosedLoop({
          clock: REAL_CLOCK,
          schedule,
          concurrency: config.loop.concurrency,
          operation: this.#operation,
          sink,
        });
      } else {
        const outcome = await runOpenLoop({
          clock: REAL_CLOCK,
          schedule,
          ...config.loop,
          operation: this.#operation,
          sink,
        });
        // A step never started is every operation it would have carried.
        notIssued = outcome.notIssuedMeasured * Math.max(1, config.batch);
        startLagMaxMs = outcome.startLagMaxMs;
        recorder.addErrors("NOT_ISSUED", notIssued);
      }
    } finally {
      clearInterval(progress);
      delay.disable();
    }
    const cpu = process.cpuUsage(cpuBefore);
    const recording = recorder.snapshot();
    return {
      type: "result",
      recording,
      completed: recorder.completed,
      measuredMs: Math.max(schedule.endMs, recording.lastDoneMs) - schedule.warmupEndMs,
      cpu: {
        userMicros: cpu.user,
        systemMicros: cpu.system,
        wallMs: REAL_CLOCK.now() - wallBeforeMs,
        eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
      },
      readStats: this.#executor.readStats,
      notIssued,
      startLagMaxMs,
    };
  }

  close(): void {
    for (const client of this.#clients) client.close();
  }
}
