// Byte accounting for size limits: the bytes of a DVV set's payloads and the UTF-8 length of a
// string, both counted without encoding anything. Pure: no IO.

import type { DvvSet } from "./dvv.js";

/** Bytes of value, content type and metadata over all siblings: what size limits count. */
export function objectBytesEstimate(object: DvvSet): number {
  let bytes = 0;
  for (const sibling of object.siblings) {
    bytes += sibling.value.length + utf8ByteLength(sibling.contentType);
    for (const [key, value] of Object.entries(sibling.metadata)) {
      bytes += utf8ByteLength(key) + utf8ByteLength(value);
    }
  }
  return bytes;
}

/**
 * The length of `text` in UTF-8, without encoding it. A lone surrogate counts 3 bytes, as
 * TextEncoder writes it as U+FFFD.
 */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(index + 1))) {
      bytes += 4;
      index += 1;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
