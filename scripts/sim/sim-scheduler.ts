// Virtual time for a simulation run: a priority queue of timers keyed by (time, seq), run one
// at a time, with every promise continuation drained between two timers. Nothing here reads
// the wall clock; time moves only when the next timer is due.

/** One scheduled callback; `cancelled` timers stay in the heap and are skipped when popped. */
interface Timer {
  readonly timeMs: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** Why {@link SimScheduler.run} returned. */
export type RunOutcome = "idle" | "until" | "time-limit";

/** The virtual clock and event loop shared by every node of a run. */
export class SimScheduler {
  #nowMs: number;
  #seq = 0;
  readonly #heap: Timer[] = [];
  #events = 0;
  readonly #eventsMax: number;

  /**
   * @param startMs the virtual time at the start (an epoch time, so lastModifiedMs looks real)
   * @param eventsMax the bound on timers run in one simulation; passing it is a livelock
   */
  constructor(startMs: number, eventsMax: number) {
    this.#nowMs = startMs;
    this.#eventsMax = eventsMax;
  }

  /** The virtual time in milliseconds. */
  get nowMs(): number {
    return this.#nowMs;
  }

  /** Timers run so far. */
  get events(): number {
    return this.#events;
  }

  /** Calls `callback` at virtual time `now + delayMs`; the returned function cancels it. */
  after(delayMs: number, callback: () => void): () => void {
    if (!(delayMs >= 0)) throw new Error(`delay must be >= 0, got ${delayMs}`);
    const timer: Timer = {
      timeMs: this.#nowMs + Math.ceil(delayMs),
      seq: this.#seq++,
      callback,
      cancelled: false,
    };
    this.#push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Resolves after `delayMs` of virtual time. */
  sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => void this.after(delayMs, resolve));
  }

  /**
   * Runs timers in (time, seq) order, draining promise continuations after each, until `until()`
   * holds, the queue is empty ("idle"), or the next timer lies beyond `untilMs`.
   */
  async run(
    options: { readonly until?: () => boolean; readonly untilMs?: number } = {},
  ): Promise<RunOutcome> {
    const untilMs = options.untilMs ?? Number.POSITIVE_INFINITY;
    for (;;) {
      await drainMicrotasks();
      if (options.until?.() === true) return "until";
      const next = this.#heap[0];
      if (next === undefined) return "idle";
      if (next.timeMs > untilMs) {
        this.#nowMs = Math.max(this.#nowMs, untilMs);
        return "time-limit";
      }
      this.#pop();
      if (next.cancelled) continue;
      this.#nowMs = Math.max(this.#nowMs, next.timeMs);
      this.#events += 1;
      if (this.#events > this.#eventsMax) {
        throw new Error(`simulation ran more than ${this.#eventsMax} timers: livelock?`);
      }
      next.callback();
    }
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    heap.push(timer);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(timer, heap[parent] as Timer)) break;
      heap[index] = heap[parent] as Timer;
      index = parent;
    }
    heap[index] = timer;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && before(heap[right] as Timer, heap[left] as Timer) ? right : left;
      if (!before(heap[child] as Timer, last)) break;
      heap[index] = heap[child] as Timer;
      index = child;
    }
    heap[index] = last;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq);
}

/**
 * Resolves once every queued promise continuation has run: Node runs all microtasks before an
 * immediate. This yields to the event loop but reads no time; nothing else in the process
 * touches the simulation's state, so the order of its work is fixed by the seed.
 */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
