// The opaque client context as it travels over the public API: the encoded causal context,
// bound to its key and, on a cluster with a key, sealed with an HMAC the client cannot forge.
// Pure: node:crypto for hashing only.
//
// Why sealed: a context is absorbed into the stored object by the next write, so a forged one
// could claim dots an actor has not issued yet (covering, and so silently superseding, writes
// that are still to come), counters near 2^53 that make every later write overflow, or
// thousands of made-up actors. Only contexts the cluster handed out are accepted.
//
//   sealed   = 0xA5 keyId(4, big-endian) tag(16) body      on a cluster with a key
//   unsealed = fingerprint(8) body                          --insecure nodes
//   tag      = HMAC-SHA256(secret, "dkv-context-v1" ‖ u32(|bucket|) ‖ bucket ‖ u32(|key|) ‖
//              key ‖ body)[0..16]
//   body     = encodeContext(context)                      (object-codec.ts)
//
// Binding to (bucket, key) stops a context read from one key from being absorbed into another.

import { createHash } from "node:crypto";
import { HmacSha256, SHORT_MESSAGE_BYTES_MAX } from "./hmac-sha256.js";
import { keyHash } from "./key-hash.js";
import type { CausalContext } from "./causal-context.js";
import { encodeContext } from "./object-codec.js";
import { decodeContext } from "./object-decode.js";
import { CONTEXT_COUNTER_MAX } from "./limits.js";

/** Bytes of the key fingerprint at the start of an unsealed context. */
const FINGERPRINT_BYTES = 8;
/** The first byte of a sealed context. */
const SEALED_MARKER = 0xa5;
const KEY_ID_BYTES = 4;
/** 128 bits of HMAC-SHA256: forging one takes 2^128 guesses (NIST SP 800-107 allows truncation). */
const TAG_BYTES = 16;
const SEALED_HEADER_BYTES = 1 + KEY_ID_BYTES + TAG_BYTES;
/** Shortest cluster key accepted: 128 bits. */
export const CONTEXT_KEY_BYTES_MIN = 16;
/** Most keys a ring holds at once (the signing key and the ones still accepted). */
export const CONTEXT_KEYS_MAX = 16;
const TAG_DOMAIN = Buffer.from("dkv-context-v1", "utf8");
/** Actor ids are node ids (node-id.ts) with an incarnation suffix. */
const ACTOR_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

/** One cluster key: its secret and the id contexts sealed with it carry. */
interface ContextKey {
  readonly id: number;
  /** HMAC-SHA256 keyed with the secret, its padded blocks absorbed once. */
  readonly hmac: HmacSha256;
}

/**
 * The cluster keys a node seals and opens contexts with. The first key seals; every key opens,
 * so a key can be rotated in without refusing the contexts clients still hold: add the new key
 * second on every node, then move it first, then drop the old one.
 */
export interface ContextKeys {
  readonly signing: ContextKey;
  readonly byId: ReadonlyMap<number, ContextKey>;
}

/**
 * The keys, signing key first. A key's id is the first 4 bytes of SHA-256 of its secret, so
 * every node derives the same ids from the same secrets. Returns a reason when a secret is too
 * short, two secrets share an id, or there are none or too many.
 */
export function contextKeysOf(
  secrets: readonly Uint8Array[],
):
  | { readonly ok: true; readonly keys: ContextKeys }
  | { readonly ok: false; readonly reason: string } {
  if (secrets.length === 0) return { ok: false, reason: "no key given" };
  if (secrets.length > CONTEXT_KEYS_MAX) {
    return { ok: false, reason: `${secrets.length} keys, at most ${CONTEXT_KEYS_MAX}` };
  }
  const byId = new Map<number, ContextKey>();
  for (const [index, secret] of secrets.entries()) {
    if (secret.length < CONTEXT_KEY_BYTES_MIN) {
      return {
        ok: false,
        reason: `key ${index + 1} is ${secret.length} bytes, at least ${CONTEXT_KEY_BYTES_MIN} needed`,
      };
    }
    const id = createHash("sha256").update(secret).digest().readUInt32BE(0);
    if (byId.has(id)) return { ok: false, reason: `key ${index + 1} is given twice` };
    byId.set(id, { id, hmac: new HmacSha256(secret) });
  }
  const signing = byId.values().next().value as ContextKey;
  return { ok: true, keys: { signing, byId } };
}

/** The client context for (bucket, key): sealed when `keys` is given, else fingerprinted. */
export function encodeKeyContext(
  bucket: string,
  key: Uint8Array,
  context: CausalContext,
  keys?: ContextKeys,
): Uint8Array {
  const body = encodeContext(context);
  if (keys === undefined) {
    const bytes = new Uint8Array(FINGERPRINT_BYTES + body.length);
    bytes.set(keyHash(bucket, key).subarray(0, FINGERPRINT_BYTES), 0);
    bytes.set(body, FINGERPRINT_BYTES);
    return bytes;
  }
  const bytes = Buffer.allocUnsafe(SEALED_HEADER_BYTES + body.length);
  bytes[0] = SEALED_MARKER;
  bytes.writeUInt32BE(keys.signing.id, 1);
  tagInto(keys.signing.hmac, bucket, key, body, bytes, 1 + KEY_ID_BYTES);
  bytes.set(body, SEALED_HEADER_BYTES);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes a client context for (bucket, key), or says why it is refused: malformed, another
 * key's, not sealed by this cluster (when `keys` is given), or carrying an actor id or counter
 * no real context can hold.
 */
export function decodeKeyContext(
  bucket: string,
  key: Uint8Array,
  bytes: Uint8Array,
  keys?: ContextKeys,
): { ok: true; context: CausalContext } | { ok: false; reason: string } {
  const body =
    keys === undefined ? fingerprinted(bucket, key, bytes) : sealed(bucket, key, bytes, keys);
  if (!body.ok) return body;
  const decoded = decodeContext(body.body);
  if (!decoded.ok) return decoded;
  const insane = implausible(decoded.context);
  return insane === undefined ? decoded : { ok: false, reason: insane };
}

type Body =
  | { readonly ok: true; readonly body: Uint8Array }
  | { readonly ok: false; readonly reason: string };

function fingerprinted(bucket: string, key: Uint8Array, bytes: Uint8Array): Body {
  if (bytes.length < FINGERPRINT_BYTES + 1) {
    return { ok: false, reason: `${bytes.length} bytes is too short for a context` };
  }
  const fingerprint = keyHash(bucket, key);
  for (let index = 0; index < FINGERPRINT_BYTES; index++) {
    if (bytes[index] !== fingerprint[index]) {
      return { ok: false, reason: "it belongs to a different bucket or key" };
    }
  }
  return { ok: true, body: bytes.subarray(FINGERPRINT_BYTES) };
}

function sealed(bucket: string, key: Uint8Array, bytes: Uint8Array, keys: ContextKeys): Body {
  if (bytes.length < SEALED_HEADER_BYTES + 1 || bytes[0] !== SEALED_MARKER) {
    return { ok: false, reason: "it was not issued by this cluster (no seal)" };
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signer = keys.byId.get(view.readUInt32BE(1));
  if (signer === undefined) {
    return { ok: false, reason: "it is sealed with a key this cluster does not hold" };
  }
  const body = bytes.subarray(SEALED_HEADER_BYTES);
  tagInto(signer.hmac, bucket, key, body, expectedTag, 0);
  // Every byte is compared, whatever differs first: the time taken tells nothing of the tag.
  let difference = 0;
  for (let at = 0; at < TAG_BYTES; at++)
    difference |= bytes[1 + KEY_ID_BYTES + at]! ^ expectedTag[at]!;
  if (difference !== 0) {
    return { ok: false, reason: "its seal does not match (altered, or another bucket or key's)" };
  }
  return { ok: true, body };
}

/** The tag a context's seal must carry; one call runs at a time (no await inside). */
const expectedTag = new Uint8Array(TAG_BYTES);
/** The message a tag covers, built here whenever it fits. */
const tagMessage = Buffer.allocUnsafe(SHORT_MESSAGE_BYTES_MAX);

/** Writes the tag of (bucket, key, body) to `out` at `outOffset`: the header's formula. */
function tagInto(
  hmac: HmacSha256,
  bucket: string,
  key: Uint8Array,
  body: Uint8Array,
  out: Uint8Array,
  outOffset: number,
): void {
  const bucketBytes = Buffer.byteLength(bucket, "utf8");
  const length = TAG_DOMAIN.length + 4 + bucketBytes + 4 + key.length + body.length;
  const message = length <= tagMessage.length ? tagMessage : Buffer.allocUnsafe(length);
  let at = TAG_DOMAIN.copy(message, 0);
  at = message.writeUInt32BE(bucketBytes, at);
  const written = message.write(bucket, at, "utf8");
  if (written !== bucketBytes) throw new Error(`bucket encoded to ${written}, not ${bucketBytes}`);
  at += written;
  at = message.writeUInt32BE(key.length, at);
  message.set(key, at);
  message.set(body, at + key.length);
  hmac.macInto(message, length, out, outOffset, TAG_BYTES);
}

/**
 * Checks what can be checked without a key: actor ids well formed and counters within
 * CONTEXT_COUNTER_MAX. A context the cluster sealed passes (it only issues real dots); an
 * unsealed one on an --insecure node can be forged, and these bounds keep it from breaking the
 * key (an overflowing counter), though not from covering dots still to come.
 */
function implausible(context: CausalContext): string | undefined {
  for (const [actor, counter] of context.vv) {
    const bad = badDot(actor, counter);
    if (bad !== undefined) return bad;
  }
  for (const dot of context.cloud) {
    const bad = badDot(dot.actor, dot.counter);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function badDot(actor: string, counter: number): string | undefined {
  if (!ACTOR_PATTERN.test(actor)) {
    return `actor id ${JSON.stringify(actor.slice(0, 40))} is not a node's (1-128 of A-Z a-z 0-9 _ . -)`;
  }
  if (counter > CONTEXT_COUNTER_MAX) {
    return `counter ${counter} of actor ${actor} is over the limit of ${CONTEXT_COUNTER_MAX}`;
  }
  return undefined;
}

/**
 * The causal context inside a context this cluster issued, without checking its seal or key:
 * for test tooling and checkers that read what a reply's context covers. Never for input.
 */
export function unverifiedContextOf(
  bytes: Uint8Array,
): { ok: true; context: CausalContext } | { ok: false; reason: string } {
  const sealedBody = bytes.length > SEALED_HEADER_BYTES && bytes[0] === SEALED_MARKER;
  if (sealedBody) {
    const decoded = decodeContext(bytes.subarray(SEALED_HEADER_BYTES));
    if (decoded.ok) return decoded;
  }
  return decodeContext(bytes.subarray(FINGERPRINT_BYTES));
}
