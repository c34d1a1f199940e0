// One queue of asynchronous work per key: work on a key runs after every earlier work on the same
// key has settled, in call order, while work on different keys runs concurrently. Used where a
// read-check-write on one key must not interleave with another (the replica's merges, the hint
// store's writes, hint delivery's retirement of a delivered hint). Not pure: it holds promises.

/** Runs work serially per key; the map holds only keys with work in flight. */
export class KeyQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `work` once every earlier `run` on `key` has settled; its outcome is `work`'s. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    const run = previous === undefined ? work() : previous.then(work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, settled);
    try {
      return await run;
    } finally {
      // Drop the entry when no later work queued behind this one, so the map stays bounded by
      // the work in flight.
      if (this.#tails.get(key) === settled) this.#tails.delete(key);
    }
  }

  /** Keys with work in flight (for tests). */
  get size(): number {
    return this.#tails.size;
  }
}
