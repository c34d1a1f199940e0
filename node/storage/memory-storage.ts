// The in-memory engine: a Map from (bucket, key) to object bytes. Used by tests, by the
// deterministic simulation, and as the model that the durable engines are checked against.
// Nothing survives a restart; a write counts as "durable" once the engine holds it, as with
// Riak's memory backend, so dw means "acknowledged by the engine" here.

import type { Storage, StorageEntry, StorageStats, WriteOptions, WriteResult } from "./storage.js";
import { storageKeyString, parseStorageKeyString } from "./storage-key.js";

/** The in-memory {@link Storage} engine. */
export class MemoryStorage implements Storage {
  readonly engine = "memory";
  readonly #objects = new Map<string, Uint8Array>();
  #open = false;
  #closed = false;

  async open(): Promise<void> {
    this.#open = true;
  }

  async get(bucket: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#checkOpen();
    return this.#objects.get(storageKeyString(bucket, key));
  }

  storedBytes(bucket: string, key: Uint8Array): number | undefined {
    this.#checkOpen();
    return this.#objects.get(storageKeyString(bucket, key))?.byteLength;
  }

  async put(
    bucket: string,
    key: Uint8Array,
    object: Uint8Array,
    _options: WriteOptions,
  ): Promise<WriteResult> {
    this.#checkOpen();
    // Copy so that a caller reusing its buffer cannot change what is stored.
    this.#objects.set(storageKeyString(bucket, key), Uint8Array.prototype.slice.call(object));
    return { durable: true };
  }

  async remove(bucket: string, key: Uint8Array, _options: WriteOptions): Promise<WriteResult> {
    this.#checkOpen();
    this.#objects.delete(storageKeyString(bucket, key));
    return { durable: true };
  }

  async *entries(): AsyncIterable<StorageEntry> {
    this.#checkOpen();
    // Snapshot the keys so that writes during iteration neither throw nor loop forever.
    for (const id of [...this.#objects.keys()]) {
      const object = this.#objects.get(id);
      if (object === undefined) continue;
      yield { ...parseStorageKeyString(id), object };
    }
  }

  stats(): StorageStats {
    return { engine: this.engine, keys: this.#objects.size, corruptRecords: 0 };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (!this.#open) throw new Error("memory storage is not open");
    if (this.#closed) throw new Error("memory storage is closed");
  }
}
