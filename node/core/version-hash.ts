// The 64-bit version hash one key contributes to its anti-entropy tree leaf (merkle-tree.ts) and
// to a digest read (version-digest.ts): two MurmurHash3 lanes over the bucket, key, causal context
// and sibling dots. Pure: no IO, no clock, no randomness.

import type { DvvSet } from "./dvv.js";
import { ascending, compareStrings } from "./causal-context.js";

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
  if (cloud.length === 0 && ascending(vv)) {
    // The usual context: the same words as below, without collecting and sorting the actors.
    hasher.word(vv.size);
    vv.forEach((counter, actor) => {
      hasher.text(actor);
      hasher.counter(counter);
      hasher.word(0);
    });
    hashSiblingDots(hasher, object);
    hasher.digestInto(out);
    return;
  }
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
  hashSiblingDots(hasher, object);
  hasher.digestInto(out);
}

function hashSiblingDots(hasher: Hasher64, object: DvvSet): void {
  hasher.word(object.siblings.length);
  for (const { dot } of object.siblings) {
    hasher.text(dot.actor);
    hasher.counter(dot.counter);
  }
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
