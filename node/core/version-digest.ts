// The digest of a digest read: a key's 64-bit anti-entropy version hash (version-hash.ts) as 8
// bytes. A coordinator that holds a copy sends its digest with each replica get; a replica whose
// copy has the same digest answers "same" instead of sending the object back. Pure.

import type { DvvSet } from "./dvv.js";
import { versionHashInto } from "./version-hash.js";

/** Bytes of a version digest. */
export const VERSION_DIGEST_BYTES = 8;

const scratch = new Int32Array(2);

/**
 * The digest of `object` stored under (bucket, key): the version hash over the key, the causal
 * context and the sibling dots. A dot names one write (a replica renews its actor whenever it
 * could otherwise reuse one: data loss, a storage rollback), so equal digests mean equal
 * objects. Two versions of one key collide with probability 2^-64; if they did, the read would
 * return the coordinator's version and skip repairing that replica until the key is written
 * again or anti-entropy, which compares the same hashes, finds another difference.
 */
export function versionDigest(bucket: string, key: Uint8Array, object: DvvSet): Uint8Array {
  versionHashInto(bucket, key, object, scratch);
  const digest = new Uint8Array(VERSION_DIGEST_BYTES);
  writeInt32(digest, 0, scratch[0]!);
  writeInt32(digest, 4, scratch[1]!);
  return digest;
}

/** True when `digest` is the digest of `object` under (bucket, key). */
export function digestMatches(
  digest: Uint8Array,
  bucket: string,
  key: Uint8Array,
  object: DvvSet,
): boolean {
  if (digest.length !== VERSION_DIGEST_BYTES) return false;
  versionHashInto(bucket, key, object, scratch);
  return readInt32(digest, 0) === scratch[0] && readInt32(digest, 4) === scratch[1];
}

function writeInt32(target: Uint8Array, at: number, value: number): void {
  target[at] = value >>> 24;
  target[at + 1] = (value >>> 16) & 0xff;
  target[at + 2] = (value >>> 8) & 0xff;
  target[at + 3] = value & 0xff;
}

function readInt32(source: Uint8Array, at: number): number {
  return (
    (source[at]! << 24) | (source[at + 1]! << 16) | (source[at + 2]! << 8) | source[at + 3]! | 0
  );
}
