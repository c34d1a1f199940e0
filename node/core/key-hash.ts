// Key hashing: where a (bucket, key) pair sits on the 160-bit SHA-1 ring and which of the Q
// equal partitions holds it. Pure: uses node:crypto for SHA-1 only.

import { hash } from "node:crypto";

import { isValidPartitionCount } from "./ring.js";

/** Bytes in a key hash (SHA-1), as in Riak's `chash`: the ring is the integers 0..2^160-1. */
export const keyHashBytes = 20;

/**
 * The position of (bucket, key) on the ring: SHA-1 of an unambiguous encoding of the pair, namely
 * the bucket's UTF-8 length as 4 bytes big-endian, the bucket's UTF-8 bytes, then the key bytes.
 * The length prefix is what makes the encoding injective: ("ab", "c") and ("a", "bc") differ.
 * Riak hashes the term `{Bucket, Key}` for the same reason (`chash:key_of/1`).
 * Returns 20 bytes, shared with later calls for the same key: callers must not modify them.
 */
export function keyHash(bucket: string, key: Uint8Array): Uint8Array {
  // One request hashes its key several times (routing at the edge and in the coordinator, the
  // context's fingerprint on the way in and out): the recent keys' hashes are kept. The cache
  // key is injective: the bucket's length, the bucket, then the key's bytes one char each.
  const id = `${bucket.length}:${bucket}${latin1(key)}`;
  const cached = recentHashes.get(id);
  if (cached !== undefined) return cached;
  const computed = computeKeyHash(bucket, key);
  if (recentHashes.size >= RECENT_HASHES_MAX) recentHashes.clear();
  recentHashes.set(id, computed);
  return computed;
}

/** Hashes kept by keyHash: a request's repeats hit, and the memory stays small (~0.5 MiB). */
const RECENT_HASHES_MAX = 4096;
const recentHashes = new Map<string, Uint8Array>();

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

function computeKeyHash(bucket: string, key: Uint8Array): Uint8Array {
  // One buffer and the one-shot crypto.hash: about twice as fast as a streaming Hash object.
  const bucketBytes = Buffer.byteLength(bucket, "utf8");
  const input = Buffer.allocUnsafe(4 + bucketBytes + key.length);
  input.writeUInt32BE(bucketBytes, 0);
  input.write(bucket, 4, "utf8");
  input.set(key, 4 + bucketBytes);
  const digest = hash("sha1", input, "buffer");
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
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
  const top32 = new DataView(hash.buffer, hash.byteOffset, 4).getUint32(0, false);
  return Math.floor((top32 * partitionCount) / 2 ** 32);
}

/** The partition of (bucket, key): `partitionOf(keyHash(bucket, key), partitionCount)`. */
export function partitionOfKey(bucket: string, key: Uint8Array, partitionCount: number): number {
  return partitionOf(keyHash(bucket, key), partitionCount);
}
