// Goal: the Tictac tree's building blocks behave as their doc comments say.
// Method: table-driven cases on small shapes with hand-picked hashes.

import { describe, expect, it } from "vitest";
import {
  DEFAULT_TREE_SHAPE,
  HASH_BYTES,
  MerkleTree,
  branchOf,
  diffTrees,
  differingSlots,
  isValidTreeShape,
  leafCount,
  leafOf,
  packHashes,
  unpackHash,
} from "../../../../node/core/merkle-tree.js";
import { versionHash } from "../../../../node/core/version-hash.js";
import { keyHash, partitionOf } from "../../../../node/core/key-hash.js";
import { EMPTY_DVV_SET, update, type DvvSet } from "../../../../node/core/dvv.js";
import { EMPTY_CONTEXT } from "../../../../node/core/causal-context.js";

const small = { branchCount: 4, leavesPerBranch: 4 };
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function written(actor: string, value: string, on: DvvSet = EMPTY_DVV_SET): DvvSet {
  const version = {
    value: bytes(value),
    contentType: "",
    metadata: {},
    lastModifiedMs: 1,
    deleted: false,
  };
  return update(on, on.context, actor, version).object;
}

describe("MerkleTree", () => {
  it("toggle keeps leaf, branch and root the XOR of what was toggled", () => {
    const tree = new MerkleTree(small);
    tree.toggle(5, 0x0fn);
    tree.toggle(6, 0xf0n);
    tree.toggle(12, 0x100n);
    expect(tree.leaf(5)).toBe(0x0fn);
    expect(unpackHash(tree.branchHashes(), 1)).toBe(0xffn);
    expect(unpackHash(tree.branchHashes(), 3)).toBe(0x100n);
    expect(tree.root()).toBe(0x1ffn);
  });

  it("toggling the same hash twice restores the tree (XOR out the old version)", () => {
    const tree = new MerkleTree(small);
    tree.toggle(3, 0xdeadbeefcafebaben);
    tree.toggle(3, 0xdeadbeefcafebaben);
    expect(tree.root()).toBe(0n);
    expect(tree.branchHashes()).toEqual(new Uint8Array(4 * HASH_BYTES));
  });

  it.each([
    [-1, 1n],
    [16, 1n],
    [1.5, 1n],
    [0, -1n],
    [0, 1n << 64n],
  ])("refuses leaf %d with hash %d", (leaf, hash) => {
    expect(() => new MerkleTree(small).toggle(leaf, hash)).toThrow();
  });

  it("leafHashes returns the leaves of one branch in order", () => {
    const tree = new MerkleTree(small);
    tree.toggle(8, 7n);
    tree.toggle(11, 9n);
    const leaves = tree.leafHashes(2);
    expect([0, 1, 2, 3].map((slot) => unpackHash(leaves, slot))).toEqual([7n, 0n, 0n, 9n]);
    expect(() => tree.leafHashes(4)).toThrow();
  });
});

describe("tree shape", () => {
  it.each([
    [{ branchCount: 32, leavesPerBranch: 32 }, true],
    [{ branchCount: 1, leavesPerBranch: 1 }, true],
    [{ branchCount: 1024, leavesPerBranch: 1024 }, true],
    [{ branchCount: 3, leavesPerBranch: 32 }, false],
    [{ branchCount: 2048, leavesPerBranch: 1 }, false],
    [{ branchCount: 0, leavesPerBranch: 4 }, false],
  ])("%o valid: %s", (shape, valid) => {
    expect(isValidTreeShape(shape)).toBe(valid);
  });

  it("the default has 1,024 leaves", () => {
    expect(leafCount(DEFAULT_TREE_SHAPE)).toBe(1024);
    expect(branchOf(1023, DEFAULT_TREE_SHAPE)).toBe(31);
  });
});

describe("leafOf", () => {
  it("reads bytes 4..7 of the key hash, below the leaf count", () => {
    const hash = new Uint8Array(20);
    hash.set([0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0x23]);
    expect(leafOf(hash, DEFAULT_TREE_SHAPE)).toBe(0x123);
    expect(leafOf(hash, small)).toBe(0x3);
  });

  it("spreads the keys of one partition over every leaf", () => {
    const seen = new Set<number>();
    for (let index = 0; index < 20_000; index++) {
      const hash = keyHash("b", bytes(`k${index}`));
      if (partitionOf(hash, 4) === 0)
        seen.add(leafOf(hash, { branchCount: 8, leavesPerBranch: 8 }));
    }
    expect(seen.size).toBe(64);
  });
});

describe("versionHash", () => {
  // Nodes of two builds compare these hashes in exchanges: a change to the words hashed is a
  // change of format. The values were computed before the no-sort path for cloudless contexts.
  it("gives the pinned values, whatever the order of the vv map", () => {
    const sibling = (actor: string, counter: number): DvvSet["siblings"][number] => ({
      dot: { actor, counter },
      value: bytes("v"),
      contentType: "",
      metadata: {},
      lastModifiedMs: 1,
      deleted: false,
    });
    const siblings = [sibling("n1", 3), sibling("n2", 1)];
    const vv = (entries: [string, number][]): Map<string, number> => new Map(entries);
    const hex = (object: DvvSet): string => versionHash("b", bytes("k"), object).toString(16);
    const cloudless = {
      context: {
        vv: vv([
          ["n1", 3],
          ["n2", 1],
        ]),
        cloud: [],
      },
      siblings,
    };
    const reversed = {
      context: {
        vv: vv([
          ["n2", 1],
          ["n1", 3],
        ]),
        cloud: [],
      },
      siblings,
    };
    const clouded: DvvSet = {
      context: {
        vv: vv([["n1", 3]]),
        cloud: [
          { actor: "n1", counter: 5 },
          { actor: "n2", counter: 4 },
        ],
      },
      siblings: [sibling("n1", 5), sibling("n2", 4)],
    };
    expect(hex(cloudless)).toBe("2edf2457fb64098f");
    expect(hex(reversed)).toBe("2edf2457fb64098f");
    expect(hex(clouded)).toBe("2a9997c29972346b");
  });

  const one = written("a", "x");
  it("is equal for equal key and object", () => {
    expect(versionHash("b", bytes("k"), one)).toBe(versionHash("b", bytes("k"), written("a", "x")));
  });

  it.each([
    ["another key", () => versionHash("b", bytes("k2"), one)],
    ["another bucket", () => versionHash("c", bytes("k"), one)],
    ["a newer write", () => versionHash("b", bytes("k"), written("a", "y", one))],
    ["another actor", () => versionHash("b", bytes("k"), written("z", "x"))],
  ])("differs for %s", (_name, other) => {
    expect(other()).not.toBe(versionHash("b", bytes("k"), one));
  });

  it("differs when the context is equal but the sibling dots are not", () => {
    const version = {
      value: bytes("y"),
      contentType: "",
      metadata: {},
      lastModifiedMs: 1,
      deleted: false,
    };
    const concurrent = update(one, EMPTY_CONTEXT, "b", version).object;
    expect(concurrent.siblings).toHaveLength(2);
    const superseded = { context: concurrent.context, siblings: concurrent.siblings.slice(1) };
    expect(versionHash("b", bytes("k"), concurrent)).not.toBe(
      versionHash("b", bytes("k"), superseded),
    );
  });

  it.each([
    ["ab", "c"],
    ["a", "bc"],
  ])("binds bucket and key unambiguously (%s, %s)", (bucket, key) => {
    expect(versionHash(bucket, bytes(key), one)).not.toBe(versionHash("abc", bytes(""), one));
  });

  it("does not depend on the order of actors in the context's map", () => {
    const two = written("b", "y", one);
    const reordered = {
      ...two,
      context: { ...two.context, vv: new Map([...two.context.vv].reverse()) },
    };
    expect(versionHash("b", bytes("k"), reordered)).toBe(versionHash("b", bytes("k"), two));
  });

  it("ignores the value bytes (one dot is one write)", () => {
    const other = { ...one, siblings: [{ ...one.siblings[0]!, value: bytes("changed") }] };
    expect(versionHash("b", bytes("k"), other)).toBe(versionHash("b", bytes("k"), one));
  });
});

describe("packed hashes", () => {
  it("round-trip big-endian", () => {
    const packed = packHashes([1n, 0xffffffffffffffffn]);
    expect([...packed.subarray(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(unpackHash(packed, 1)).toBe(0xffffffffffffffffn);
  });

  it.each([
    [[1n, 2n, 3n], [1n, 2n, 3n], []],
    [[1n, 2n, 3n], [1n, 5n, 3n], [1]],
    [
      [1n, 2n, 3n],
      [0n, 2n, 4n],
      [0, 2],
    ],
    [[], [], []],
  ])("differingSlots(%o, %o) = %o", (a, b, slots) => {
    expect(differingSlots(packHashes(a), packHashes(b))).toEqual(slots);
  });

  it("refuses vectors of different lengths", () => {
    expect(() => differingSlots(packHashes([1n]), packHashes([1n, 2n]))).toThrow();
  });
});

describe("diffTrees", () => {
  it("is empty for equal trees and names exactly the leaves that differ", () => {
    const a = new MerkleTree(small);
    const b = new MerkleTree(small);
    for (const tree of [a, b]) {
      tree.toggle(1, 11n);
      tree.toggle(9, 99n);
    }
    expect(diffTrees(a, b)).toEqual([]);
    a.toggle(2, 5n);
    b.toggle(14, 6n);
    b.toggle(15, 7n);
    expect(diffTrees(a, b)).toEqual([2, 14, 15]);
  });

  it("refuses trees of different shapes", () => {
    expect(() => diffTrees(new MerkleTree(small), new MerkleTree(DEFAULT_TREE_SHAPE))).toThrow();
  });
});
