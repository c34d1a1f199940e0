// The opaque client context as it travels over the public API: the key's identity, then the
// encoded causal context. Binding a context to its key stops a context read from one key from
// being absorbed into another, where it would cover dots that key has not seen and silently
// supersede later writes. Pure.

import { keyHash } from "./key-hash.js";
import type { CausalContext } from "./causal-context.js";
import { decodeContext, encodeContext } from "./object-codec.js";

/** Bytes of the key fingerprint at the start of every client context. */
const FINGERPRINT_BYTES = 8;

/** The client context for (bucket, key). */
export function encodeKeyContext(
  bucket: string,
  key: Uint8Array,
  context: CausalContext,
): Uint8Array {
  const body = encodeContext(context);
  const bytes = new Uint8Array(FINGERPRINT_BYTES + body.length);
  bytes.set(keyHash(bucket, key).subarray(0, FINGERPRINT_BYTES), 0);
  bytes.set(body, FINGERPRINT_BYTES);
  return bytes;
}

/** Decodes a client context for (bucket, key); a reason when it is malformed or not this key's. */
export function decodeKeyContext(
  bucket: string,
  key: Uint8Array,
  bytes: Uint8Array,
): { ok: true; context: CausalContext } | { ok: false; reason: string } {
  if (bytes.length < FINGERPRINT_BYTES + 1) {
    return { ok: false, reason: `${bytes.length} bytes is too short for a context` };
  }
  const fingerprint = keyHash(bucket, key);
  for (let index = 0; index < FINGERPRINT_BYTES; index++) {
    if (bytes[index] !== fingerprint[index]) {
      return { ok: false, reason: "it belongs to a different bucket or key" };
    }
  }
  return decodeContext(bytes.subarray(FINGERPRINT_BYTES));
}
