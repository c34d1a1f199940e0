// SHA-256 (FIPS 180-4 §6.2) in plain JavaScript, for the context seal's HMAC (hmac-sha256.ts).
// Pure.
//
// Why not node:crypto: every get and put seals or opens a context, and a context with its key
// is a message of one or two 64-byte blocks. For such inputs the fixed cost of a native HMAC
// (OpenSSL 3 fetches the digest and makes two contexts per call) is most of the work. Outputs
// are the same bytes; a property test checks them against node:crypto.

/** Bytes of a SHA-256 digest. */
export const SHA256_BYTES = 32;
/** Bytes of one SHA-256 block. */
export const SHA256_BLOCK_BYTES = 64;

/** The round constants: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
/** H(0): the first 32 bits of the fractional parts of the square roots of the first 8 primes. */
const INITIAL = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** The message schedule, reused by every call (one call runs at a time: no await inside). */
const schedule = new Int32Array(64);
/** The last one or two blocks: the message's tail, the 0x80 byte, zeros and the bit length. */
const tail = new Uint8Array(2 * SHA256_BLOCK_BYTES);
const scratchState = new Int32Array(8);

/** A fresh state, H(0), ready to absorb the first block. */
export function sha256Start(): Int32Array {
  return Int32Array.from(INITIAL);
}

/** Absorbs the 64-byte block of `bytes` at `offset` into `state` (8 words). */
export function sha256Block(state: Int32Array, bytes: Uint8Array, offset: number): void {
  if (!(offset >= 0 && offset + SHA256_BLOCK_BYTES <= bytes.length && state.length === 8)) {
    throw new Error(`sha256Block: no block at ${offset} of ${bytes.length} bytes`);
  }
  compress(state, bytes, offset);
}

/**
 * Finishes a hash whose first `absorbedBytes` (a multiple of 64) are already in `start`, with
 * `bytes[0, length)` as the rest of the message; writes the first `outBytes` of the digest to
 * `out` at `outOffset`. `start` is not changed.
 */
export function sha256Finish(
  start: Int32Array,
  absorbedBytes: number,
  bytes: Uint8Array,
  length: number,
  out: Uint8Array,
  outOffset: number,
  outBytes: number = SHA256_BYTES,
): void {
  if (!(Number.isSafeInteger(length) && length >= 0 && length <= bytes.length)) {
    throw new Error(`sha256: length ${length} outside 0..${bytes.length}`);
  }
  if (!(absorbedBytes % SHA256_BLOCK_BYTES === 0 && absorbedBytes >= 0)) {
    throw new Error(`sha256: ${absorbedBytes} bytes absorbed is not a whole number of blocks`);
  }
  const fits = Number.isInteger(outOffset) && outOffset >= 0 && Number.isInteger(outBytes);
  if (!(fits && outBytes >= 0 && outBytes <= SHA256_BYTES && outOffset + outBytes <= out.length)) {
    throw new Error(`sha256: ${outBytes} digest bytes do not fit at ${outOffset} of ${out.length}`);
  }
  const state = scratchState;
  state.set(start);
  const fullBlocks = Math.floor(length / SHA256_BLOCK_BYTES);
  for (let block = 0; block < fullBlocks; block++) {
    compress(state, bytes, block * SHA256_BLOCK_BYTES);
  }
  // Padding: the remaining bytes, 0x80, zeros up to 8 bytes short of a block boundary, then
  // the whole message's length in bits as a 64-bit big-endian integer.
  const rest = length - fullBlocks * SHA256_BLOCK_BYTES;
  const tailBytes = rest < SHA256_BLOCK_BYTES - 8 ? SHA256_BLOCK_BYTES : 2 * SHA256_BLOCK_BYTES;
  for (let at = 0; at < rest; at++) tail[at] = bytes[fullBlocks * SHA256_BLOCK_BYTES + at]!;
  tail[rest] = 0x80;
  tail.fill(0, rest + 1, tailBytes - 8);
  const bits = (absorbedBytes + length) * 8;
  writeUint32(tail, tailBytes - 8, Math.floor(bits / 2 ** 32));
  writeUint32(tail, tailBytes - 4, bits >>> 0);
  compress(state, tail, 0);
  if (tailBytes > SHA256_BLOCK_BYTES) compress(state, tail, SHA256_BLOCK_BYTES);
  for (let at = 0; at < outBytes; at++) {
    out[outOffset + at] = (state[at >>> 2]! >>> (24 - 8 * (at & 3))) & 0xff;
  }
}

/** SHA-256 of `bytes[0, length)` (default: all of it), as a new 32-byte array. */
export function sha256(bytes: Uint8Array, length: number = bytes.length): Uint8Array {
  const digest = new Uint8Array(SHA256_BYTES);
  sha256Finish(INITIAL, 0, bytes, length, digest, 0);
  return digest;
}

/** One 64-byte block of `bytes` at `offset` into `state`. */
function compress(state: Int32Array, bytes: Uint8Array, offset: number): void {
  const w = schedule;
  for (let t = 0; t < 16; t++) {
    const at = offset + 4 * t;
    w[t] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
  }
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]!;
    const y = w[t - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let t = 0; t < 64; t++) {
    const bigSigma1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const choose = (e & f) ^ (~e & g);
    const t1 = (h + bigSigma1 + choose + K[t]! + w[t]!) | 0;
    const bigSigma0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const majority = (a & b) ^ (a & c) ^ (b & c);
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + bigSigma0 + majority) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}
