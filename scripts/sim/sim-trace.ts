// The trace of a simulation run: a running hash of every event (deliveries, replies, client
// outcomes, faults) that proves two runs of one seed were identical, the last lines for a
// replay's report, and the bugs seen on the way (errors logged by the production code).

import type { SimScheduler } from "./sim-scheduler.js";

/** Lines kept for the report of a failing run. */
const TAIL_LINES_MAX = 200;

/** Records a run's events; `hash()` summarises them. */
export class SimTrace {
  readonly #scheduler: SimScheduler;
  // Two 32-bit FNV-1a hashes with different offsets: 64 bits, cheap enough for every event.
  #hashA = 0x811c9dc5;
  #hashB = 0x01000193;
  // The last lines, as their parts: a line is made into text only for a report or `--verbose`.
  readonly #tailTimes = new Float64Array(TAIL_LINES_MAX);
  readonly #tailParts: (readonly string[])[] = new Array<readonly string[]>(TAIL_LINES_MAX);
  readonly #verbose: ((line: string) => void) | undefined;
  readonly bugs: string[] = [];
  /** Counts of known, tolerated oddities (see sim-logger.ts), by kind. */
  readonly notes = new Map<string, number>();
  #lines = 0;

  /** @param verbose called with every line (a replay's `--verbose`) */
  constructor(scheduler: SimScheduler, verbose?: (line: string) => void) {
    this.#scheduler = scheduler;
    this.#verbose = verbose;
  }

  /** Adds one event at the current virtual time. */
  record(event: string): void {
    this.#add([event]);
  }

  /**
   * Adds one event made of words (the line is the words joined by spaces), without joining
   * them: the network records two per message.
   */
  recordWords(...words: string[]): void {
    this.#add(words);
  }

  #add(words: readonly string[]): void {
    const timeMs = this.#scheduler.nowMs;
    let a = this.#hashA;
    let b = this.#hashB;
    // The time as two 32-bit words, then each word's characters after a separator.
    const low = (timeMs % 0x100000000) | 0;
    const high = Math.floor(timeMs / 0x100000000);
    a = Math.imul(Math.imul(a ^ low, 0x01000193) ^ high, 0x01000193);
    b = Math.imul(b ^ low, 0x01000193) ^ (b >>> 15);
    b = Math.imul(b ^ high, 0x01000193) ^ (b >>> 15);
    for (const word of words) {
      a = Math.imul(a ^ 32, 0x01000193);
      b = Math.imul(b ^ 32, 0x01000193) ^ (b >>> 15);
      for (let index = 0; index < word.length; index++) {
        const code = word.charCodeAt(index);
        a = Math.imul(a ^ code, 0x01000193);
        b = Math.imul(b ^ code, 0x01000193) ^ (b >>> 15);
      }
    }
    this.#hashA = Math.imul(a ^ 10, 0x01000193);
    this.#hashB = Math.imul(b ^ 10, 0x01000193);
    const slot = this.#lines % TAIL_LINES_MAX;
    this.#tailTimes[slot] = timeMs;
    this.#tailParts[slot] = words;
    this.#lines += 1;
    this.#verbose?.(`${timeMs} ${words.join(" ")}`);
  }

  /** Something that must never happen (a rejected handler, an error logged by the code). */
  bug(message: string): void {
    this.bugs.push(message);
    this.record(`BUG ${message}`);
  }

  /** Counts one tolerated oddity. */
  note(kind: string): void {
    this.notes.set(kind, (this.notes.get(kind) ?? 0) + 1);
  }

  /** Events recorded so far. */
  get lines(): number {
    return this.#lines;
  }

  /** The last lines recorded. */
  tail(): string[] {
    const lines: string[] = [];
    for (let index = Math.max(0, this.#lines - TAIL_LINES_MAX); index < this.#lines; index++) {
      const slot = index % TAIL_LINES_MAX;
      const words = this.#tailParts[slot];
      if (words !== undefined) lines.push(`${this.#tailTimes[slot]} ${words.join(" ")}`);
    }
    return lines;
  }

  /** The hash of every event so far (16 hex digits). */
  hash(): string {
    const hex = (value: number): string => (value >>> 0).toString(16).padStart(8, "0");
    return `${hex(this.#hashA)}${hex(this.#hashB)}`;
  }
}
