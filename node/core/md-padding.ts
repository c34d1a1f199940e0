// The padding SHA-1 and SHA-256 share (FIPS 180-4 §5.1.1): the message's last partial block, a
// 0x80 byte, zeros, then the message's length in bits as a 64-bit big-endian integer, filling
// one or two 64-byte blocks. Pure.

/** Bytes of a SHA-1 or SHA-256 block. */
export const MD_BLOCK_BYTES = 64;

/**
 * Writes the padded tail of `bytes[0, length)` (the bytes after its last whole block) to `tail`,
 * at least two blocks long, for a message of `totalBytes` in all (any bytes hashed before
 * `bytes` included). Returns how many bytes of `tail` to hash: one block or two.
 */
export function padTail(
  tail: Uint8Array,
  bytes: Uint8Array,
  length: number,
  totalBytes: number,
): number {
  const start = Math.floor(length / MD_BLOCK_BYTES) * MD_BLOCK_BYTES;
  const rest = length - start;
  const tailBytes = rest < MD_BLOCK_BYTES - 8 ? MD_BLOCK_BYTES : 2 * MD_BLOCK_BYTES;
  for (let at = 0; at < rest; at++) tail[at] = bytes[start + at]!;
  tail[rest] = 0x80;
  tail.fill(0, rest + 1, tailBytes - 8);
  const bits = totalBytes * 8;
  writeUint32BE(tail, tailBytes - 8, Math.floor(bits / 2 ** 32));
  writeUint32BE(tail, tailBytes - 4, bits >>> 0);
  return tailBytes;
}

/** Writes `value` (its low 32 bits) big-endian at `at`. */
export function writeUint32BE(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}
