// A (bucket, key) pair as one string, for Map keys and per-key locks: the bucket's length
// (UTF-16 units), ":", the bucket, then the key bytes as Latin-1 characters, one per byte.
// Injective because of the length prefix. The replica builds it once per operation and hands it
// to its listeners (tree maintenance, tombstone index), so a write builds it once.

/** Encodes (bucket, key) as a string usable as a Map key; inverse of {@link parseStorageKeyString}. */
export function storageKeyString(bucket: string, key: Uint8Array): string {
  return `${bucket.length}:${bucket}${Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1")}`;
}

/** Decodes a string made by {@link storageKeyString}. */
export function parseStorageKeyString(id: string): { bucket: string; key: Uint8Array } {
  const colon = id.indexOf(":");
  const length = Number(id.slice(0, colon));
  const bucket = id.slice(colon + 1, colon + 1 + length);
  return { bucket, key: new Uint8Array(Buffer.from(id.slice(colon + 1 + length), "latin1")) };
}
