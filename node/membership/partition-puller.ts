// The receiving side of ownership transfer: pulls each partition this node gains in the change
// under way from one of its old primaries, at most `streamsMax` at once, storing every batch
// durably (DVV sync, like any repair) before it moves its cursor, and keeping the cursor in a
// file so a crash resumes the stream where it stood — at any old primary, since the stream
// order is the same everywhere (node/core/transfer-cursor.ts). A finished stream does not make
// the partition transferred: transfer-loop.ts then confirms it with every old primary.

import { yieldTo, type Clock } from "../clock.js";
import { KvError, isKvError } from "../core/errors.js";
import type { NodeId } from "../core/node-id.js";
import { decodeObject } from "../core/object-decode.js";
import {
  CURSOR_START,
  RateWindow,
  bytesLeftEstimate,
  type PullFile,
  type PullRecord,
  type TransferCursor,
} from "../core/transfer-cursor.js";
import type { Logger } from "../logger.js";
import type { Replica } from "../replica.js";
import { TokenBucket } from "../anti-entropy/token-bucket.js";
import { TRANSFER_OBJECTS_PER_YIELD, transferBurstBytes } from "./transfer-source.js";

/** After an idle spell, the receive rate starts at this fraction of the throttle... */
const RAMP_START_FRACTION = 1 / 8;
/** ...and doubles every this many milliseconds (full rate after about 1.5 s). */
const RAMP_STEP_MS = 500;
/** The ramp's length: from RAMP_START_FRACTION to the full rate. */
const RAMP_MS = RAMP_STEP_MS * Math.log2(1 / RAMP_START_FRACTION);
/** A spell without a batch this long makes the next batch start a new ramp. */
const RAMP_IDLE_RESET_MS = 10_000;

/**
 * The wait the receive ramp adds to `bytes` received `sinceRampMs` after the ramp began, on top
 * of the throttle's own: at rate·f with f = RAMP_START_FRACTION·2^(since/RAMP_STEP_MS) below 1,
 * the bytes take bytes/(rate·f), of which the throttle already waits bytes/rate; never past
 * the ramp's end.
 */
export function rampWaitMs(bytes: number, ratePerSecond: number, sinceRampMs: number): number {
  const fraction = Math.min(1, RAMP_START_FRACTION * 2 ** (sinceRampMs / RAMP_STEP_MS));
  if (fraction >= 1) return 0;
  // The ramp lasts RAMP_MS, and no batch waits on it past its end: at a low throttle one batch
  // is seconds of it, and would otherwise have waited seven times that.
  return Math.min(((bytes * 1000) / ratePerSecond) * (1 / fraction - 1), RAMP_MS - sinceRampMs);
}

/** What the receiver asks a source for. */
export interface PullRequest {
  readonly layoutVersion: number;
  readonly partition: number;
  readonly cursor: TransferCursor;
}

/** One batch as received. */
export interface ReceivedBatch {
  readonly objects: readonly { bucket: string; key: Uint8Array; object: Uint8Array }[];
  readonly cursor: TransferCursor;
  readonly done: boolean;
  readonly keysLeft: number;
  readonly throttledMs: number;
}

/** Opens partition streams at sources (Transfer.Fetch in production). Errors are KvErrors. */
export interface TransferPort {
  fetch(source: NodeId, request: PullRequest, signal: AbortSignal): AsyncIterable<ReceivedBatch>;
}

/** Where the pull file lives (a file in the data directory; memory in tests). */
export interface PullFileStore {
  load(): Promise<PullFile | undefined>;
  save(file: PullFile): Promise<void>;
}

/** A partition to pull and the old primaries to pull it from, the planned source first. */
export interface PullWanted {
  readonly partition: number;
  readonly sources: readonly NodeId[];
}

/** One partition's pull, for status and metrics. */
export interface PullProgress {
  readonly partition: number;
  readonly state: "queued" | "streaming" | "done";
  readonly source: NodeId | undefined;
  readonly keysDone: number;
  readonly bytesDone: number;
  readonly keysLeft: number;
  readonly bytesLeft: number;
  readonly bytesPerSecond: number;
  /** Time left at the current rate; undefined when there is no rate yet. */
  readonly etaMs: number | undefined;
  /** Why it waits; empty while it moves. */
  readonly why: string;
}

/** How long a failed or refused pull waits before it tries again (at the next source). */
const PULL_RETRY_MS = 1_000;
/** The cursor is written at most this often while a stream runs (and when it ends). */
const CURSOR_SAVE_INTERVAL_MS = 1_000;
/** A batch that waited this long for a throttle shows its partition as "throttled". */
const THROTTLED_MS = 500;
/** The span of the rate shown. */
const RATE_WINDOW_MS = 10_000;

interface PullInfo {
  source: NodeId | undefined;
  keysLeft: number;
  why: string;
  rate: RateWindow;
  nextSource: number;
  retryAtMs: number;
}

/** Runs the pulls of the partitions this node gains. */
export class PartitionPuller {
  readonly stats = { keysReceived: 0, bytesReceived: 0 };
  readonly #replica: Pick<Replica, "merge">;
  readonly #port: TransferPort;
  readonly #store: PullFileStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #streamsMax: number;
  readonly #upNodes: () => ReadonlySet<NodeId>;
  /** Paces what this node receives over all its streams; undefined: unthrottled. */
  readonly #bucket: TokenBucket | undefined;
  /** When the receive rate's ramp began, and when a batch was last paced (monotonic ms). */
  #rampFromMs: number;
  #lastPacedMs: number;
  #version: number | undefined;
  #loaded: PullFile | undefined;
  #records = new Map<number, PullRecord>();
  #wanted = new Map<number, readonly NodeId[]>();
  #info = new Map<number, PullInfo>();
  readonly #running = new Map<number, AbortController>();
  #saving: Promise<void> = Promise.resolve();
  #closed = false;
  #cancelRetry: (() => void) | undefined;

  constructor(options: {
    readonly replica: Pick<Replica, "merge">;
    readonly port: TransferPort;
    readonly store: PullFileStore;
    readonly clock: Clock;
    readonly logger: Logger;
    readonly streamsMax: number;
    readonly upNodes: () => ReadonlySet<NodeId>;
    /** Bytes per second this node receives over all its streams; 0 or absent: unthrottled. */
    readonly bytesPerSecond?: number;
  }) {
    if (!(Number.isInteger(options.streamsMax) && options.streamsMax >= 1)) {
      throw new Error(`transfers at once must be >= 1, got ${options.streamsMax}`);
    }
    this.#replica = options.replica;
    this.#port = options.port;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#streamsMax = options.streamsMax;
    this.#upNodes = options.upNodes;
    const rate = options.bytesPerSecond ?? 0;
    // The same burst as a source's: one of its batches at this rate (see TransferSource).
    this.#bucket =
      rate > 0 ? new TokenBucket(rate, transferBurstBytes(rate), options.clock) : undefined;
    this.#lastPacedMs = -Infinity;
    this.#rampFromMs = 0;
  }

  /** Reads the pull file; call once before `want`. */
  async open(): Promise<void> {
    this.#loaded = await this.#store.load();
  }

  /** Streams running now. */
  get active(): number {
    return this.#running.size;
  }

  /**
   * The partitions to pull for layout `version` (the change under way); pulls of any other
   * version stop and their cursors are forgotten. Starts what the stream limit allows.
   */
  want(version: number, wanted: readonly PullWanted[]): void {
    if (this.#closed) return;
    if (version !== this.#version) {
      for (const abort of this.#running.values()) abort.abort();
      this.#running.clear();
      this.#version = version;
      const loaded = this.#loaded;
      this.#records = new Map(loaded?.layoutVersion === version ? loaded.partitions : []);
      this.#info = new Map();
      if (this.#records.size > 0) {
        this.#logger.info(
          { version, partitions: [...this.#records.keys()] },
          "transfer cursors found; streams resume where they stood",
        );
      }
    }
    this.#wanted = new Map(wanted.map((entry) => [entry.partition, entry.sources]));
    for (const [partition, abort] of this.#running) {
      if (!this.#wanted.has(partition)) abort.abort();
    }
    this.#fill();
  }

  /** True when `partition`'s stream reached its end (or it has no source left to stream from). */
  isDone(partition: number): boolean {
    return this.#records.get(partition)?.done === true || this.#wanted.get(partition)?.length === 0;
  }

  /** Every wanted partition's pull, ascending. */
  progress(): PullProgress[] {
    const nowMs = this.#clock.monotonicMs();
    return [...this.#wanted.keys()]
      .sort((a, b) => a - b)
      .map((partition) => {
        const record = this.#records.get(partition);
        const info = this.#info.get(partition);
        const done = this.isDone(partition);
        const running = this.#running.has(partition);
        const keysDone = record?.keysDone ?? 0;
        const bytesDone = record?.bytesDone ?? 0;
        const keysLeft = done ? 0 : (info?.keysLeft ?? 0);
        const bytesLeft = bytesLeftEstimate(keysLeft, keysDone, bytesDone);
        const bytesPerSecond = running ? (info?.rate.rate(nowMs) ?? 0) : 0;
        const why = done ? "" : running ? (info?.why ?? "") : info?.why || "transfer limit";
        return {
          partition,
          state: done ? "done" : running ? "streaming" : "queued",
          source: info?.source,
          keysDone,
          bytesDone,
          keysLeft,
          bytesLeft,
          bytesPerSecond,
          etaMs: bytesPerSecond > 0 ? Math.round((bytesLeft * 1000) / bytesPerSecond) : undefined,
          why,
        };
      });
  }

  /** Stops every stream; the cursors written so far stay. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelRetry?.();
    for (const abort of this.#running.values()) abort.abort();
    await this.#saving;
  }

  /** Starts pulls, ascending, while under the limit; wakes up again for the earliest retry. */
  #fill(): void {
    if (this.#closed || this.#version === undefined) return;
    const nowMs = this.#clock.monotonicMs();
    let wakeMs: number | undefined;
    for (const partition of [...this.#wanted.keys()].sort((a, b) => a - b)) {
      if (this.#running.size >= this.#streamsMax) break;
      if (this.isDone(partition) || this.#running.has(partition)) continue;
      const info = this.#infoOf(partition);
      if (info.retryAtMs > nowMs) {
        wakeMs = Math.min(wakeMs ?? Infinity, info.retryAtMs);
        continue;
      }
      const abort = new AbortController();
      this.#running.set(partition, abort);
      void this.#pull(this.#version, partition, abort.signal).finally(() => {
        if (this.#running.get(partition) === abort) this.#running.delete(partition);
        this.#fill();
      });
    }
    this.#cancelRetry?.();
    this.#cancelRetry =
      wakeMs === undefined
        ? undefined
        : this.#clock.setTimer(Math.max(0, wakeMs - nowMs), () => this.#fill());
  }

  #infoOf(partition: number): PullInfo {
    let info = this.#info.get(partition);
    if (info === undefined) {
      info = {
        source: undefined,
        keysLeft: 0,
        why: "",
        rate: new RateWindow(RATE_WINDOW_MS),
        nextSource: 0,
        retryAtMs: 0,
      };
      this.#info.set(partition, info);
    }
    return info;
  }

  /** One attempt: streams from one source until the end, a failure or an abort. */
  async #pull(version: number, partition: number, signal: AbortSignal): Promise<void> {
    const info = this.#infoOf(partition);
    const sources = this.#wanted.get(partition) ?? [];
    const up = this.#upNodes();
    const source = pickSource(sources, up, info.nextSource);
    if (source === undefined) {
      info.why = `source down: ${sources.join(", ")}`;
      info.retryAtMs = this.#clock.monotonicMs() + PULL_RETRY_MS;
      return;
    }
    info.source = source;
    info.why = "";
    let record = this.#records.get(partition) ?? {
      cursor: CURSOR_START,
      keysDone: 0,
      bytesDone: 0,
      done: false,
    };
    let savedMs = this.#clock.monotonicMs();
    try {
      const request = { layoutVersion: version, partition, cursor: record.cursor };
      for await (const batch of this.#port.fetch(source, request, signal)) {
        const bytes = await this.#storeBatch(batch, source);
        if (signal.aborted || this.#version !== version) return;
        record = {
          cursor: batch.cursor,
          keysDone: record.keysDone + batch.objects.length,
          bytesDone: record.bytesDone + bytes,
          done: batch.done,
        };
        this.#records.set(partition, record);
        this.stats.keysReceived += batch.objects.length;
        this.stats.bytesReceived += bytes;
        info.rate.record(this.#clock.monotonicMs(), bytes);
        info.keysLeft = batch.keysLeft;
        // Paced at both ends: the source's throttle (its batch waited) and this node's.
        const waitedMs = await this.#pace(bytes, signal, () => (info.why = "throttled"));
        const nowMs = this.#clock.monotonicMs();
        info.why = Math.max(batch.throttledMs, waitedMs) >= THROTTLED_MS ? "throttled" : "";
        if (batch.done || nowMs - savedMs >= CURSOR_SAVE_INTERVAL_MS) {
          savedMs = nowMs;
          await this.#save();
        }
        if (batch.done) {
          this.#logger.info(
            { partition, source, keys: record.keysDone, bytes: record.bytesDone },
            "partition stream complete",
          );
          return;
        }
      }
      if (!signal.aborted)
        throw new KvError("unavailable", `the stream from ${source} ended early`);
    } catch (error) {
      if (signal.aborted || this.#closed) return;
      this.#failed(partition, info, source, error);
      // What arrived before the failure is stored; keep its cursor.
      await this.#save().catch(() => undefined);
    }
  }

  #failed(partition: number, info: PullInfo, source: NodeId, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const code = isKvError(error) ? error.code : "internal";
    info.retryAtMs = this.#clock.monotonicMs() + PULL_RETRY_MS;
    if (error instanceof LocalStoreError) {
      // This node could not store (shedding load, disk trouble): the same source, later.
      info.why = code === "overloaded" ? "overloaded" : `storing failed: ${message}`;
    } else {
      info.nextSource += 1;
      info.why =
        code === "overloaded" || code === "too-large"
          ? `source busy: ${source}`
          : code === "unavailable" || code === "timeout"
            ? `source down: ${source}`
            : `source refused: ${message}`;
    }
    this.#logger.info({ partition, source, reason: message }, "partition stream stopped; retried");
  }

  /**
   * Waits as the receive throttle asks for `bytes`; returns the time waited. After an idle
   * spell the rate starts at RAMP_START_FRACTION of the throttle and doubles every RAMP_STEP_MS:
   * the first seconds of a transfer also warm up the code of the transfer path on every node
   * (bench:transfer --series showed the foreground's slow operations gathered there).
   * `waiting` is told when the ramp alone holds the batch long enough to count as throttled.
   */
  async #pace(bytes: number, signal: AbortSignal, waiting: () => void): Promise<number> {
    const bucket = this.#bucket;
    if (bucket === undefined || bytes === 0) return 0;
    const startedMs = this.#clock.monotonicMs();
    // Idle is the time since the last batch was through its pace, not since it began: at a low
    // throttle a batch's own wait is long, and is no spell without batches.
    if (startedMs - this.#lastPacedMs > RAMP_IDLE_RESET_MS) this.#rampFromMs = startedMs;
    try {
      await bucket.take(bytes, signal).catch(() => undefined);
      const extraMs = rampWaitMs(bytes, bucket.ratePerSecond, startedMs - this.#rampFromMs);
      if (extraMs > 0) {
        if (extraMs >= THROTTLED_MS) waiting();
        await this.#clock.sleep(extraMs, signal).catch(() => undefined);
      }
    } finally {
      this.#lastPacedMs = this.#clock.monotonicMs();
    }
    return this.#lastPacedMs - startedMs;
  }

  /**
   * Merges a batch's objects durably; returns their bytes. The merges start a few at a time with
   * a yield to the event loop between, so foreground requests interleave; all are awaited
   * together, so one group commit still makes the batch durable before the cursor passes it.
   */
  async #storeBatch(batch: ReceivedBatch, source: NodeId): Promise<number> {
    let bytes = 0;
    let failure: { error: unknown } | undefined;
    const merges: Promise<void>[] = [];
    for (const [index, { bucket, key, object }] of batch.objects.entries()) {
      if (index > 0 && index % TRANSFER_OBJECTS_PER_YIELD === 0) await yieldTo(this.#clock);
      if (failure !== undefined) break;
      bytes += object.length;
      const decoded = decodeObject(object);
      if (!decoded.ok) {
        failure = {
          error: new KvError("invalid-argument", `transfer from ${source}: ${decoded.reason}`),
        };
        break;
      }
      merges.push(
        this.#replica.merge(bucket, key, decoded.object, { durable: true }).then(
          () => undefined,
          (error: unknown) => void (failure ??= { error: new LocalStoreError(error) }),
        ),
      );
    }
    await Promise.all(merges);
    if (failure !== undefined) throw failure.error;
    return bytes;
  }

  /** Writes the pull file; writes run one after another, each with the latest records. */
  #save(): Promise<void> {
    const version = this.#version;
    if (version === undefined) return Promise.resolve();
    this.#saving = this.#saving
      .catch(() => undefined)
      .then(() => this.#store.save({ layoutVersion: version, partitions: new Map(this.#records) }));
    return this.#saving;
  }
}

/** A failure to store what arrived, as opposed to a failure of the source. */
class LocalStoreError extends KvError {
  constructor(cause: unknown) {
    super(
      isKvError(cause) ? cause.code : "storage-failed",
      cause instanceof Error ? cause.message : String(cause),
      { cause },
    );
  }
}

/** The first up source from `start` on, wrapping around. */
function pickSource(
  sources: readonly NodeId[],
  up: ReadonlySet<NodeId>,
  start: number,
): NodeId | undefined {
  for (let step = 0; step < sources.length; step++) {
    const source = sources[(start + step) % sources.length]!;
    if (up.has(source)) return source;
  }
  return undefined;
}
