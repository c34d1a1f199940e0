// The log record format: round trips, every kind of damage is refused, and a scan resynchronises
// on the next good record after a corrupt stretch.

import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { RecordCursor } from "../../../../node/storage/record-cursor.js";
import {
  RecordKind,
  SEGMENT_HEADER_BYTES,
  checkRecordAt,
  checkSegmentHeader,
  encodeRecord,
  encodeSegmentHeader,
  keyIdOf,
  parseRecordKeyId,
  recordIdOf,
} from "../../../../node/storage/record-format.js";
import { KeyDirectory } from "../../../../node/storage/key-directory.js";
import { bytes, hex } from "./storage-test-helpers.js";

describe("record format", () => {
  it("a record's id equals keyIdOf and parses back to bucket and key", () => {
    const key = new Uint8Array([0, 1, 255]);
    const record = encodeRecord(RecordKind.put, "bücket", key, bytes("v"));
    expect(recordIdOf(record)).toBe(keyIdOf("bücket", key));
    const parsed = parseRecordKeyId(recordIdOf(record));
    expect(parsed.bucket).toBe("bücket");
    expect(hex(parsed.key)).toBe(hex(key));
    expect(checkRecordAt(record, 0)).toBe(record.length);
  });

  it.each([
    ["the crc", 0],
    ["the length", 4],
    ["the magic", 8],
    ["the kind", 10],
    ["the value length", 12],
    ["the bucket length", 22],
    ["the key", 27],
    ["the last value byte", -1],
  ])("refuses a record with a damaged %s", (_, position) => {
    const record = encodeRecord(RecordKind.put, "b", bytes("key"), bytes("value"));
    const at = position < 0 ? record.length + position : position;
    record[at] = (record[at] ?? 0) ^ 0x01;
    expect(checkRecordAt(record, 0)).toBe(0);
  });

  it("refuses a record cut short at any byte", () => {
    const record = encodeRecord(RecordKind.put, "b", bytes("key"), bytes("value"));
    for (let length = 0; length < record.length; length += 1)
      expect(checkRecordAt(record.subarray(0, length), 0)).toBe(0);
  });

  it("a cursor steps over a corrupt record, reports it and keeps the records after it", () => {
    const records = [0, 1, 2, 3].map((i) =>
      encodeRecord(RecordKind.put, "b", bytes(`k${i}`), bytes(`value-${i}`)),
    );
    const segment = Buffer.concat([encodeSegmentHeader(7, 0), ...records]);
    const damagedAt = SEGMENT_HEADER_BYTES + (records[0]?.length ?? 0) + 30;
    segment[damagedAt] = (segment[damagedAt] ?? 0) ^ 0xff;
    const cursor = new RecordCursor(segment);
    const steps: string[] = [];
    for (let step = cursor.next(); step !== "end"; step = cursor.next()) {
      steps.push(
        step === "record"
          ? segment.toString("latin1", cursor.idStart + 3, cursor.idEnd)
          : `corrupt@${cursor.corruptOffset}`,
      );
    }
    expect(steps).toEqual([
      "k0",
      `corrupt@${SEGMENT_HEADER_BYTES + (records[0]?.length ?? 0)}`,
      "k2",
      "k3",
    ]);
    expect(cursor.tailBytes).toBe(0);
  });

  it("a cursor reports a torn tail as bytes after the last valid record", () => {
    const record = encodeRecord(RecordKind.tombstone, "b", bytes("gone"), new Uint8Array(0));
    const segment = Buffer.concat([encodeSegmentHeader(1, 0), record, record.subarray(0, 10)]);
    const cursor = new RecordCursor(segment);
    expect(cursor.next()).toBe("record");
    expect(cursor.kind).toBe(RecordKind.tombstone);
    expect(cursor.next()).toBe("end");
    expect(cursor.validEnd).toBe(SEGMENT_HEADER_BYTES + record.length);
    expect(cursor.tailBytes).toBe(10);
  });

  it("segment headers carry the id, and a future format version is refused as fatal", () => {
    const header = encodeSegmentHeader(2 ** 40 + 5, 1);
    expect(checkSegmentHeader(header)).toEqual({ ok: true, id: 2 ** 40 + 5, flags: 1 });
    header.writeUInt16LE(99, 4);
    header.writeUInt32LE(crc32(header.subarray(0, 20)), 20);
    const check = checkSegmentHeader(header);
    expect(check.ok === false && check.fatal).toBe(true);
    header[0] = 0;
    const damaged = checkSegmentHeader(header);
    expect(damaged.ok === false && damaged.fatal).toBe(false);
  });
});

describe("key directory", () => {
  it("reuses the slots of deleted keys and keeps locations apart", () => {
    const directory = new KeyDirectory();
    for (let i = 0; i < 3000; i += 1) directory.set(`k${i}`, 1, i * 10, 10, i);
    for (let i = 0; i < 1000; i += 1) directory.delete(`k${i}`);
    for (let i = 3000; i < 4000; i += 1) directory.set(`k${i}`, 2, i, 20, i);
    expect(directory.size).toBe(3000);
    expect(directory.get("k2999")).toEqual({
      segmentId: 1,
      offset: 29990,
      size: 10,
      versionHash: 2999,
    });
    expect(directory.get("k3999")).toEqual({
      segmentId: 2,
      offset: 3999,
      size: 20,
      versionHash: 3999,
    });
    expect(directory.get("k5")).toBeUndefined();
  });
});
