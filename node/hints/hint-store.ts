// The durable hint store of a fallback node (DESIGN §5, "Hinted handoff"): for each primary it
// stands in for, which keys it holds on that primary's behalf. The objects themselves live in the
// node's main storage (so fallback copies serve reads); a hint names the key, the primary, and
// the object's size for the per-primary byte bound. Hints survive restarts: every change is
// written durably to a Storage engine of their own before it is acknowledged.

import type { Storage } from "../storage/storage.js";
import type { NodeId } from "../core/node-id.js";
import { KeyQueue } from "../key-queue.js";
import { KvError } from "../core/errors.js";

/** One hint: a key held for a primary. `seq` tells a re-hinted key from the one delivered. */
export interface Hint {
  readonly target: NodeId;
  readonly bucket: string;
  readonly key: Uint8Array;
  readonly seq: number;
  readonly bytes: number;
}

/** What is pending for one primary. */
export interface HintTotals {
  readonly count: number;
  readonly bytes: number;
}

/** The hints of one node, indexed in memory and persisted in a Storage engine. */
export class HintStore {
  readonly #storage: Storage;
  readonly #bytesMaxPerTarget: number;
  readonly #byTarget = new Map<NodeId, Map<string, Hint>>();
  readonly #bytesByTarget = new Map<NodeId, number>();
  /**
   * The writes of one primary's hint of one key, in call order: a removal decides from the
   * index, which learns of a renewal only once it is durable, so a removal that overlapped a
   * renewal would delete the renewal's record from disk while the index kept it.
   */
  readonly #writes = new KeyQueue();
  #seq = 0;
  /** Hints being written, not yet indexed. */
  #adding = 0;
  /** Why this node stands in for no primary now (it is leaving the cluster); undefined: it may. */
  #standInRefusal: string | undefined;

  /**
   * @param storage an unopened engine used only for hints (bucket = target node, key = the
   *   hinted bucket and key, value = seq and size)
   * @param options.bytesMaxPerTarget the bound of DESIGN §7: beyond it the node declines to
   *   stand in for that primary
   */
  constructor(storage: Storage, options: { readonly bytesMaxPerTarget: number }) {
    this.#storage = storage;
    this.#bytesMaxPerTarget = options.bytesMaxPerTarget;
  }

  /** Opens the engine and rebuilds the in-memory index from it. */
  async open(): Promise<void> {
    await this.#storage.open();
    for await (const entry of this.#storage.entries()) {
      const decodedKey = decodeHintKey(entry.key);
      const value = decodeHintValue(entry.object);
      if (decodedKey === undefined || value === undefined) continue;
      this.#index({ target: entry.bucket as NodeId, ...decodedKey, ...value });
      this.#seq = Math.max(this.#seq, value.seq);
    }
  }

  /** True when `bytes` more may be hinted for `target` without passing the bound. */
  hasRoom(target: NodeId, bytes: number): boolean {
    return (this.#bytesByTarget.get(target) ?? 0) + bytes <= this.#bytesMaxPerTarget;
  }

  /** The bound, for error messages. */
  get bytesMaxPerTarget(): number {
    return this.#bytesMaxPerTarget;
  }

  /**
   * Records (durably) that this node holds `bucket/key` for `target`; a key already hinted for
   * `target` is hinted again under a new seq, after any removal of its hint in flight. A new
   * stand-in is refused (RESOURCE_EXHAUSTED: the coordinator tries the next fallback) while
   * {@link refuseStandIns} holds; `rehome` moves a copy held here already to another target.
   */
  add(
    target: NodeId,
    bucket: string,
    key: Uint8Array,
    bytes: number,
    options?: { readonly rehome?: boolean },
  ): Promise<void> {
    // Checked and counted at once, with no await between: a node that finds no hint here
    // after refusing new ones (TransferLoop's drain) can be sure none is on its way in.
    const refusal = this.#standInRefusal;
    if (refusal !== undefined && options?.rehome !== true) {
      return Promise.reject(new KvError("overloaded", refusal));
    }
    this.#adding += 1;
    this.#seq += 1;
    const hint: Hint = { target, bucket, key, seq: this.#seq, bytes };
    return this.#writes
      .run(writesKey(hint), async () => {
        await this.#storage.put(target, encodeHintKey(bucket, key), encodeHintValue(hint), {
          durable: true,
        });
        this.#index(hint);
      })
      .finally(() => (this.#adding -= 1));
  }

  /**
   * From now on refuses to record a node's stand-in for a primary, with `reason` as the
   * message (a node leaving the cluster: it must hand off what it holds, not take more);
   * undefined takes them again.
   */
  refuseStandIns(reason: string | undefined): void {
    this.#standInRefusal = reason;
  }

  /** True when no hint is pending and none is being written. */
  isEmpty(): boolean {
    return this.#adding === 0 && this.pendingCount() === 0;
  }

  /** Up to `max` hints for `target`, oldest first, skipping the ids in `exclude`. */
  batch(target: NodeId, max: number, exclude: ReadonlySet<string> = new Set()): Hint[] {
    const hints: Hint[] = [];
    for (const [id, hint] of this.#byTarget.get(target) ?? []) {
      if (hints.length >= max) break;
      if (!exclude.has(id)) hints.push(hint);
    }
    return hints;
  }

  /**
   * Deletes the given hints, each only if it was not re-hinted since (same seq), also by a
   * renewal still being written: a key written again while its delivery was in flight must be
   * delivered again. Returns the ones deleted.
   */
  async remove(hints: readonly Hint[]): Promise<Hint[]> {
    // Concurrent removals share the engine's group commit: one fsync for the batch.
    const removed = await Promise.all(
      hints.map((hint) =>
        this.#writes.run(writesKey(hint), async () => {
          const current = this.#byTarget.get(hint.target)?.get(hintId(hint.bucket, hint.key));
          if (current === undefined || current.seq !== hint.seq) return undefined;
          await this.#storage.remove(hint.target, encodeHintKey(hint.bucket, hint.key), {
            durable: true,
          });
          this.#unindex(current);
          return current;
        }),
      ),
    );
    return removed.filter((hint) => hint !== undefined);
  }

  /** True when any primary still has a hint for the key. */
  isHinted(bucket: string, key: Uint8Array): boolean {
    const id = hintId(bucket, key);
    for (const hints of this.#byTarget.values()) if (hints.has(id)) return true;
    return false;
  }

  /**
   * True when the key has a hint other than `hint`: for another primary, or for the same one
   * under a newer seq (a renewal still being written is not seen).
   */
  isHintedBesides(hint: Hint): boolean {
    const id = hintId(hint.bucket, hint.key);
    for (const [target, hints] of this.#byTarget) {
      const other = hints.get(id);
      if (other !== undefined && (target !== hint.target || other.seq !== hint.seq)) return true;
    }
    return false;
  }

  /** Pending hints per primary. */
  totals(target: NodeId): HintTotals {
    return {
      count: this.#byTarget.get(target)?.size ?? 0,
      bytes: this.#bytesByTarget.get(target) ?? 0,
    };
  }

  /** Every hint pending, whatever its target (a removed node's too, until it is re-homed). */
  pendingCount(): number {
    let count = 0;
    for (const hints of this.#byTarget.values()) count += hints.size;
    return count;
  }

  /** The primaries with pending hints. */
  targets(): NodeId[] {
    return [...this.#byTarget.entries()].filter(([, hints]) => hints.size > 0).map(([t]) => t);
  }

  async close(): Promise<void> {
    await this.#storage.close();
  }

  #index(hint: Hint): void {
    let hints = this.#byTarget.get(hint.target);
    if (hints === undefined) {
      hints = new Map();
      this.#byTarget.set(hint.target, hints);
    }
    const id = hintId(hint.bucket, hint.key);
    const previous = hints.get(id);
    // Re-hinting a key moves it to the back, so delivery order stays oldest first.
    if (previous !== undefined) this.#unindex(previous);
    hints.set(id, hint);
    this.#bytesByTarget.set(hint.target, (this.#bytesByTarget.get(hint.target) ?? 0) + hint.bytes);
  }

  #unindex(hint: Hint): void {
    this.#byTarget.get(hint.target)?.delete(hintId(hint.bucket, hint.key));
    const bytes = (this.#bytesByTarget.get(hint.target) ?? 0) - hint.bytes;
    this.#bytesByTarget.set(hint.target, Math.max(0, bytes));
  }
}

/** The key of the write queue of one primary's hint of one key. */
function writesKey(hint: Pick<Hint, "target" | "bucket" | "key">): string {
  return `${hint.target}/${hintId(hint.bucket, hint.key)}`;
}

/** The in-memory id of a hinted key. */
export function hintId(bucket: string, key: Uint8Array): string {
  return `${bucket.length}:${bucket}:${Buffer.from(key).toString("base64")}`;
}

function encodeHintKey(bucket: string, key: Uint8Array): Uint8Array {
  const bucketBytes = Buffer.from(bucket, "utf8");
  const bytes = Buffer.alloc(2 + bucketBytes.length + key.length);
  bytes.writeUInt16BE(bucketBytes.length, 0);
  bucketBytes.copy(bytes, 2);
  bytes.set(key, 2 + bucketBytes.length);
  return bytes;
}

/** The hinted bucket and key of a hint record's key; undefined when it does not decode. */
export function decodeHintKey(bytes: Uint8Array): { bucket: string; key: Uint8Array } | undefined {
  if (bytes.length < 2) return undefined;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bucketLength = buffer.readUInt16BE(0);
  if (2 + bucketLength > buffer.length) return undefined;
  return {
    bucket: buffer.toString("utf8", 2, 2 + bucketLength),
    key: new Uint8Array(buffer.subarray(2 + bucketLength)),
  };
}

function encodeHintValue(hint: Hint): Uint8Array {
  const bytes = Buffer.alloc(12);
  bytes.writeDoubleBE(hint.seq, 0);
  bytes.writeUInt32BE(hint.bytes, 8);
  return bytes;
}

function decodeHintValue(bytes: Uint8Array): { seq: number; bytes: number } | undefined {
  if (bytes.length !== 12) return undefined;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { seq: buffer.readDoubleBE(0), bytes: buffer.readUInt32BE(8) };
}
