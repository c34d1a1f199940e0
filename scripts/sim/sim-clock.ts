// The Clock (node/clock.ts) of one simulated node incarnation: virtual time plus the
// node's fixed skew, and timers on the shared scheduler that fall silent when the node crashes.

import { sleepOn, type Clock } from "../../node/clock.js";
import type { SimScheduler } from "./sim-scheduler.js";

/** A node's view of virtual time; `stop()` (a crash) silences every timer it set. */
export class SimClock implements Clock {
  readonly #scheduler: SimScheduler;
  readonly #skewMs: number;
  #stopped = false;

  /** @param skewMs how far this node's wall clock is ahead of virtual time (may be negative) */
  constructor(scheduler: SimScheduler, skewMs: number) {
    this.#scheduler = scheduler;
    this.#skewMs = skewMs;
  }

  nowMs(): number {
    return this.#scheduler.nowMs + this.#skewMs;
  }

  /** Converts one of this node's absolute times (a deadline) to virtual time. */
  toVirtualMs(nodeTimeMs: number): number {
    return nodeTimeMs - this.#skewMs;
  }

  /** Converts a virtual time to this node's clock. */
  fromVirtualMs(virtualMs: number): number {
    return virtualMs + this.#skewMs;
  }

  /** Virtual time without the skew: a node's monotonic clock does not jump with its wall clock. */
  monotonicMs(): number {
    return this.#scheduler.nowMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  setTimer(delayMs: number, callback: () => void): () => void {
    return this.#scheduler.after(Math.max(0, delayMs), () => {
      if (!this.#stopped) callback();
    });
  }

  /** At the same virtual time, after every promise continuation now pending. */
  defer(callback: () => void): void {
    this.setTimer(0, callback);
  }

  /** The node crashed: its timers never fire. */
  stop(): void {
    this.#stopped = true;
  }
}
