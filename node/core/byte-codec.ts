// The byte level of object-codec.ts: canonical LEB128 varints, length-prefixed UTF-8 strings and
// byte strings, a Writer into one preallocated array and a bounds-checked Reader.
// Pure: no IO. Writer errors throw (programmer errors); Reader errors throw DecodeFailure only.

import { fail } from "./assert.js";
import { utf8ByteLength } from "./object-bytes.js";

/** Varints are at most 8 bytes (and at most 2^53 - 1). */
const VARINT_BYTES_MAX = 8;
/** Strings up to this length are decoded by hand when they are ASCII. */
const ASCII_FAST_PATH_BYTES_MAX = 64;

/** The encoded size of `value` as a varint. */
export function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size += 1;
  return size;
}

/** The encoded size of `text` as a length-prefixed UTF-8 string. */
export function stringSize(text: string): number {
  const bytes = utf8ByteLength(text);
  return varintSize(bytes) + bytes;
}

/** "1 byte", "2 bytes": `count` and `noun`, plural when count is not 1. */
export function plural(count: number, noun = "byte"): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** Writes into one preallocated array; `finish` checks that the measured size was exact. */
export class Writer {
  readonly bytes: Uint8Array;
  position = 0;

  constructor(size: number) {
    // From Node's shared buffer pool when small (objects of a few KiB): a write path encodes
    // one object per write, and a Uint8Array of its own would be one more malloc'd backing
    // store for the garbage collector to track and free. Every byte is written before
    // `finish` returns it (it checks the count), so the pool's stale bytes never show.
    const pooled = Buffer.allocUnsafe(size);
    this.bytes = new Uint8Array(pooled.buffer, pooled.byteOffset, size);
  }

  /** One byte, as is. */
  byte(value: number): void {
    this.bytes[this.position++] = value;
  }

  /** A canonical unsigned LEB128 varint; throws unless `value` is a safe integer ≥ 0. */
  varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0)
      fail(`object-codec: cannot encode ${value} as a varint`);
    let rest = value;
    while (rest >= 0x80) {
      this.bytes[this.position++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.bytes[this.position++] = rest;
  }

  /** A length-prefixed byte string. */
  raw(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.bytes.set(bytes, this.position);
    this.position += bytes.length;
  }

  /**
   * A length-prefixed UTF-8 string; throws on a lone surrogate. UTF-8 by hand: strings are
   * short, and this avoids a temporary array per string.
   */
  string(text: string): void {
    this.varint(utf8ByteLength(text));
    const out = this.bytes;
    for (let index = 0; index < text.length; index++) {
      let code = text.charCodeAt(index);
      if (code < 0x80) {
        out[this.position++] = code;
      } else if (code < 0x800) {
        out[this.position++] = 0xc0 | (code >> 6);
        out[this.position++] = 0x80 | (code & 0x3f);
      } else if (code < 0xd800 || code > 0xdfff) {
        out[this.position++] = 0xe0 | (code >> 12);
        out[this.position++] = 0x80 | ((code >> 6) & 0x3f);
        out[this.position++] = 0x80 | (code & 0x3f);
      } else {
        const low = text.charCodeAt(index + 1);
        if (!(code <= 0xdbff && low >= 0xdc00 && low <= 0xdfff)) {
          fail("object-codec: string has a lone surrogate");
        }
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        index += 1;
        out[this.position++] = 0xf0 | (code >> 18);
        out[this.position++] = 0x80 | ((code >> 12) & 0x3f);
        out[this.position++] = 0x80 | ((code >> 6) & 0x3f);
        out[this.position++] = 0x80 | (code & 0x3f);
      }
    }
  }

  /** The written bytes; throws unless exactly the measured size was written. */
  finish(): Uint8Array {
    if (this.position !== this.bytes.length) {
      fail(`object-codec: wrote ${this.position} of the ${this.bytes.length} bytes measured`);
    }
    return this.bytes;
  }
}

/** Thrown by {@link Reader} only; decoders catch it and return its message as the reason. */
export class DecodeFailure extends Error {}

/** Slots of the table of recently decoded short ASCII strings (a power of two). */
const RECENT_SLOTS = 256;
const recentBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(RECENT_SLOTS);
const recentText: string[] = new Array<string>(RECENT_SLOTS).fill("");

/**
 * `bytes[start, end)` as a string when every byte is ASCII (undefined otherwise), from a small
 * direct-mapped table of recent strings keyed by an FNV-1a hash of the bytes: a hit allocates
 * nothing. A pure cache: the result is always the bytes' own text.
 */
function recentAscii(bytes: Uint8Array, start: number, end: number): string | undefined {
  let hash = 0x811c9dc5 ^ (end - start);
  for (let index = start; index < end; index++) {
    const byte = bytes[index] as number;
    if (byte >= 0x80) return undefined;
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  const slot = (hash >>> 0) & (RECENT_SLOTS - 1);
  const cached = recentBytes[slot];
  if (cached !== undefined && cached.length === end - start) {
    let same = true;
    for (let index = 0; index < cached.length; index++) {
      if (cached[index] !== bytes[start + index]) {
        same = false;
        break;
      }
    }
    if (same) return recentText[slot];
  }
  let text = "";
  for (let index = start; index < end; index++) text += String.fromCharCode(bytes[index] as number);
  // A copy: Buffer's slice is a view, and the input may be a pooled buffer written over later.
  recentBytes[slot] = new Uint8Array(bytes.subarray(start, end));
  recentText[slot] = text;
  return text;
}

/** `ignoreBOM: true` keeps a leading U+FEFF, so such strings survive a round trip. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads from `bytes` with every read bounds-checked; any failure throws a {@link DecodeFailure}
 * whose lowercase message names the byte offset. `what` names the encoding in messages.
 */
export class Reader {
  readonly bytes: Uint8Array;
  readonly what: string;
  position = 0;

  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.what = what;
  }

  /** Abandons the decode with `reason`. */
  fail(reason: string): never {
    throw new DecodeFailure(reason);
  }

  /** Abandons the decode: the input ended at byte `at` while reading `field`. */
  truncated(at: number, field: string): never {
    return this.fail(`${this.what} truncated at byte ${at} reading ${field}`);
  }

  /** The next byte. */
  byte(field: string): number {
    const value = this.bytes[this.position];
    if (value === undefined) return this.truncated(this.position, field);
    this.position += 1;
    return value;
  }

  /** A canonical varint of at most 8 bytes and at most 2^53 - 1. */
  varint(field: string): number {
    const start = this.position;
    let value = 0;
    let scale = 1;
    for (let length = 1; length <= VARINT_BYTES_MAX; length++) {
      const byte = this.byte(field);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (byte === 0 && length > 1) this.fail(`non-canonical ${field} varint at byte ${start}`);
        if (value > Number.MAX_SAFE_INTEGER) this.fail(`${field} above 2^53 - 1 at byte ${start}`);
        return value;
      }
      scale *= 0x80;
    }
    return this.fail(`${field} varint longer than ${VARINT_BYTES_MAX} bytes at byte ${start}`);
  }

  /** A count of items of at least `bytesEach` bytes; more than the input can hold fails early. */
  count(field: string, bytesEach: number): number {
    const start = this.position;
    const count = this.varint(`${field} count`);
    const left = this.bytes.length - this.position;
    if (count * bytesEach > left) {
      this.fail(`${field} count ${count} at byte ${start} exceeds the remaining ${plural(left)}`);
    }
    return count;
  }

  /** The next `length` bytes, as a view into the input. */
  take(field: string, length: number): Uint8Array {
    const start = this.position;
    if (length > this.bytes.length - start) return this.truncated(start, field);
    this.position = start + length;
    return this.bytes.subarray(start, start + length);
  }

  /** A length-prefixed byte string, as a view into the input. */
  view(field: string): Uint8Array {
    return this.take(field, this.varint(`${field} length`));
  }

  /** A length-prefixed UTF-8 string; `length` when the caller has read (and checked) it. */
  string(field: string, length?: number): string {
    const size = length ?? this.varint(`${field} length`);
    const start = this.position;
    if (size > this.bytes.length - start) return this.truncated(start, field);
    if (size <= ASCII_FAST_PATH_BYTES_MAX) {
      // Short ASCII strings (actors, content types, most metadata) come again and again: they
      // are read from the table of recent ones without TextDecoder's call cost or a new string.
      const text = recentAscii(this.bytes, start, start + size);
      if (text !== undefined) {
        this.position = start + size;
        return text;
      }
    }
    const view = this.take(field, size);
    try {
      return utf8.decode(view);
    } catch {
      return this.fail(`invalid utf-8 in ${field} at byte ${start}`);
    }
  }
}
