// A Storage engine over a simulated disk that models fsync: writes land in a volatile tail
// that a crash loses (all of it, or a random prefix, as a log engine's torn tail), and a
// durable write waits for a group commit that makes everything before it durable.

import type {
  Storage,
  StorageEntry,
  StorageStats,
  WriteOptions,
  WriteResult,
} from "../../node/storage/storage.js";
import { parseStorageKeyString, storageKeyString } from "../../node/storage/storage-key.js";
import type { SeededRandom } from "../../node/core/seeded-random.js";
import type { SimScheduler } from "./sim-scheduler.js";

/** One write not yet fsynced; `bytes` undefined is a removal. */
interface PendingWrite {
  readonly seq: number;
  readonly id: string;
  readonly bytes: Uint8Array | undefined;
}

/** What outlives a process: the synced image, and the unsynced tail a crash may lose. */
export class SimDisk {
  readonly #synced = new Map<string, Uint8Array>();
  readonly #unsynced: PendingWrite[] = [];
  #appendedSeq = 0;

  /** Sequence number of the last write appended. */
  get appendedSeq(): number {
    return this.#appendedSeq;
  }

  /** Appends a write to the volatile tail; returns its sequence number. */
  append(id: string, bytes: Uint8Array | undefined): number {
    this.#appendedSeq += 1;
    this.#unsynced.push({ seq: this.#appendedSeq, id, bytes });
    return this.#appendedSeq;
  }

  /** An fsync that covered every write up to `seq`. */
  sync(seq: number): void {
    let count = 0;
    for (const write of this.#unsynced) {
      if (write.seq > seq) break;
      this.#apply(write);
      count += 1;
    }
    this.#unsynced.splice(0, count);
  }

  /**
   * Power loss: the unsynced tail is lost, except for a random prefix of it (possibly empty)
   * that happened to reach the platter. Returns how many writes were lost.
   */
  crash(random: SeededRandom): number {
    const kept = random.chance(0.5) ? 0 : random.int(this.#unsynced.length + 1);
    for (const write of this.#unsynced.slice(0, kept)) this.#apply(write);
    const lost = this.#unsynced.length - kept;
    this.#unsynced.length = 0;
    return lost;
  }

  /** The image a restarting process reads: synced data plus the tail still in the page cache. */
  image(): Map<string, Uint8Array> {
    const image = new Map(this.#synced);
    for (const write of this.#unsynced) {
      if (write.bytes === undefined) image.delete(write.id);
      else image.set(write.id, write.bytes);
    }
    return image;
  }

  #apply(write: PendingWrite): void {
    if (write.bytes === undefined) this.#synced.delete(write.id);
    else this.#synced.set(write.id, write.bytes);
  }
}

/** Test-only faults of the engine, used to show that the checker catches them. */
export interface SimStorageFaults {
  /** Durable writes are acknowledged as durable but never fsynced (a lying disk). */
  readonly fsyncLies: boolean;
}

/**
 * The engine of one process incarnation over a {@link SimDisk}. After `crash()` every call
 * hangs forever, as calls into a dead process do, and nothing more reaches the disk.
 */
/**
 * Told of every write an engine stores (`--trace-key`): which engine of the node, the storage
 * key, and the bytes (undefined for a removal).
 */
export type StoreTracer = (
  engine: "data" | "hints",
  id: string,
  bytes: Uint8Array | undefined,
) => void;

export class SimStorage implements Storage {
  readonly engine = "sim";
  readonly #disk: SimDisk;
  readonly #scheduler: SimScheduler;
  readonly #random: SeededRandom;
  readonly #fsyncMs: readonly [number, number];
  readonly #faults: SimStorageFaults;
  readonly #onWrite: ((id: string, bytes: Uint8Array | undefined) => void) | undefined;
  #objects = new Map<string, Uint8Array>();
  #waiters: { readonly seq: number; readonly resolve: () => void }[] = [];
  #syncing = false;
  #state: "new" | "open" | "closed" | "crashed" = "new";

  constructor(options: {
    readonly disk: SimDisk;
    readonly scheduler: SimScheduler;
    readonly random: SeededRandom;
    /** The latency of one fsync, a range in virtual milliseconds. */
    readonly fsyncMs: readonly [number, number];
    readonly faults: SimStorageFaults;
    /** Told of each write as it is stored. */
    readonly onWrite?: ((id: string, bytes: Uint8Array | undefined) => void) | undefined;
  }) {
    this.#onWrite = options.onWrite;
    this.#disk = options.disk;
    this.#scheduler = options.scheduler;
    this.#random = options.random;
    this.#fsyncMs = options.fsyncMs;
    this.#faults = options.faults;
  }

  async open(): Promise<void> {
    if (this.#state !== "new") throw new Error(`sim storage opened twice (${this.#state})`);
    this.#objects = this.#disk.image();
    this.#state = "open";
  }

  async get(bucket: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    await this.#alive();
    return this.#objects.get(storageKeyString(bucket, key));
  }

  async put(
    bucket: string,
    key: Uint8Array,
    object: Uint8Array,
    options: WriteOptions,
  ): Promise<WriteResult> {
    await this.#alive();
    const copy = Uint8Array.prototype.slice.call(object);
    return this.#write(storageKeyString(bucket, key), copy, options.durable);
  }

  async remove(bucket: string, key: Uint8Array, options: WriteOptions): Promise<WriteResult> {
    await this.#alive();
    return this.#write(storageKeyString(bucket, key), undefined, options.durable);
  }

  async *entries(): AsyncIterable<StorageEntry> {
    await this.#alive();
    for (const [id, object] of [...this.#objects]) yield { ...parseStorageKeyString(id), object };
  }

  stats(): StorageStats {
    return { engine: this.engine, keys: this.#objects.size, corruptRecords: 0 };
  }

  async close(): Promise<void> {
    this.#state = "closed";
  }

  /** The process died: the disk loses its unsynced tail; this instance is dead for good. */
  crash(): number {
    this.#state = "crashed";
    this.#waiters = [];
    return this.#disk.crash(this.#random);
  }

  async #write(id: string, bytes: Uint8Array | undefined, durable: boolean): Promise<WriteResult> {
    this.#onWrite?.(id, bytes);
    if (bytes === undefined) this.#objects.delete(id);
    else this.#objects.set(id, bytes);
    const seq = this.#disk.append(id, bytes);
    if (!durable) return { durable: false };
    await new Promise<void>((resolve) => {
      this.#waiters.push({ seq, resolve });
      if (!this.#syncing) this.#startSync();
    });
    return { durable: true };
  }

  /** Group commit: one fsync covers every write appended before it started. */
  #startSync(): void {
    this.#syncing = true;
    const upTo = this.#disk.appendedSeq;
    const [min, max] = this.#fsyncMs;
    this.#scheduler.after(this.#random.range(min, max), () => {
      if (this.#state === "crashed") return;
      if (!this.#faults.fsyncLies) this.#disk.sync(upTo);
      const done = this.#waiters.filter((waiter) => waiter.seq <= upTo);
      this.#waiters = this.#waiters.filter((waiter) => waiter.seq > upTo);
      for (const waiter of done) waiter.resolve();
      this.#syncing = false;
      if (this.#waiters.length > 0) this.#startSync();
    });
  }

  /** Resolves while the process lives; a dead process never answers. */
  #alive(): Promise<void> {
    if (this.#state === "open") return Promise.resolve();
    if (this.#state === "crashed") return new Promise(() => undefined);
    return Promise.reject(new Error(`sim storage is ${this.#state}`));
  }
}
