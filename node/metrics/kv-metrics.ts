// What the public KV service reports about its requests (the KvObserver port that
// coordinator/kv-server.ts calls), and its implementation: the recent-latency window behind
// `dkv status` p50/p99, Prometheus request counters and histograms when metrics are on, and a
// rate-limited log line when requests are shed. Nothing here logs per request.

import type { Clock } from "../clock.js";
import { Counter, Histogram, type Registry } from "prom-client";
import type { DvvSet } from "../core/dvv.js";
import { objectBytesEstimate } from "../core/object-bytes.js";
import type { Logger } from "../logger.js";
import { LatencyWindow, type LatencySnapshot } from "./latency-window.js";
import { LogThrottle } from "./log-throttle.js";
import {
  KV_OPERATIONS,
  REQUEST_OUTCOMES,
  type KvOperation,
  type RequestOutcome,
} from "./request-outcome.js";

/** What the KV service tells its observer; each call is cheap and never logs by itself. */
export interface KvObserver {
  /** A request finished, answered or failed, `durationMs` after it arrived. */
  request(op: KvOperation, outcome: RequestOutcome, durationMs: number): void;
  /** The object a coordinated get found or a coordinated put produced. */
  object(op: KvOperation, object: DvvSet): void;
  /** A request was refused because `inFlight` requests were running (the limit). */
  shed(inFlight: number, limit: number): void;
}

/** Latency buckets in seconds: sub-millisecond resolution up to the 5 s default deadline. */
export const LATENCY_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
/** Siblings per get: 1 is the norm, 25 the warning and 100 the limit (DESIGN §7). */
export const SIBLING_BUCKETS = [1, 2, 3, 5, 10, 25, 50, 100];
/** Object sizes in bytes, 64 B to the 16 MiB limit (4 MiB is the warning). */
export const OBJECT_BYTES_BUCKETS = [
  64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
];

/** How often a line about shed requests is written at most. */
const SHED_LOG_WINDOW_MS = 10_000;

interface RequestSeries {
  readonly count: { inc(): void };
  readonly duration: { observe(value: number): void };
}

/** The KV service's observer for one node. */
export class KvMetrics implements KvObserver {
  readonly #window: LatencyWindow;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #shedLog = new LogThrottle(SHED_LOG_WINDOW_MS);
  readonly #prom: PromKv | undefined;

  /**
   * @param options.registry where the Prometheus metrics go; without one only the recent
   *   window is kept (metrics off)
   * @param options.clock the recent window's and the shed log's time (its wall clock)
   */
  constructor(options: {
    readonly logger: Logger;
    readonly registry?: Registry | undefined;
    readonly clock: Clock;
  }) {
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#window = new LatencyWindow(this.#clock.nowMs());
    this.#prom = options.registry === undefined ? undefined : new PromKv(options.registry);
  }

  request(op: KvOperation, outcome: RequestOutcome, durationMs: number): void {
    this.#window.record(durationMs, this.#clock.nowMs());
    const series = this.#prom?.series(op, outcome);
    if (series === undefined) return;
    series.count.inc();
    series.duration.observe(durationMs / 1000);
  }

  object(op: KvOperation, object: DvvSet): void {
    const prom = this.#prom;
    if (prom === undefined) return;
    if (op === "get") prom.siblings.observe(object.siblings.length);
    prom.objectBytesOf(op).observe(objectBytesEstimate(object));
  }

  shed(inFlight: number, limit: number): void {
    const decision = this.#shedLog.admit(this.#clock.nowMs());
    if (decision.log) {
      this.#logger.warn(
        { inFlight, limit, shedSinceLastLine: decision.suppressed },
        "overloaded: shedding requests",
      );
    }
  }

  /** Requests of the last minute with their p50/p99, for Admin.Status. */
  recent(): LatencySnapshot {
    return this.#window.snapshot(this.#clock.nowMs());
  }

  /** Writes the line for shed requests held back by the rate limit, once it is due. */
  flushLogs(): void {
    const suppressed = this.#shedLog.flush(this.#clock.nowMs());
    if (suppressed > 0) {
      this.#logger.warn(
        { shedSinceLastLine: suppressed, windowMs: SHED_LOG_WINDOW_MS },
        "overloaded: requests were shed",
      );
    }
  }
}

/** The Prometheus side; label children are looked up once and kept. */
class PromKv {
  readonly #requests: Counter<"op" | "outcome">;
  readonly #duration: Histogram<"op" | "outcome">;
  readonly siblings: Histogram;
  readonly #objectBytes: Histogram<"op">;
  /** The objectBytes child of each operation, by OP_INDEX (labels() checks its labels per call). */
  readonly #objectBytesOf: ReturnType<Histogram<"op">["labels"]>[];
  /** [operation][outcome], filled on first use. */
  readonly #series: (RequestSeries | undefined)[][];

  constructor(registry: Registry) {
    this.#requests = new Counter({
      name: "dkv_kv_requests_total",
      help: "KV requests this node answered, by operation and outcome",
      labelNames: ["op", "outcome"],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: "dkv_kv_request_duration_seconds",
      help: "Time from arrival to answer of KV requests, by operation and outcome",
      labelNames: ["op", "outcome"],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.siblings = new Histogram({
      name: "dkv_kv_get_siblings",
      help: "Siblings of the object a get found (tombstones included)",
      buckets: SIBLING_BUCKETS,
      registers: [registry],
    });
    this.#objectBytes = new Histogram({
      name: "dkv_kv_object_bytes",
      help: "Size of the object a get found or a put produced (values, content types, metadata)",
      labelNames: ["op"],
      buckets: OBJECT_BYTES_BUCKETS,
      registers: [registry],
    });
    this.#objectBytesOf = KV_OPERATIONS.map((op) => this.#objectBytes.labels(op));
    this.#series = KV_OPERATIONS.map(() => REQUEST_OUTCOMES.map(() => undefined));
    // Successful series exist from the start, so rates begin at zero rather than at the
    // first request.
    for (const op of KV_OPERATIONS) {
      this.#requests.labels(op, "ok").inc(0);
      this.#duration.zero({ op, outcome: "ok" });
    }
  }

  objectBytesOf(op: KvOperation): ReturnType<Histogram<"op">["labels"]> {
    return this.#objectBytesOf[OP_INDEX[op]]!;
  }

  series(op: KvOperation, outcome: RequestOutcome): RequestSeries {
    const row = this.#series[OP_INDEX[op]] as (RequestSeries | undefined)[];
    const index = OUTCOME_INDEX[outcome];
    let series = row[index];
    if (series === undefined) {
      series = {
        count: this.#requests.labels(op, outcome),
        duration: this.#duration.labels(op, outcome),
      };
      row[index] = series;
    }
    return series;
  }
}

const OP_INDEX = indexOf(KV_OPERATIONS);
const OUTCOME_INDEX = indexOf(REQUEST_OUTCOMES);

function indexOf<T extends string>(names: readonly T[]): Readonly<Record<T, number>> {
  return Object.fromEntries(names.map((name, index) => [name, index])) as Record<T, number>;
}
