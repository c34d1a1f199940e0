// Aggregated log lines for events too frequent to log one by one: once per interval, a summary
// of the read repairs sent since the last one, and the line for shed requests the rate limit
// held back. A line is written only when something happened.

import type { Logger } from "../logger.js";
import type { Clock } from "../clock.js";

/** The counters the summary reads (the coordinator's). */
export interface ReadRepairCounters {
  readonly readRepairs: number;
  readonly readRepairsSkipped: number;
}

/** Writes the periodic summary lines of one node. */
export class ActivityLog {
  readonly intervalMs: number;
  readonly #logger: Logger;
  readonly #repairs: ReadRepairCounters;
  readonly #flush: () => void;
  #sentBefore: number;
  #skippedBefore: number;
  readonly #clock: Clock;
  #cancelTimer: (() => void) | undefined;
  #closed = false;

  /**
   * @param options.flush writes lines other parts held back (KvMetrics.flushLogs)
   * @param options.intervalMs how often the summary is due (default 60 s)
   */
  constructor(options: {
    readonly logger: Logger;
    readonly readRepairs: ReadRepairCounters;
    readonly clock: Clock;
    readonly flush?: () => void;
    readonly intervalMs?: number;
  }) {
    this.#clock = options.clock;
    this.intervalMs = options.intervalMs ?? 60_000;
    this.#logger = options.logger;
    this.#repairs = options.readRepairs;
    this.#flush = options.flush ?? (() => undefined);
    this.#sentBefore = this.#repairs.readRepairs;
    this.#skippedBefore = this.#repairs.readRepairsSkipped;
  }

  /** Ticks every interval until close(). */
  start(): void {
    if (this.#closed) return;
    this.#cancelTimer = this.#clock.setTimer(this.intervalMs, () => {
      this.tick();
      this.start();
    });
  }

  close(): void {
    this.#closed = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  /** Writes the lines due now (the timer calls it; tests call it directly). */
  tick(): void {
    const sent = this.#repairs.readRepairs - this.#sentBefore;
    const skipped = this.#repairs.readRepairsSkipped - this.#skippedBefore;
    this.#sentBefore += sent;
    this.#skippedBefore += skipped;
    if (sent > 0 || skipped > 0) {
      this.#logger.info({ sent, skipped, intervalMs: this.intervalMs }, "read repairs");
    }
    this.#flush();
  }
}
