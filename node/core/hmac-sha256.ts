// HMAC-SHA256 (FIPS 198-1, RFC 2104) with one key's padded blocks absorbed once, for the
// context seal (key-context.ts). Pure: node:crypto for long messages only.
//
// A short message (up to SHORT_MESSAGE_BYTES_MAX) costs three SHA-256 blocks in JavaScript
// (sha256.ts): the inner hash's one or two, the outer hash's one; the key's ipad and opad
// blocks were absorbed when the key was made. Longer ones go to node:crypto, whose per-byte
// speed wins there. Both give the same bytes.

import { createHmac } from "node:crypto";
import {
  SHA256_BLOCK_BYTES,
  SHA256_BYTES,
  sha256,
  sha256Block,
  sha256Finish,
  sha256Start,
} from "./sha256.js";

/** Messages up to this many bytes are MACed in JavaScript, longer ones by node:crypto. */
export const SHORT_MESSAGE_BYTES_MAX = 512;

/** The inner hash of the message in progress; one call runs at a time (no await inside). */
const innerDigest = new Uint8Array(SHA256_BYTES);

/** One HMAC-SHA256 key, ready to MAC many messages. */
export class HmacSha256 {
  readonly #secret: Uint8Array;
  /** SHA-256 state after the block (K0 xor ipad). */
  readonly #inner: Int32Array;
  /** SHA-256 state after the block (K0 xor opad). */
  readonly #outer: Int32Array;

  constructor(secret: Uint8Array) {
    this.#secret = Uint8Array.from(secret);
    // K0: the key padded with zeros to a block, or its digest padded when longer than a block.
    const padded = new Uint8Array(SHA256_BLOCK_BYTES);
    padded.set(secret.length > SHA256_BLOCK_BYTES ? sha256(secret) : secret);
    const block = new Uint8Array(SHA256_BLOCK_BYTES);
    for (let at = 0; at < SHA256_BLOCK_BYTES; at++) block[at] = padded[at]! ^ 0x36;
    this.#inner = sha256Start();
    sha256Block(this.#inner, block, 0);
    for (let at = 0; at < SHA256_BLOCK_BYTES; at++) block[at] = padded[at]! ^ 0x5c;
    this.#outer = sha256Start();
    sha256Block(this.#outer, block, 0);
  }

  /**
   * Writes the first `outBytes` (default all 32) of HMAC-SHA256(key, message[0, length)) to
   * `out` at `outOffset`.
   */
  macInto(
    message: Uint8Array,
    length: number,
    out: Uint8Array,
    outOffset: number,
    outBytes: number = SHA256_BYTES,
  ): void {
    if (!(Number.isSafeInteger(length) && length >= 0 && length <= message.length)) {
      throw new Error(`hmac: length ${length} outside 0..${message.length}`);
    }
    const fits = Number.isInteger(outOffset) && outOffset >= 0 && Number.isInteger(outBytes);
    if (!(
      fits &&
      outBytes >= 0 &&
      outBytes <= SHA256_BYTES &&
      outOffset + outBytes <= out.length
    )) {
      throw new Error(`hmac: ${outBytes} bytes do not fit at ${outOffset} of ${out.length}`);
    }
    if (length > SHORT_MESSAGE_BYTES_MAX) {
      const digest = createHmac("sha256", this.#secret)
        .update(message.subarray(0, length))
        .digest();
      out.set(digest.subarray(0, outBytes), outOffset);
      return;
    }
    sha256Finish(this.#inner, SHA256_BLOCK_BYTES, message, length, innerDigest, 0);
    sha256Finish(
      this.#outer,
      SHA256_BLOCK_BYTES,
      innerDigest,
      SHA256_BYTES,
      out,
      outOffset,
      outBytes,
    );
  }

  /** HMAC-SHA256(key, message) as a new 32-byte array. */
  mac(message: Uint8Array): Uint8Array {
    const out = new Uint8Array(SHA256_BYTES);
    this.macInto(message, message.length, out, 0);
    return out;
  }
}
