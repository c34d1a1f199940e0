// The protobuf wire level under the hand-written codecs (replica-stream-codec.ts): varints, tags
// of fields 1..15, length-delimited strings and bytes, a writer into one exactly-sized buffer and
// a bounds-checked reader whose integers read as proto-loader's `longs: Number` reads them.
// Pure: no IO. A value the writer cannot take as it is throws a TypeError.

/** Bytes of a tag: every field number of the hand-written messages is below 16. */
export const tagSize = 1;

const TWO_32 = 2 ** 32;

/** The encoded size of a varint of a safe integer ≥ 0. */
export function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size += 1;
  return size;
}

/** The size of a string field; 0 for the empty string or none (proto3 omits defaults). */
export function stringSize(_field: number, text: string | null | undefined): number {
  if (text === undefined || text === null || text === "") return 0;
  if (typeof text !== "string") throw new TypeError("string field holds a non-string");
  const bytes = Buffer.byteLength(text, "utf8");
  return tagSize + varintSize(bytes) + bytes;
}

/** The size of a bytes field; 0 when empty or absent. */
export function bytesSize(_field: number, bytes: Uint8Array | string | null | undefined): number {
  if (bytes === undefined || bytes === null) return 0;
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes field holds no Uint8Array");
  return bytes.length === 0 ? 0 : tagSize + varintSize(bytes.length) + bytes.length;
}

/** Writes fields into one buffer of the size measured beforehand. */
export class ProtoWriter {
  readonly #buffer: Buffer;
  #position = 0;

  constructor(size: number) {
    this.#buffer = Buffer.allocUnsafe(size);
  }

  tag(field: number, wireType: number): void {
    if (field < 1 || field > 15) throw new RangeError(`field ${field} needs a longer tag`);
    this.#buffer[this.#position++] = (field << 3) | wireType;
  }

  /** A varint of a safe integer ≥ 0; a TypeError otherwise (the reflection codec takes it). */
  varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new TypeError(`${value} is not a safe integer ≥ 0`);
    }
    let rest = value;
    while (rest >= 0x80) {
      this.#buffer[this.#position++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.#buffer[this.#position++] = rest;
  }

  uintField(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value);
  }

  /** A string field, omitted when empty (its size came from stringSize). */
  stringField(field: number, text: string | null | undefined): void {
    if (text === undefined || text === null || text === "") return;
    const bytes = Buffer.byteLength(text, "utf8");
    this.tag(field, 2);
    this.varint(bytes);
    this.#position += this.#buffer.write(text, this.#position, bytes, "utf8");
  }

  /** A bytes field, omitted when empty (its size came from bytesSize). */
  bytesField(field: number, bytes: Uint8Array | string | null | undefined): void {
    if (bytes === undefined || bytes === null || bytes.length === 0) return;
    if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes field holds no Uint8Array");
    this.tag(field, 2);
    this.varint(bytes.length);
    this.#buffer.set(bytes, this.#position);
    this.#position += bytes.length;
  }

  /** The bytes; throws unless exactly the measured size was written (a codec bug). */
  finish(): Buffer {
    if (this.#position !== this.#buffer.length) {
      throw new Error(`wrote ${this.#position} bytes of ${this.#buffer.length} measured`);
    }
    return this.#buffer;
  }
}

/** Reads fields from a buffer; throws a RangeError past its end or on a malformed varint. */
export class ProtoReader {
  readonly #buffer: Buffer;
  position = 0;
  /** The high 32 bits of the last varint64 read. */
  #high = 0;

  constructor(buffer: Buffer) {
    this.#buffer = buffer;
  }

  /** A varint of at most 32 significant bits (tags, lengths), as an unsigned number. */
  varint(): number {
    const low = this.#varint64Low();
    if (this.#high !== 0) throw new RangeError("varint too large for a tag or length");
    return low;
  }

  /** A varint as an unsigned 64-bit number (precision beyond 2^53 lost, as Long.toNumber). */
  uint64(): number {
    const low = this.#varint64Low();
    return this.#high * TWO_32 + low;
  }

  /** A varint as a two's complement int64 number. */
  int64(): number {
    const low = this.#varint64Low();
    const high = this.#high;
    if (high >>> 31 === 0) return high * TWO_32 + low;
    // Negative: −(~value + 1), computed on the two halves.
    const negLow = (~low + 1) >>> 0;
    const negHigh = (~high + (negLow === 0 ? 1 : 0)) >>> 0;
    return -(negHigh * TWO_32 + negLow);
  }

  /** A varint truncated to int32, as protobufjs reads int32 and enums. */
  int32(): number {
    return this.#varint64Low() | 0;
  }

  /** A varint truncated to uint32. */
  uint32(): number {
    return this.#varint64Low() >>> 0;
  }

  /** Any varint's value ≠ 0 test: what a bool reads as. */
  varint64(): number {
    const low = this.#varint64Low();
    return low !== 0 || this.#high !== 0 ? 1 : 0;
  }

  /** Reads a length and returns where its field ends. */
  lengthEnd(): number {
    const length = this.varint();
    const end = this.position + length;
    if (end > this.#buffer.length) throw new RangeError("length past the end of the message");
    return end;
  }

  /** A bytes field: a view of the message's buffer, as protobufjs gives one. */
  bytes(): Buffer {
    const end = this.lengthEnd();
    const bytes = this.#buffer.subarray(this.position, end);
    this.position = end;
    return bytes;
  }

  string(): string {
    const end = this.lengthEnd();
    const text = this.#buffer.toString("utf8", this.position, end);
    this.position = end;
    return text;
  }

  /** Skips the value of a field whose tag was just read. */
  skip(tag: number): void {
    switch (tag & 7) {
      case 0:
        this.#varint64Low();
        return;
      case 1:
        this.#advance(8);
        return;
      case 2:
        this.position = this.lengthEnd();
        return;
      case 5:
        this.#advance(4);
        return;
      default:
        throw new RangeError(`wire type ${tag & 7} not supported`);
    }
  }

  #advance(bytes: number): void {
    if (this.position + bytes > this.#buffer.length) throw new RangeError("past the end");
    this.position += bytes;
  }

  /** Reads a varint of up to 10 bytes; returns its low 32 bits and keeps the high ones. */
  #varint64Low(): number {
    const buffer = this.#buffer;
    let low = 0;
    let high = 0;
    for (let index = 0; index < 10; index++) {
      if (this.position >= buffer.length) throw new RangeError("varint past the end");
      const byte = buffer[this.position++] as number;
      const bits = byte & 0x7f;
      if (index < 4) low |= bits << (7 * index);
      else if (index === 4) {
        low |= (bits & 0x0f) << 28;
        high |= bits >> 4;
      } else high |= bits << (7 * index - 32);
      if (byte < 0x80) {
        this.#high = high >>> 0;
        return low >>> 0;
      }
    }
    throw new RangeError("varint longer than 10 bytes");
  }
}
