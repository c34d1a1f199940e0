// Group commit: writes queue up, are appended as one batch, and one fsync covers the batch.
// Owns batching, the queue bound, the lazy sync of non-durable writes and control tasks. Does IO
// only through its CommitSink.

import type { WriteResult } from "./storage.js";
import type { RecordKind } from "./record-format.js";
import type { Clock } from "../clock.js";

/** A write waiting in the queue: an encoded record and who to tell. */
export interface QueuedWrite {
  readonly record: Buffer;
  readonly id: string;
  readonly kind: RecordKind;
  readonly versionHash: number;
  readonly durable: boolean;
  readonly resolve: (result: WriteResult) => void;
  readonly reject: (error: Error) => void;
}

/** What the queue drives: appending batches and making them durable. */
export interface CommitSink {
  /** Appends the batch and makes it visible to reads; on failure undoes it and throws. */
  append(batch: readonly QueuedWrite[]): Promise<void>;
  /** Makes everything appended so far durable; may run alongside one append. */
  sync(): Promise<void>;
  /** After a failed sync: undoes every append not covered by a good sync. */
  rollback(): Promise<void>;
  /** True while appended bytes wait for a sync. */
  readonly unsynced: boolean;
}

/** Bounds and timing of a {@link WriteQueue}. */
export interface WriteQueueLimits {
  /** Bytes appended with one write call at most (a single larger record goes alone). */
  readonly batchBytesMax: number;
  /** Bytes waiting in the queue at most; beyond it writes are refused, not buffered. */
  readonly queuedBytesMax: number;
  /** How long appended non-durable writes may wait for their fsync. */
  readonly syncIntervalMs: number;
}

/** A failed storage write; `code` is the errno name (ENOSPC, EIO) when there is one. */
export class StorageWriteError extends Error {
  readonly code: string | undefined;

  constructor(cause: unknown, what = "storage write failed") {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`${what}: ${message}`, { cause });
    this.name = "StorageWriteError";
    const code = (cause as { code?: unknown } | null)?.code;
    this.code = typeof code === "string" ? code : undefined;
  }
}

/** Told how long each fsync of a write queue took (ms) and whether it succeeded. */
export type FsyncObserver = (durationMs: number, ok: boolean) => void;

let fsyncObserver: FsyncObserver | undefined;

/**
 * Installs the process-wide fsync observer (node metrics; one node per process), or removes
 * it with undefined. Every write queue of the process reports to it.
 */
export function observeFsync(observer: FsyncObserver | undefined): void {
  fsyncObserver = observer;
}

interface InflightSync {
  readonly done: Promise<Error | undefined>;
  readonly waiting: readonly QueuedWrite[];
}

interface ControlTask {
  readonly run: () => Promise<void>;
}

type QueueItem = QueuedWrite | ControlTask;

/**
 * The write queue. Items run strictly in arrival order, so writes to one key apply in call
 * order. A batch is appended with one write; durable writes resolve after the fsync that covers
 * them, non-durable ones as soon as the append is visible, and their fsync follows within
 * `syncIntervalMs` (or with the next durable batch). The fsync of one batch overlaps the write
 * of the next. Control tasks run between batches, after a sync, so no undo state is pending
 * while they change the engine's layout.
 */
export class WriteQueue {
  readonly #sink: CommitSink;
  readonly #limits: WriteQueueLimits;
  readonly #onBackgroundError: (error: Error) => void;
  readonly #clock: Clock;
  #items: QueueItem[] = [];
  #queuedBytes = 0;
  #running = false;
  #cancelSyncTimer: (() => void) | undefined;
  #inflight: InflightSync | undefined;
  /** Appends (each one batch of records), fsyncs, and records appended: batching at a glance. */
  batches = 0;
  syncs = 0;
  records = 0;

  /** @param clock the lazy sync's timer, the end-of-turn batching and the fsync timings */
  constructor(
    sink: CommitSink,
    limits: WriteQueueLimits,
    onBackgroundError: (error: Error) => void,
    clock: Clock,
  ) {
    this.#sink = sink;
    this.#limits = limits;
    this.#onBackgroundError = onBackgroundError;
    this.#clock = clock;
  }

  /** Bytes of records waiting to be appended. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Queues one encoded record whose key-directory id is `id`. */
  enqueue(
    record: Buffer,
    id: string,
    kind: RecordKind,
    versionHash: number,
    durable: boolean,
  ): Promise<WriteResult> {
    const bytes = record.length;
    if (this.#queuedBytes > 0 && this.#queuedBytes + bytes > this.#limits.queuedBytesMax) {
      return Promise.reject(
        new StorageWriteError(
          `${this.#queuedBytes} bytes queued, queuedBytesMax ${this.#limits.queuedBytesMax}`,
          "storage write queue full",
        ),
      );
    }
    return new Promise<WriteResult>((resolve, reject) => {
      this.#queuedBytes += bytes;
      this.#items.push({ record, id, kind, versionHash, durable, resolve, reject });
      this.#kick();
    });
  }

  /** Runs `task` alone, after everything queued before it has been appended and synced. */
  runExclusive<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#items.push({
        run: async () => {
          try {
            const failure = await this.#settleInflight();
            if (failure !== undefined) throw failure;
            if (this.#sink.unsynced) await this.#syncOrThrow();
            resolve(await task());
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        },
      });
      this.#kick();
    });
  }

  /** Resolves once everything queued so far is appended and durable. */
  async drain(): Promise<void> {
    await this.runExclusive(async () => undefined);
  }

  /** Stops the lazy sync timer (the owner drains first). */
  stop(): void {
    this.#cancelSyncTimer?.();
    this.#cancelSyncTimer = undefined;
  }

  /**
   * Starts the queue when it is idle. The first append waits for the end of the event-loop
   * turn, so every write issued in the same turn (a replica batch from a peer, a burst of client
   * requests) goes out in one append and one fsync instead of the first alone.
   */
  #kick(): void {
    if (this.#running) return;
    this.#running = true;
    this.#clock.defer(() => {
      this.#run()
        .catch((error: unknown) =>
          // Only a failed rollback gets here (write failures reject their own writes).
          this.#onBackgroundError(error instanceof Error ? error : new Error(String(error))),
        )
        .finally(() => {
          this.#running = false;
          if (this.#items.length > 0) this.#kick();
        });
    });
  }

  async #run(): Promise<void> {
    while (this.#items.length > 0) {
      const items = this.#items;
      this.#items = [];
      let index = 0;
      while (index < items.length) {
        const item = items[index] as QueueItem;
        if ("run" in item) {
          index += 1;
          await item.run();
          continue;
        }
        const end = this.#batchEnd(items, index);
        await this.#commit(items.slice(index, end) as QueuedWrite[]);
        index = end;
      }
      if (this.#items.length === 0) await this.#settleInflight();
    }
  }

  #batchEnd(items: readonly QueueItem[], start: number): number {
    let bytes = 0;
    let end = start;
    while (end < items.length) {
      const item = items[end] as QueueItem;
      if ("run" in item) break;
      if (end > start && bytes + item.record.length > this.#limits.batchBytesMax) break;
      bytes += item.record.length;
      end += 1;
    }
    return end;
  }

  /**
   * Appends a batch, then waits for the previous batch's fsync (which ran during this append)
   * and starts this batch's fsync without waiting for it: the write of batch N+1 overlaps the
   * fsync of batch N. A failed fsync rejects its batch and the batch appended meanwhile, both
   * rolled back.
   */
  async #commit(batch: QueuedWrite[]): Promise<void> {
    for (const write of batch) this.#queuedBytes -= write.record.length;
    this.batches += 1;
    try {
      await this.#sink.append(batch);
      this.records += batch.length;
    } catch (error) {
      const failure = new StorageWriteError(error);
      for (const write of batch) write.reject(failure);
      await this.#settleInflight();
      return;
    }
    const waiting: QueuedWrite[] = [];
    for (const write of batch) {
      if (write.durable) waiting.push(write);
      else write.resolve({ durable: false });
    }
    const failure = await this.#settleInflight();
    if (failure !== undefined) {
      for (const write of waiting) write.reject(failure);
      return;
    }
    if (waiting.length === 0) {
      this.#scheduleSync();
      return;
    }
    this.stop();
    this.syncs += 1;
    const done = this.#timedSync().then(
      () => undefined,
      (error: unknown) => new StorageWriteError(error),
    );
    this.#inflight = { done, waiting };
  }

  /** Waits for the fsync in flight, answers its writers; on failure rolls back and returns why. */
  async #settleInflight(): Promise<Error | undefined> {
    const inflight = this.#inflight;
    if (inflight === undefined) return undefined;
    this.#inflight = undefined;
    const failure = await inflight.done;
    if (failure === undefined) {
      for (const write of inflight.waiting) write.resolve({ durable: true });
      return undefined;
    }
    for (const write of inflight.waiting) write.reject(failure);
    await this.#sink.rollback();
    return failure;
  }

  async #syncOrThrow(): Promise<void> {
    this.stop();
    this.syncs += 1;
    try {
      await this.#timedSync();
    } catch (error) {
      await this.#sink.rollback();
      throw error;
    }
  }

  /** The sink's sync, timed for the fsync observer when one is installed. */
  #timedSync(): Promise<void> {
    const observer = fsyncObserver;
    if (observer === undefined) return this.#sink.sync();
    const startedMs = this.#clock.monotonicMs();
    return this.#sink.sync().then(
      () => observer(this.#clock.monotonicMs() - startedMs, true),
      (error: unknown) => {
        observer(this.#clock.monotonicMs() - startedMs, false);
        throw error;
      },
    );
  }

  #scheduleSync(): void {
    if (this.#cancelSyncTimer !== undefined) return;
    this.#cancelSyncTimer = this.#clock.setTimer(this.#limits.syncIntervalMs, () => {
      this.#cancelSyncTimer = undefined;
      this.runExclusive(async () => undefined).catch((error: unknown) =>
        this.#onBackgroundError(new StorageWriteError(error, "storage background sync failed")),
      );
    });
  }
}
