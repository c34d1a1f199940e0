// Key hashing: where a (bucket, key) pair sits on the 160-bit SHA-1 ring and which of the Q
// equal partitions holds it. Pure: SHA-1 in JavaScript (sha1.ts) for short keys, node:crypto's
// for long ones.

import { hash } from "node:crypto";

import { isValidPartitionCount } from "./ring.js";
import { sha1, sha1Top32 } from "./sha1.js";

/** Bytes in a key hash (SHA-1), as in Riak's `chash`: the ring is the integers 0..2^160-1. */
export const keyHashBytes = 20;

/**
 * Inputs up to this many bytes are hashed in JavaScript (sha1.ts: ~0.35 µs for a short key,
 * against ~0.9 µs for a native call, whose fixed cost dominates short inputs); longer ones by
 * node:crypto, whose SHA-1 instructions win once there are a few blocks.
 */
const JS_HASH_BYTES_MAX = 512;
/** Where short inputs are laid out: one hash runs at a time (no await in between). */
const inputScratch = Buffer.allocUnsafe(JS_HASH_BYTES_MAX);

/**
 * The position of (bucket, key) on the ring: SHA-1 of an unambiguous encoding of the pair, namely
 * the bucket's UTF-8 length as 4 bytes big-endian, the bucket's UTF-8 bytes, then the key bytes.
 * The length prefix is what makes the encoding injective: ("ab", "c") and ("a", "bc") differ.
 * Riak hashes the term `{Bucket, Key}` for the same reason (`chash:key_of/1`).
 * Returns a new 20-byte array.
 *
 * No cache of recent keys: a short key hashes in ~0.35 µs, about what a cache hit cost
 * (building the lookup string and a map lookup), and a miss cost three times as much.
 */
export function keyHash(bucket: string, key: Uint8Array): Uint8Array {
  const length = writeShortInput(bucket, key);
  if (length <= JS_HASH_BYTES_MAX) return sha1(inputScratch, length);
  const input = Buffer.allocUnsafe(length);
  writeInput(input, bucket, key);
  const digest = hash("sha1", input, "buffer");
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/**
 * The length of the encoding keyHash hashes; when it fits the scratch buffer (the usual case),
 * the encoding is written there.
 */
function writeShortInput(bucket: string, key: Uint8Array): number {
  const length = 4 + Buffer.byteLength(bucket, "utf8") + key.length;
  if (length <= JS_HASH_BYTES_MAX) writeInput(inputScratch, bucket, key);
  return length;
}

function writeInput(input: Buffer, bucket: string, key: Uint8Array): void {
  const bucketBytes = input.write(bucket, 4, "utf8");
  input.writeUInt32BE(bucketBytes, 0);
  input.set(key, 4 + bucketBytes);
}

/**
 * The partition holding a hash: the hash read as a big-endian 160-bit integer h, partition =
 * floor(h * Q / 2^160). With Q a power of two (the only counts allowed, Dynamo §6.2 strategy 3)
 * this is the top log2(Q) bits of the hash, so partition p covers [p·2^160/Q, (p+1)·2^160/Q).
 * Riak instead gives a hash to the partition whose boundary is the next one clockwise; both are
 * fixed, equal splits of the ring, ours just reads more directly.
 *
 * Law: monotone in h, and every partition receives exactly 2^160/Q hashes.
 */
export function partitionOf(hash: Uint8Array, partitionCount: number): number {
  if (hash.length !== keyHashBytes)
    throw new Error(`key hash must be 20 bytes, got ${hash.length}`);
  if (!isValidPartitionCount(partitionCount)) {
    throw new Error(`partition count must be a power of two in 1..4096, got ${partitionCount}`);
  }
  // Q = 2^k with k ≤ 12, so the top 32 bits decide: floor(h·Q/2^160) = floor(top32·Q/2^32).
  const top32 = ((hash[0]! << 24) | (hash[1]! << 16) | (hash[2]! << 8) | hash[3]!) >>> 0;
  return Math.floor((top32 * partitionCount) / 2 ** 32);
}

/** The partition of (bucket, key): `partitionOf(keyHash(bucket, key), partitionCount)`. */
export function partitionOfKey(bucket: string, key: Uint8Array, partitionCount: number): number {
  const length = writeShortInput(bucket, key);
  if (length > JS_HASH_BYTES_MAX || !isValidPartitionCount(partitionCount)) {
    return partitionOf(keyHash(bucket, key), partitionCount);
  }
  // The first 32 bits decide (partitionOf), read without a digest array or a DataView.
  return Math.floor((sha1Top32(inputScratch, length) * partitionCount) / 2 ** 32);
}
