// The Clock (node/clock.ts) of one simulated node incarnation: virtual time plus the node's
// skew, and timers on the shared scheduler that fall silent when the node crashes and wait
// while it is paused. The wall clock can jump (a clock fault); the monotonic one never does.

import { sleepOn, type Clock } from "../../node/clock.js";
import type { SimScheduler } from "./sim-scheduler.js";

/** A node's view of virtual time; `stop()` (a crash) silences every timer it set. */
export class SimClock implements Clock {
  readonly #scheduler: SimScheduler;
  #skewMs: number;
  #stopped = false;
  /** While paused: the timers that came due, run in order at resume. */
  #held: (() => void)[] | undefined;

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
    let cancelled = false;
    const cancel = this.#scheduler.after(Math.max(0, delayMs), () => {
      if (this.#stopped || cancelled) return;
      if (this.#held === undefined) callback();
      else this.#held.push(() => cancelled || this.#stopped || callback());
    });
    return () => {
      cancelled = true;
      cancel();
    };
  }

  /** The wall clock jumps by `ms` (either way): NTP stepping it, an operator, a VM migration. */
  jump(ms: number): void {
    this.#skewMs += ms;
  }

  /** SIGSTOP: timers that come due wait. */
  pause(): void {
    this.#held ??= [];
  }

  /** SIGCONT: the timers that came due while paused fire now, in order. */
  resume(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const fire of held) fire();
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
