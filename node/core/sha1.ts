// SHA-1 (FIPS 180-4 §6.1) in plain JavaScript, for the ring's key hash (key-hash.ts). Pure.
//
// Why not node:crypto: a key is hashed on every write by the coordinator and by each replica
// that has not seen it yet, and a key is short (one or two 64-byte blocks). For such inputs the
// fixed cost of a native call (OpenSSL 3 fetches the digest and makes a context per call) is
// most of the work: `crypto.hash("sha1")` took 0.8–1.0 µs per key here, this 0.33–0.37 µs.
// Outputs are the same bytes; a property test checks it against node:crypto.

/** Bytes of a SHA-1 digest. */
export const SHA1_BYTES = 20;

const BLOCK_BYTES = 64;
/** The message schedule, reused by every call (one call runs at a time: no await inside). */
const schedule = new Int32Array(80);
/** The last one or two blocks: the message's tail, the 0x80 byte, zeros and the bit length. */
const tail = new Uint8Array(2 * BLOCK_BYTES);
const state = new Int32Array(5);

/** SHA-1 of `bytes[0, length)` (default: all of it), as a new 20-byte array. */
export function sha1(bytes: Uint8Array, length: number = bytes.length): Uint8Array {
  digestState(bytes, length);
  const digest = new Uint8Array(SHA1_BYTES);
  for (let word = 0; word < 5; word++) writeUint32(digest, 4 * word, state[word]!);
  return digest;
}

/**
 * The first 32 bits of SHA-1 of `bytes[0, length)`, big-endian, as an unsigned integer: what
 * the ring's partition of a key is read from (key-hash.ts), with no digest array to allocate.
 * Law: sha1Top32(b, n) = the first four bytes of sha1(b, n), read big-endian.
 */
export function sha1Top32(bytes: Uint8Array, length: number = bytes.length): number {
  digestState(bytes, length);
  return state[0]! >>> 0;
}

/** Runs SHA-1 over `bytes[0, length)`, leaving the digest's five words in `state`. */
function digestState(bytes: Uint8Array, length: number): void {
  if (!(Number.isSafeInteger(length) && length >= 0 && length <= bytes.length)) {
    throw new Error(`sha1: length ${length} outside 0..${bytes.length}`);
  }
  state[0] = 0x67452301;
  state[1] = 0xefcdab89 | 0;
  state[2] = 0x98badcfe | 0;
  state[3] = 0x10325476;
  state[4] = 0xc3d2e1f0 | 0;
  const fullBlocks = Math.floor(length / BLOCK_BYTES);
  for (let block = 0; block < fullBlocks; block++) compress(bytes, block * BLOCK_BYTES);
  // Padding: the remaining bytes, 0x80, zeros up to 8 bytes short of a block boundary, then
  // the message length in bits as a 64-bit big-endian integer.
  const rest = length - fullBlocks * BLOCK_BYTES;
  const tailBytes = rest < BLOCK_BYTES - 8 ? BLOCK_BYTES : 2 * BLOCK_BYTES;
  for (let at = 0; at < rest; at++) tail[at] = bytes[fullBlocks * BLOCK_BYTES + at]!;
  tail[rest] = 0x80;
  tail.fill(0, rest + 1, tailBytes - 8);
  const bits = length * 8;
  const bitsHigh = Math.floor(bits / 2 ** 32);
  writeUint32(tail, tailBytes - 8, bitsHigh);
  writeUint32(tail, tailBytes - 4, bits >>> 0);
  compress(tail, 0);
  if (tailBytes > BLOCK_BYTES) compress(tail, BLOCK_BYTES);
}

/** One 64-byte block of `bytes` at `offset` into `state`. */
function compress(bytes: Uint8Array, offset: number): void {
  const w = schedule;
  for (let t = 0; t < 16; t++) {
    const at = offset + 4 * t;
    w[t] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
  }
  for (let t = 16; t < 80; t++) {
    const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
    w[t] = (x << 1) | (x >>> 31);
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  // Four loops of 20 rounds, one per round function, rather than a branch in every round.
  for (let t = 0; t < 20; t++) {
    const next = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[t]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = next;
  }
  for (let t = 20; t < 40; t++) {
    const next = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[t]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = next;
  }
  for (let t = 40; t < 60; t++) {
    const majority = (b & c) | (b & d) | (c & d);
    const next = (((a << 5) | (a >>> 27)) + majority + e + (0x8f1bbcdc | 0) + w[t]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = next;
  }
  for (let t = 60; t < 80; t++) {
    const next = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + w[t]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = next;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
}

function writeUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}
