import { describe, expect, it } from "vitest";
import { GrpcFrameScanner } from "../../../../node/wire/grpc-frame-scanner.js";

function frame(length: number, compressed = false): Buffer {
  const header = Buffer.alloc(5);
  header[0] = compressed ? 1 : 0;
  header.writeUInt32BE(length, 1);
  return Buffer.concat([header, Buffer.alloc(length, 7)]);
}

describe("GrpcFrameScanner", () => {
  it("reports a message's declared length from its header alone", () => {
    const scanner = new GrpcFrameScanner();
    const header = Buffer.alloc(5);
    header.writeUInt32BE(60 * 1024 * 1024, 1);
    expect(scanner.push(header)).toEqual([{ length: 60 * 1024 * 1024, compressed: false }]);
  });

  it("finds every header however the bytes are split", () => {
    const bytes = Buffer.concat([frame(3), frame(0), frame(70_000), frame(1)]);
    for (const size of [1, 2, 4, 5, 7, 16_384, bytes.length]) {
      const scanner = new GrpcFrameScanner();
      const lengths: number[] = [];
      for (let at = 0; at < bytes.length; at += size) {
        lengths.push(...scanner.push(bytes.subarray(at, at + size)).map((found) => found.length));
      }
      expect(lengths, `chunks of ${size}`).toEqual([3, 0, 70_000, 1]);
    }
  });

  it("reports nothing while a body is still arriving", () => {
    const scanner = new GrpcFrameScanner();
    expect(scanner.push(frame(10).subarray(0, 8))).toEqual([{ length: 10, compressed: false }]);
    expect(scanner.push(Buffer.alloc(7))).toEqual([]);
    expect(scanner.push(frame(2))).toEqual([{ length: 2, compressed: false }]);
  });

  it("tells a compressed message by its flag", () => {
    const scanner = new GrpcFrameScanner();
    expect(scanner.push(Buffer.concat([frame(4, true), frame(1)]))).toEqual([
      { length: 4, compressed: true },
      { length: 1, compressed: false },
    ]);
  });
});
