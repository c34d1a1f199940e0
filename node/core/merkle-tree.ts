// Tictac-style Merkle trees for anti-entropy (DESIGN §5; Riak's kv_index_tictactree): a fixed
// tree of branches over leaves whose hashes combine with XOR, so a write updates it in O(1), plus
// the key and version hashes the leaves hold and the diff of two trees. Pure.

import type { DvvSet } from "./dvv.js";
import { compareStrings } from "./causal-context.js";

/** Bytes of every hash in a tree and on the wire: 64 bits, so XOR cancellation is negligible. */
export const HASH_BYTES = 8;

/** The fixed shape of one partition's tree: branchCount branches of leavesPerBranch leaves. */
export interface TreeShape {
  readonly branchCount: number;
  readonly leavesPerBranch: number;
}

/**
 * 32 × 32 = 1,024 leaves per partition (Q = 64 gives 65,536 per node). Branches and leaves are
 * equal so that descending one level costs the same 256 bytes (32 hashes) either way, which
 * minimises the bytes per difference for a given leaf count: a difference costs about
 * 8·branchCount + 8·leavesPerBranch bytes of hashes plus the key list of its leaf (about 3 keys
 * at 200k keys), well inside the 1 KiB per difference of DESIGN §9, and an exchange with no
 * differences sends only 8 bytes per partition. Riak's 1,024 × 1,024 suits far larger stores.
 */
export const DEFAULT_TREE_SHAPE: TreeShape = Object.freeze({
  branchCount: 32,
  leavesPerBranch: 32,
});

/** Largest branch or leaf fan-out; a level travels in one message. */
const fanOutMax = 1024;

function isPowerOfTwo(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && (value & (value - 1)) === 0;
}

/** True when both fan-outs are powers of two in 1..1024. */
export function isValidTreeShape(shape: TreeShape): boolean {
  return (
    isPowerOfTwo(shape.branchCount) &&
    isPowerOfTwo(shape.leavesPerBranch) &&
    shape.branchCount <= fanOutMax &&
    shape.leavesPerBranch <= fanOutMax
  );
}

/** Leaves in a tree of this shape. */
export function leafCount(shape: TreeShape): number {
  return shape.branchCount * shape.leavesPerBranch;
}

/**
 * The leaf of a key, from its ring hash (key-hash.ts `keyHash`, 20 bytes): bytes 4..7 modulo the
 * leaf count. The partition uses only the top log2(Q) ≤ 12 bits of bytes 0..3, so leaves are
 * spread evenly within every partition.
 */
export function leafOf(keyHash: Uint8Array, shape: TreeShape): number {
  if (keyHash.length < 8) throw new Error(`key hash too short: ${keyHash.length} bytes`);
  const word = ((keyHash[4]! << 24) | (keyHash[5]! << 16) | (keyHash[6]! << 8) | keyHash[7]!) >>> 0;
  return word & (leafCount(shape) - 1);
}

/** The branch a leaf hangs under. */
export function branchOf(leaf: number, shape: TreeShape): number {
  return Math.floor(leaf / shape.leavesPerBranch);
}

/**
 * The 64-bit hash one key contributes to its leaf: a hash of the bucket and key, the causal
 * context and the dots of the siblings. The key is in it so that two keys with one history do
 * not cancel out under XOR; the context names every write the replica has seen (Riak hashes the
 * vector clock); the dots say which writes survive as siblings, which the context alone
 * determines for histories made through DVV update and sync, and hashing them costs little.
 * Values are not hashed: one dot is one write.
 *
 * The hash is a non-cryptographic one computed in JavaScript (two MurmurHash3 lanes, about a
 * microsecond), because it runs on every write; the inputs are written with their lengths and
 * in a canonical order (actors sorted), so
 * Law: equal (bucket, key, context, sibling dots) ⇔ equal hash, up to chance collisions (2^-64).
 */
export function versionHash(bucket: string, key: Uint8Array, object: DvvSet): bigint {
  versionHashInto(bucket, key, object, scratch);
  return pairToHash(scratch[0]!, scratch[1]!);
}

const scratch = new Int32Array(2);

/**
 * versionHash without allocating the result: its high and low 32 bits go to out[0] and out[1]
 * (as int32). The write path uses this: a BigInt per write, kept in long-lived objects, costs
 * the garbage collector more than the hashing itself.
 */
export function versionHashInto(
  bucket: string,
  key: Uint8Array,
  object: DvvSet,
  out: Int32Array,
): void {
  const hasher = sharedHasher;
  hasher.reset();
  hasher.text(bucket);
  hasher.bytes(key);
  const { vv, cloud } = object.context;
  // Actors in string order, each with its vv counter and its cloud counters (the cloud is
  // sorted by actor, then counter). Usually one or two actors, so the sort is cheap.
  const actors = [...vv.keys()];
  for (const dot of cloud)
    if (!vv.has(dot.actor) && !actors.includes(dot.actor)) actors.push(dot.actor);
  if (actors.length > 1) actors.sort(compareStrings);
  hasher.word(actors.length);
  for (const actor of actors) {
    hasher.text(actor);
    hasher.counter(vv.get(actor) ?? 0);
    let from = 0;
    while (from < cloud.length && cloud[from]!.actor !== actor) from += 1;
    let to = from;
    while (to < cloud.length && cloud[to]!.actor === actor) to += 1;
    hasher.word(to - from);
    for (let index = from; index < to; index++) hasher.counter(cloud[index]!.counter);
  }
  hasher.word(object.siblings.length);
  for (const { dot } of object.siblings) {
    hasher.text(dot.actor);
    hasher.counter(dot.counter);
  }
  hasher.digestInto(out);
}

/** A 64-bit hash from its high and low 32 bits (as int32 or uint32). */
export function pairToHash(high: number, low: number): bigint {
  return (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
}

/** Two 32-bit MurmurHash3 lanes (Appleby) over a stream of 32-bit words, finished to 64 bits. */
class Hasher64 {
  #lane1 = 0x9747b28c;
  #lane2 = 0x5bd1e995;
  #words = 0;

  reset(): void {
    this.#lane1 = 0x9747b28c;
    this.#lane2 = 0x5bd1e995;
    this.#words = 0;
  }

  word(value: number): void {
    this.#lane1 = mixWord(this.#lane1, value);
    // The second lane sees each word scrambled differently, so the lanes are not correlated.
    this.#lane2 = mixWord(this.#lane2, Math.imul(value ^ (value >>> 15), 0x2c1b3c6d) ^ 0x297a2d39);
    this.#words += 1;
  }

  /** A safe integer as two words. */
  counter(value: number): void {
    this.word(value >>> 0);
    this.word(Math.floor(value / 0x100000000));
  }

  /** Bytes as their length, then four per word. */
  bytes(value: Uint8Array): void {
    this.word(value.length);
    for (let index = 0; index < value.length; index += 4) {
      this.word(
        (value[index]! << 24) |
          ((value[index + 1] ?? 0) << 16) |
          ((value[index + 2] ?? 0) << 8) |
          (value[index + 3] ?? 0),
      );
    }
  }

  /** A string as its length, then its UTF-16 code units two per word. */
  text(value: string): void {
    this.word(value.length);
    for (let index = 0; index < value.length; index += 2) {
      this.word((value.charCodeAt(index) << 16) | (value.charCodeAt(index + 1) || 0));
    }
  }

  digestInto(out: Int32Array): void {
    let lane1 = fmix32(this.#lane1 ^ this.#words);
    let lane2 = fmix32(this.#lane2 ^ this.#words);
    lane1 = (lane1 + lane2) | 0;
    lane2 = (lane2 + lane1) | 0;
    out[0] = lane1;
    out[1] = lane2;
  }
}

/** One hasher for every call: versionHashInto runs to completion, so reuse is safe. */
const sharedHasher = new Hasher64();

function mixWord(state: number, value: number): number {
  let k = Math.imul(value, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = state ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

const hashMask = (1n << 64n) - 1n;

/**
 * One partition's tree: leaf hashes, branch hashes and the root, each the XOR of the version
 * hashes below it. Laws, for any sequence of toggles:
 * ```text
 * leaf(l)   = ⊕ of the hashes toggled into l an odd number of times
 * branch(b) = ⊕ leaf(l) over the leaves l under b;  root() = ⊕ branch(b) over all b
 * toggle(l, h); toggle(l, h)  leaves the tree unchanged              (involution)
 * toggles commute: the tree depends only on the multiset of (leaf, hash) toggled
 * ```
 * So "XOR out the old version, XOR in the new" keeps the tree equal to a rebuild (Tictac AAE).
 */
export class MerkleTree {
  readonly shape: TreeShape;
  /** Each hash as two 32-bit words, high then low: no BigInt lives in a tree. */
  readonly #leaves: Uint32Array;
  readonly #branches: Uint32Array;
  readonly #root = new Uint32Array(2);
  readonly #leafCount: number;

  constructor(shape: TreeShape = DEFAULT_TREE_SHAPE) {
    if (!isValidTreeShape(shape)) {
      throw new Error(`invalid tree shape ${shape.branchCount} × ${shape.leavesPerBranch}`);
    }
    this.shape = shape;
    this.#leafCount = leafCount(shape);
    this.#leaves = new Uint32Array(2 * this.#leafCount);
    this.#branches = new Uint32Array(2 * shape.branchCount);
  }

  /** XORs `hash` (64 bits) into a leaf, its branch and the root: O(1). */
  toggle(leaf: number, hash: bigint): void {
    if (hash < 0n || hash > hashMask) throw new Error("a tree hash must be 64 bits");
    this.toggle32(leaf, Number(hash >> 32n), Number(hash & 0xffffffffn));
  }

  /** toggle with the hash as its high and low 32 bits: what the write path calls. */
  toggle32(leaf: number, high: number, low: number): void {
    if (!(Number.isInteger(leaf) && leaf >= 0 && leaf < this.#leafCount)) {
      throw new Error(`leaf ${leaf} outside 0..${this.#leafCount - 1}`);
    }
    const branch = branchOf(leaf, this.shape);
    const leaves = this.#leaves;
    const branches = this.#branches;
    const root = this.#root;
    leaves[2 * leaf] = leaves[2 * leaf]! ^ high;
    leaves[2 * leaf + 1] = leaves[2 * leaf + 1]! ^ low;
    branches[2 * branch] = branches[2 * branch]! ^ high;
    branches[2 * branch + 1] = branches[2 * branch + 1]! ^ low;
    root[0] = root[0]! ^ high;
    root[1] = root[1]! ^ low;
  }

  root(): bigint {
    return pairToHash(this.#root[0]!, this.#root[1]!);
  }

  leaf(leaf: number): bigint {
    if (!(leaf >= 0 && leaf < this.#leafCount)) return 0n;
    return pairToHash(this.#leaves[2 * leaf]!, this.#leaves[2 * leaf + 1]!);
  }

  /** Every branch hash, packed (HASH_BYTES each, big-endian, branch order). */
  branchHashes(): Uint8Array {
    return packPairs(this.#branches);
  }

  /** The leaf hashes under one branch, packed, in leaf order. */
  leafHashes(branch: number): Uint8Array {
    if (!(Number.isInteger(branch) && branch >= 0 && branch < this.shape.branchCount)) {
      throw new Error(`branch ${branch} outside 0..${this.shape.branchCount - 1}`);
    }
    const from = branch * this.shape.leavesPerBranch;
    return packPairs(this.#leaves.subarray(2 * from, 2 * (from + this.shape.leavesPerBranch)));
  }
}

/** Packs hashes stored as 32-bit word pairs (high, low), big-endian, HASH_BYTES each. */
function packPairs(words: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < words.length; index++)
    view.setUint32(index * 4, words[index]!, false);
  return bytes;
}

/** Packs 64-bit hashes into bytes, HASH_BYTES each, big-endian. */
export function packHashes(hashes: ArrayLike<bigint>): Uint8Array {
  const bytes = new Uint8Array(hashes.length * HASH_BYTES);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < hashes.length; index++) {
    view.setBigUint64(index * HASH_BYTES, hashes[index]!, false);
  }
  return bytes;
}

/** The `index`-th hash of packed bytes. */
export function unpackHash(bytes: Uint8Array, index: number): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getBigUint64(index * HASH_BYTES, false);
}

/**
 * The slots where two packed hash vectors differ, ascending. Both must hold the same number of
 * hashes. Law: `differingSlots(a, b)` is empty ⇔ a and b are equal byte for byte.
 */
export function differingSlots(a: Uint8Array, b: Uint8Array): number[] {
  if (a.length !== b.length || a.length % HASH_BYTES !== 0) {
    throw new Error(`hash vectors of ${a.length} and ${b.length} bytes cannot be compared`);
  }
  const slots: number[] = [];
  for (let slot = 0; slot * HASH_BYTES < a.length; slot++) {
    for (let offset = slot * HASH_BYTES; offset < (slot + 1) * HASH_BYTES; offset++) {
      if (a[offset] !== b[offset]) {
        slots.push(slot);
        break;
      }
    }
  }
  return slots;
}

/**
 * The leaves where two trees of one shape differ, found the way an exchange finds them: roots,
 * then branch hashes, then the leaf hashes of differing branches. Laws (up to 2^-64 hash
 * cancellations): the result is empty ⇔ the trees hold the same (key, version) multiset per
 * leaf; every key whose version differs between the trees lies in a returned leaf.
 */
export function diffTrees(a: MerkleTree, b: MerkleTree): number[] {
  if (
    a.shape.branchCount !== b.shape.branchCount ||
    a.shape.leavesPerBranch !== b.shape.leavesPerBranch
  ) {
    throw new Error("trees of different shapes cannot be compared");
  }
  if (a.root() === b.root()) return [];
  const leaves: number[] = [];
  for (const branch of differingSlots(a.branchHashes(), b.branchHashes())) {
    for (const slot of differingSlots(a.leafHashes(branch), b.leafHashes(branch))) {
      leaves.push(branch * a.shape.leavesPerBranch + slot);
    }
  }
  return leaves;
}
