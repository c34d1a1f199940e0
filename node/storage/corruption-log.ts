// Counts and lists the corrupt records the log engine has found (at recovery, on read, during a
// merge) so that status output can name them and replicas can repair the keys. No IO.

import { RECORD_HEADER_BYTES } from "./record-format.js";

/** Where a corrupt stretch was found and, when its header still parses, whose key it claims. */
export interface CorruptRecord {
  readonly segmentId: number;
  readonly offset: number;
  readonly bytes: number;
  readonly detectedBy: "recovery" | "read" | "merge";
  readonly reason: string;
  /** The bucket and key the damaged header claims; unverified, for repair hints only. */
  readonly claimedBucket?: string;
  readonly claimedKeyBase64?: string;
}

/** A counter of corrupt records plus the first `listMax` of them. */
export class CorruptionLog {
  readonly #listMax: number;
  readonly #list: CorruptRecord[] = [];
  count = 0;

  constructor(listMax: number) {
    this.#listMax = listMax;
  }

  /** Counts one corrupt stretch and keeps it if the list has room. */
  add(record: CorruptRecord): void {
    this.count += 1;
    if (this.#list.length < this.#listMax) this.#list.push(record);
  }

  /** The listed corrupt records (the count may be larger). */
  list(): readonly CorruptRecord[] {
    return this.#list;
  }
}

/**
 * Reads the bucket and key a possibly damaged record header at `offset` claims, if its length
 * fields fit inside `bytes`. Nothing here is trusted: the crc already failed.
 */
export function claimedKeyAt(
  buffer: Buffer,
  offset: number,
  bytes: number,
): { claimedBucket: string; claimedKeyBase64: string } | undefined {
  if (bytes < RECORD_HEADER_BYTES || offset + RECORD_HEADER_BYTES > buffer.length) return undefined;
  const bucketBytes = buffer.readUInt16LE(offset + 22);
  const keyBytes = buffer.readUInt32LE(offset + 16);
  const keyStart = offset + RECORD_HEADER_BYTES + bucketBytes;
  if (keyStart + keyBytes > offset + bytes || keyStart + keyBytes > buffer.length) return undefined;
  return {
    claimedBucket: buffer.toString("utf8", offset + RECORD_HEADER_BYTES, keyStart),
    claimedKeyBase64: buffer.toString("base64", keyStart, keyStart + keyBytes),
  };
}
