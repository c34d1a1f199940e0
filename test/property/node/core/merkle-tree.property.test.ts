// Goal: the laws of the Tictac tree (node/core/merkle-tree.ts): the diff is empty exactly when
// the key/version sets are equal, it covers every changed key, and incremental maintenance
// (XOR out the old version, XOR in the new) equals a rebuild after any sequence of puts and
// deletes.
// Method: fast-check over key → version maps on a small tree (4 × 4 leaves, so leaves hold
// several keys and cancellations inside a leaf are exercised) and the default shape.

import { createHash } from "node:crypto";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { keyHash } from "../../../../node/core/key-hash.js";
import {
  DEFAULT_TREE_SHAPE,
  MerkleTree,
  diffTrees,
  leafCount,
  leafOf,
  type TreeShape,
} from "../../../../node/core/merkle-tree.js";

const RUNS = { numRuns: 300 };
const SMALL: TreeShape = { branchCount: 4, leavesPerBranch: 4 };
const SHAPES = fc.constantFrom(SMALL, DEFAULT_TREE_SHAPE);

type Versions = Map<number, number>;

const leafCache = new Map<string, number>();
function leafOfKey(key: number, shape: TreeShape): number {
  const id = `${key}/${shape.branchCount}`;
  let leaf = leafCache.get(id);
  if (leaf === undefined) {
    leaf = leafOf(keyHash("b", new TextEncoder().encode(`k${key}`)), shape);
    leafCache.set(id, leaf);
  }
  return leaf;
}

/** A stand-in for versionHash: 64 bits of SHA-256 over (key, version). */
function hashOf(key: number, version: number): bigint {
  return createHash("sha256").update(`${key}/${version}`).digest().readBigUInt64BE(0);
}

function build(versions: Versions, shape: TreeShape): MerkleTree {
  const tree = new MerkleTree(shape);
  for (const [key, version] of versions) tree.toggle(leafOfKey(key, shape), hashOf(key, version));
  return tree;
}

function sameTrees(a: MerkleTree, b: MerkleTree): boolean {
  if (a.root() !== b.root()) return false;
  for (let leaf = 0; leaf < leafCount(a.shape); leaf++)
    if (a.leaf(leaf) !== b.leaf(leaf)) return false;
  return Buffer.from(a.branchHashes()).equals(Buffer.from(b.branchHashes()));
}

const versionsArbitrary = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 3 })), {
    maxLength: 40,
  })
  .map((pairs) => new Map(pairs));

/** Edits turning one map into another: set a version, or remove the key. */
const editsArbitrary = fc.array(
  fc.tuple(
    fc.integer({ min: 0, max: 60 }),
    fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  ),
  { maxLength: 12 },
);

function edited(versions: Versions, edits: readonly [number, number | undefined][]): Versions {
  const result = new Map(versions);
  for (const [key, version] of edits) {
    if (version === undefined) result.delete(key);
    else result.set(key, version);
  }
  return result;
}

function sameVersions(a: Versions, b: Versions): boolean {
  return a.size === b.size && [...a].every(([key, version]) => b.get(key) === version);
}

describe("merkle tree laws", () => {
  test.prop([versionsArbitrary, editsArbitrary, SHAPES], RUNS)(
    "the diff is empty iff the key/version sets are equal",
    (versions, edits, shape) => {
      const other = edited(versions, edits);
      const diff = diffTrees(build(versions, shape), build(other, shape));
      expect(diff.length === 0).toBe(sameVersions(versions, other));
    },
  );

  test.prop([versionsArbitrary, editsArbitrary, SHAPES], RUNS)(
    "the diff covers every changed key",
    (versions, edits, shape) => {
      const other = edited(versions, edits);
      const diff = new Set(diffTrees(build(versions, shape), build(other, shape)));
      for (const key of new Set([...versions.keys(), ...other.keys()])) {
        if (versions.get(key) !== other.get(key))
          expect(diff.has(leafOfKey(key, shape))).toBe(true);
      }
    },
  );

  test.prop([editsArbitrary, editsArbitrary, SHAPES], RUNS)(
    "incremental maintenance equals a rebuild after any sequence of puts and deletes",
    (first, second, shape) => {
      const tree = new MerkleTree(shape);
      const model: Versions = new Map();
      for (const [key, version] of [...first, ...second]) {
        const old = model.get(key);
        if (old !== undefined) tree.toggle(leafOfKey(key, shape), hashOf(key, old));
        if (version === undefined) model.delete(key);
        else {
          model.set(key, version);
          tree.toggle(leafOfKey(key, shape), hashOf(key, version));
        }
      }
      expect(sameTrees(tree, build(model, shape))).toBe(true);
    },
  );

  test.prop([versionsArbitrary, SHAPES], RUNS)(
    "a tree does not depend on the order keys were added",
    (versions, shape) => {
      const reversed = new Map([...versions].reverse());
      expect(sameTrees(build(versions, shape), build(reversed, shape))).toBe(true);
    },
  );
});
