// Finds the gRPC message headers in the bytes of a request stream as they arrive, so a message's
// declared length is known from its first five bytes, before its body is buffered. Pure.

/** Bytes of the gRPC length prefix: a compressed flag and a 32-bit big-endian length. */
export const GRPC_FRAME_HEADER_BYTES = 5;

/** One message header: its declared length and compressed flag. */
export interface FrameHeader {
  readonly length: number;
  readonly compressed: boolean;
}

/**
 * Scans the gRPC framing of one stream (gRPC over HTTP/2, "Length-Prefixed-Message"): each
 * message is a 1-byte flag, a 4-byte big-endian length, then that many bytes. Chunks may split a
 * header or hold several messages; the scanner keeps only the header bytes it has seen.
 */
export class GrpcFrameScanner {
  /** Body bytes of the current message still to come. */
  #bodyLeft = 0;
  /** Header bytes of the next message seen so far (0 to 4). */
  #headerHave = 0;
  /** The next header's flag byte, once seen. */
  #flag = 0;
  /** Its length bytes seen so far, big-endian. */
  #length = 0;

  /**
   * Takes the next chunk; returns every header it completes: the declared body length, and
   * whether the body is compressed (then the length is the compressed one, not what it holds).
   */
  push(chunk: Uint8Array): readonly FrameHeader[] {
    let found: FrameHeader[] | undefined;
    let at = 0;
    while (at < chunk.length) {
      if (this.#bodyLeft > 0) {
        const skip = Math.min(this.#bodyLeft, chunk.length - at);
        this.#bodyLeft -= skip;
        at += skip;
        continue;
      }
      const byte = chunk[at++]!;
      if (this.#headerHave === 0) this.#flag = byte;
      else this.#length = this.#length * 256 + byte;
      this.#headerHave += 1;
      if (this.#headerHave === GRPC_FRAME_HEADER_BYTES) {
        const length = this.#length;
        this.#headerHave = 0;
        this.#length = 0;
        this.#bodyLeft = length;
        (found ??= []).push({ length, compressed: this.#flag !== 0 });
      }
    }
    return found ?? NONE;
  }
}

/** What push returns when no header completes: one array for every such chunk. */
const NONE: readonly FrameHeader[] = Object.freeze([]);
