// Virtual time for a simulation run: a priority queue of timers keyed by (time, seq), run one
// at a time, with every promise continuation drained between two timers. Nothing here reads
// the wall clock; time moves only when the next timer is due.

/**
 * Immediates queued at a time by {@link SimScheduler.run}: each runs one timer; Node turns its
 * event loop (a poll of the OS) once per batch.
 */
const IMMEDIATES_PER_BATCH = 64;

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
  #running = false;

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
   *
   * Each timer runs in its own `setImmediate` callback: Node drains every microtask (and every
   * microtask those queue) between two immediates of one batch, so nothing of one timer's work
   * is left when the next timer runs. The immediates are queued in batches that double up to
   * {@link IMMEDIATES_PER_BATCH}, so the event loop turns once per batch rather than once per
   * timer; the ones left over when the run ends do nothing.
   */
  run(
    options: { readonly until?: () => boolean; readonly untilMs?: number } = {},
  ): Promise<RunOutcome> {
    if (this.#running) throw new Error("the scheduler is already running");
    this.#running = true;
    const untilMs = options.untilMs ?? Number.POSITIVE_INFINITY;
    const until = options.until;
    return new Promise((resolve, reject) => {
      let finished = false;
      let queued = 0;
      const finish = (outcome: RunOutcome | Error): void => {
        finished = true;
        this.#running = false;
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      let batch = 1;
      const step = (): void => {
        queued -= 1;
        if (finished) return;
        try {
          const outcome = this.#step(until, untilMs);
          if (outcome !== undefined) return finish(outcome);
        } catch (error) {
          return finish(error instanceof Error ? error : new Error(String(error)));
        }
        if (queued === 0) queueBatch();
      };
      // Batches grow from one immediate: a short run (a convergence poll that finds one timer
      // due, or none) queues few that do nothing.
      const queueBatch = (): void => {
        for (let index = 0; index < batch; index++) setImmediate(step);
        queued += batch;
        batch = Math.min(IMMEDIATES_PER_BATCH, batch * 2);
      };
      queueBatch();
    });
  }

  /**
   * One turn of {@link run}, called with no promise continuation pending: why the run ends, or
   * undefined once one timer ran. Cancelled timers are skipped in the same turn (they run no
   * code, so there is nothing to drain after them).
   */
  #step(until: (() => boolean) | undefined, untilMs: number): RunOutcome | undefined {
    if (until?.() === true) return "until";
    for (;;) {
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
      return undefined;
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
