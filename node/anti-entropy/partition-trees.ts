// One node's anti-entropy trees: a Merkle tree per partition (created when its first key
// arrives) with the key → version-hash index its leaves are made of, kept current by every local
// write and rebuilt from storage at start-up without losing writes made during the rebuild.

import { keyHash, partitionOf } from "../core/key-hash.js";
import type { DvvSet } from "../core/dvv.js";
import { decodeObject } from "../core/object-decode.js";
import {
  DEFAULT_TREE_SHAPE,
  MerkleTree,
  leafCount,
  leafOf,
  type TreeShape,
} from "../core/merkle-tree.js";
import { pairToHash, versionHashInto } from "../core/version-hash.js";
import type { StorageEntry } from "../storage/storage.js";
import { parseStorageKeyString, storageKeyString } from "../storage/storage-key.js";

/** A key and the version hash this node holds for it. */
export interface KeyVersion {
  readonly bucket: string;
  readonly key: Uint8Array;
  readonly version: bigint;
}

/** What a rebuild found. */
export interface RebuildReport {
  readonly entries: number;
  /** Entries whose object did not decode; they are left out, so exchanges repair them. */
  readonly unreadable: number;
  /** Entries skipped because a write replaced them while the rebuild ran. */
  readonly superseded: number;
}

/**
 * What the trees know of each key, in parallel typed arrays indexed by a slot (the key
 * directory's layout, storage/key-directory.ts): its version hash as two int32 halves, its
 * partition and leaf. No object per key: an object of four fields, and the two heap numbers
 * its hash halves outside the small-integer range need, cost ~56 bytes and three objects for the
 * garbage collector to trace per key; the slots cost 14 bytes. Freed slots are reused.
 */
class KeySlots {
  #high = new Int32Array(INITIAL_SLOTS);
  #low = new Int32Array(INITIAL_SLOTS);
  #partition = new Uint16Array(INITIAL_SLOTS);
  #leaf = new Uint32Array(INITIAL_SLOTS);
  #free: number[] = [];
  #used = 0;

  high(slot: number): number {
    return this.#high[slot]!;
  }

  low(slot: number): number {
    return this.#low[slot]!;
  }

  partition(slot: number): number {
    return this.#partition[slot]!;
  }

  leaf(slot: number): number {
    return this.#leaf[slot]!;
  }

  setHash(slot: number, high: number, low: number): void {
    this.#high[slot] = high;
    this.#low[slot] = low;
  }

  /** A slot holding the given fields. */
  add(high: number, low: number, partition: number, leaf: number): number {
    const slot = this.#free.pop() ?? this.#next();
    this.#high[slot] = high;
    this.#low[slot] = low;
    this.#partition[slot] = partition;
    this.#leaf[slot] = leaf;
    return slot;
  }

  free(slot: number): void {
    this.#free.push(slot);
  }

  #next(): number {
    if (this.#used === this.#high.length) {
      const capacity = 2 * this.#used;
      this.#high = grown(this.#high, new Int32Array(capacity));
      this.#low = grown(this.#low, new Int32Array(capacity));
      this.#partition = grown(this.#partition, new Uint16Array(capacity));
      this.#leaf = grown(this.#leaf, new Uint32Array(capacity));
    }
    this.#used += 1;
    return this.#used - 1;
  }
}

const INITIAL_SLOTS = 1024;

/** Where the write path computes version hashes. */
const versionScratch = new Int32Array(2);

function grown<T extends Int32Array | Uint16Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

interface PartitionTree {
  readonly tree: MerkleTree;
  /** Per leaf: the key ids (storageKeyString) of its keys; undefined while the leaf is empty. */
  readonly leaves: (string[] | undefined)[];
  keys: number;
}

/**
 * The trees of every partition this node stores keys of. Invariant: each leaf hash is the XOR
 * of the version hashes of the keys listed under it, and the index holds exactly the last
 * object `apply`-ed (or rebuilt) per key. Hence incremental maintenance equals a rebuild of the
 * same final objects, whatever the order of writes (checked by property tests).
 *
 * Cost per write: a known key costs a map lookup, its version hash and two O(1) toggles; only a
 * new key pays for the SHA-1 ring hash that places it in a partition and leaf.
 */
export class PartitionTrees {
  readonly shape: TreeShape;
  readonly partitionCount: number;
  readonly #trees = new Map<number, PartitionTree>();
  /** Key id (storageKeyString) → its slot in #slots. */
  readonly #keys = new Map<string, number>();
  readonly #slots = new KeySlots();
  /**
   * Keys written since these trees were made, until they are ready: a rebuild or a restored
   * snapshot must not overwrite them with older copies.
   */
  #touched: Set<string> | undefined = new Set<string>();
  #rebuilding = false;
  #ready = false;

  constructor(partitionCount: number, shape: TreeShape = DEFAULT_TREE_SHAPE) {
    this.partitionCount = partitionCount;
    this.shape = shape;
  }

  /** True once the start-up rebuild finished; only then do exchanges compare these trees. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Keys indexed, over every partition. */
  get keyCount(): number {
    return this.#keys.size;
  }

  /** Keys indexed in one partition. */
  partitionKeyCount(partition: number): number {
    return this.#trees.get(partition)?.keys ?? 0;
  }

  /** Marks the trees complete without a rebuild (a node with empty storage, tests). */
  markReady(): void {
    this.#ready = true;
    this.#touched = undefined;
  }

  /** True when `id` was written since these trees were made and they are not ready yet. */
  writtenBeforeReady(id: string): boolean {
    return this.#touched?.has(id) === true;
  }

  /** Every key indexed, for a snapshot: its id, version hash halves, partition and leaf. */
  forEachKey(
    visit: (id: string, high: number, low: number, partition: number, leaf: number) => void,
  ): void {
    const slots = this.#slots;
    for (const [id, slot] of this.#keys) {
      visit(id, slots.high(slot), slots.low(slot), slots.partition(slot), slots.leaf(slot));
    }
  }

  /**
   * Indexes a key as a snapshot recorded it, unless it was written since these trees were made
   * (returns false then). `partition` and `leaf` are the key's own (the snapshot was taken of
   * trees of this shape); they are checked against the shape, not recomputed: that would cost
   * the SHA-1 ring hash the snapshot saves. Call markReady() after the last one.
   */
  restoreKey(id: string, high: number, low: number, partition: number, leaf: number): boolean {
    if (this.#ready) throw new Error("the trees are ready: a snapshot is restored before");
    if (!(
      partition >= 0 &&
      partition < this.partitionCount &&
      leaf >= 0 &&
      leaf < leafCount(this.shape)
    )) {
      throw new Error(`snapshot entry outside the trees: partition ${partition}, leaf ${leaf}`);
    }
    if (this.writtenBeforeReady(id) || this.#keys.has(id)) return false;
    const tree = this.#partition(partition);
    (tree.leaves[leaf] ??= []).push(id);
    tree.tree.toggle32(leaf, high, low);
    tree.keys += 1;
    this.#keys.set(id, this.#slots.add(high, low, partition, leaf));
    return true;
  }

  /**
   * Records the object now stored under a key (undefined: the key was removed): XOR out the
   * old version hash, XOR in the new one. O(1) apart from hashing the key and its context.
   * `id` is storageKeyString(bucket, key); the replica's listeners pass the one it built.
   */
  apply(
    bucket: string,
    key: Uint8Array,
    object: DvvSet | undefined,
    id: string = storageKeyString(bucket, key),
  ): void {
    this.#touched?.add(id);
    this.#set(bucket, key, id, object);
  }

  #set(bucket: string, key: Uint8Array, id: string, object: DvvSet | undefined): void {
    const slot = this.#keys.get(id);
    if (object === undefined) {
      if (slot !== undefined) this.#remove(id, slot);
      return;
    }
    versionHashInto(bucket, key, object, versionScratch);
    const high = versionScratch[0]!;
    const low = versionScratch[1]!;
    const slots = this.#slots;
    if (slot !== undefined) {
      const oldHigh = slots.high(slot);
      const oldLow = slots.low(slot);
      if (oldHigh === high && oldLow === low) return;
      const { tree } = this.#partition(slots.partition(slot));
      tree.toggle32(slots.leaf(slot), oldHigh ^ high, oldLow ^ low);
      slots.setHash(slot, high, low);
      return;
    }
    const hash = keyHash(bucket, key);
    const partitionIndex = partitionOf(hash, this.partitionCount);
    const leaf = leafOf(hash, this.shape);
    const partition = this.#partition(partitionIndex);
    (partition.leaves[leaf] ??= []).push(id);
    partition.tree.toggle32(leaf, high, low);
    partition.keys += 1;
    this.#keys.set(id, slots.add(high, low, partitionIndex, leaf));
  }

  #remove(id: string, slot: number): void {
    const slots = this.#slots;
    const partition = this.#partition(slots.partition(slot));
    const leaf = slots.leaf(slot);
    partition.tree.toggle32(leaf, slots.high(slot), slots.low(slot));
    const ids = partition.leaves[leaf] ?? [];
    const at = ids.indexOf(id);
    ids[at] = ids[ids.length - 1]!;
    ids.pop();
    if (ids.length === 0) partition.leaves[leaf] = undefined;
    partition.keys -= 1;
    this.#keys.delete(id);
    slots.free(slot);
  }

  #partition(partition: number): PartitionTree {
    let entry = this.#trees.get(partition);
    if (entry === undefined) {
      entry = { tree: new MerkleTree(this.shape), leaves: [], keys: 0 };
      this.#trees.set(partition, entry);
    }
    return entry;
  }

  /**
   * Indexes every stored entry, `chunkEntries` at a time with `pause()` between chunks so that
   * requests keep being served, then marks the trees ready. Writes that arrive meanwhile go
   * through `apply` and win over whatever copy the scan reads for the same key (the scan may
   * have read it before or after the write). Stops early, not ready, when `stopped()` says so.
   */
  async rebuild(
    entries: AsyncIterable<StorageEntry>,
    options: {
      readonly chunkEntries: number;
      readonly pause: () => Promise<void>;
      readonly stopped?: () => boolean;
      /** Told of every object indexed (the tombstone index is built in the same pass). */
      readonly observe?: (bucket: string, key: Uint8Array, object: DvvSet, id: string) => void;
    },
  ): Promise<RebuildReport> {
    if (this.#rebuilding) throw new Error("a rebuild is already running");
    if (this.#ready) throw new Error("the trees are ready: there is nothing to rebuild");
    this.#rebuilding = true;
    const touched = (this.#touched ??= new Set<string>());
    let [count, unreadable, superseded, inChunk] = [0, 0, 0, 0];
    try {
      for await (const entry of entries) {
        if (options.stopped?.() === true) return { entries: count, unreadable, superseded };
        count += 1;
        const id = storageKeyString(entry.bucket, entry.key);
        if (touched.has(id)) {
          superseded += 1;
        } else {
          // Values as views, not copies: the trees and the tombstone index keep only hashes,
          // dots and keys, and copying 1 KiB values was ~5 µs of a key's ~30 µs rebuild.
          const decoded = decodeObject(entry.object, false);
          if (decoded.ok) {
            this.#set(entry.bucket, entry.key, id, decoded.object);
            options.observe?.(entry.bucket, entry.key, decoded.object, id);
          } else {
            unreadable += 1;
          }
        }
        inChunk += 1;
        if (inChunk >= options.chunkEntries) {
          inChunk = 0;
          await options.pause();
        }
      }
      this.markReady();
      return { entries: count, unreadable, superseded };
    } finally {
      this.#rebuilding = false;
    }
  }

  /** The root hash of a partition (0 when it holds no key). */
  root(partition: number): bigint {
    return this.#trees.get(partition)?.tree.root() ?? 0n;
  }

  /** Every branch hash of a partition, packed. */
  branchHashes(partition: number): Uint8Array {
    return this.#treeOf(partition).branchHashes();
  }

  /** The leaf hashes under one branch of a partition, packed. */
  leafHashes(partition: number, branch: number): Uint8Array {
    return this.#treeOf(partition).leafHashes(branch);
  }

  /** The keys and version hashes in one leaf of a partition. */
  leafKeys(partition: number, leaf: number): KeyVersion[] {
    return this.leafIds(partition, leaf).map((id) => ({
      ...parseStorageKeyString(id),
      version: this.#versionAt(this.#keys.get(id)!),
    }));
  }

  /** The key ids (storageKeyString) of one leaf (read-only; do not keep across awaits). */
  leafIds(partition: number, leaf: number): readonly string[] {
    if (!(Number.isInteger(leaf) && leaf >= 0 && leaf < leafCount(this.shape))) {
      throw new Error(`leaf ${leaf} outside the tree`);
    }
    return this.#trees.get(partition)?.leaves[leaf] ?? [];
  }

  /** The version hash this node holds for a key, or undefined when it holds none. */
  versionOf(bucket: string, key: Uint8Array): bigint | undefined {
    return this.versionOfId(storageKeyString(bucket, key));
  }

  /** As versionOf, by key id. */
  versionOfId(id: string): bigint | undefined {
    const slot = this.#keys.get(id);
    return slot === undefined ? undefined : this.#versionAt(slot);
  }

  #versionAt(slot: number): bigint {
    return pairToHash(this.#slots.high(slot), this.#slots.low(slot));
  }

  #treeOf(partition: number): MerkleTree {
    if (!(Number.isInteger(partition) && partition >= 0 && partition < this.partitionCount)) {
      throw new Error(`partition ${partition} outside 0..${this.partitionCount - 1}`);
    }
    return this.#trees.get(partition)?.tree ?? emptyTree(this.shape);
  }
}

const emptyTrees = new Map<TreeShape, MerkleTree>();

/** A shared empty tree per shape, for partitions without keys (never toggled). */
function emptyTree(shape: TreeShape): MerkleTree {
  let tree = emptyTrees.get(shape);
  if (tree === undefined) {
    tree = new MerkleTree(shape);
    emptyTrees.set(shape, tree);
  }
  return tree;
}
