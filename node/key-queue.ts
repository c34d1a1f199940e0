// One queue of asynchronous work per key: work on a key runs after every earlier work on the same
// key has settled, in call order, while work on different keys runs concurrently. Used where a
// read-check-write on one key must not interleave with another (the replica's merges, the hint
// store's writes, hint delivery's retirement of a delivered hint). Not pure: it holds promises.

/** Runs work serially per key; the map holds only keys with work in flight. */
export class KeyQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /**
   * Runs `work` once every earlier `run` on `key` has settled; its outcome is `work`'s. Plain
   * promise chaining, not an async function: this runs for every replica write, and each async
   * frame and await it saves is garbage the collector need not trace.
   */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    const run = previous === undefined ? started(work) : previous.then(work);
    // Drop the entry once this work settles, unless later work queued behind it, so the map
    // stays bounded by the work in flight.
    const settled: Promise<void> = run.then(
      () => this.#settled(key, settled),
      () => this.#settled(key, settled),
    );
    this.#tails.set(key, settled);
    return run;
  }

  #settled(key: string, settled: Promise<void>): void {
    if (this.#tails.get(key) === settled) this.#tails.delete(key);
  }

  /** Keys with work in flight (for tests). */
  get size(): number {
    return this.#tails.size;
  }
}

/** `work()`, with a synchronous throw turned into a rejection, as an async function's would be. */
function started<T>(work: () => Promise<T>): Promise<T> {
  try {
    return work();
  } catch (error) {
    return Promise.reject(error);
  }
}
