// A (bucket, key) pair as one string, for Map keys and per-key locks. The bucket is
// length-prefixed so that no two pairs share a string.

/** Encodes (bucket, key) as a string usable as a Map key; inverse of {@link parseStorageKeyString}. */
export function storageKeyString(bucket: string, key: Uint8Array): string {
  return `${bucket.length}:${bucket}:${Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("base64")}`;
}

/** Decodes a string made by {@link storageKeyString}. */
export function parseStorageKeyString(id: string): { bucket: string; key: Uint8Array } {
  const colon = id.indexOf(":");
  const length = Number(id.slice(0, colon));
  const bucket = id.slice(colon + 1, colon + 1 + length);
  const key = new Uint8Array(Buffer.from(id.slice(colon + 2 + length), "base64"));
  return { bucket, key };
}
