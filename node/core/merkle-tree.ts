// Tictac-style Merkle trees for anti-entropy (DESIGN §5; Riak's kv_index_tictactree): a fixed
// tree of branches over leaves whose hashes combine with XOR, so a write updates it in O(1), the
// leaf a key falls in, and the diff of two trees. The leaves hold version-hash.ts's hashes. Pure.

import { pairToHash } from "./version-hash.js";

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
