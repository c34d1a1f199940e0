// Goal: the hand-written Replica.Stream codec is the reflection codec's twin: what either encodes,
// the other decodes to the same object, and its decoder gives proto-loader's exact shape
// (defaults, oneof names, enum names, longs as numbers).
// Method: random call and reply batches through both codecs, both ways; a few fixed edge cases.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { loadProto } from "../../../../proto/load-proto.js";
import {
  decodeCallBatch,
  decodeReplyBatch,
  encodeCallBatch,
  encodeReplyBatch,
  withReplicaStreamCodec,
} from "../../../../node/wire/replica-stream-codec.js";

const stream = loadProto().grpcObject.dkv.v1.Replica.service.Stream;
const REASONS = [
  "REPLICA_PUT_REASON_UNSPECIFIED",
  "REPLICA_PUT_REASON_WRITE",
  "REPLICA_PUT_REASON_READ_REPAIR",
  "REPLICA_PUT_REASON_HANDOFF",
  "REPLICA_PUT_REASON_ANTI_ENTROPY",
] as const;

const bytes = fc.uint8Array({ maxLength: 40 }).map((array) => Buffer.from(array));
const text = fc.string({ maxLength: 12 });
const id = fc.oneof(fc.constant(0), fc.nat(), fc.maxSafeNat());
const deadline = fc.oneof(fc.constant(0), fc.nat(), fc.integer({ min: 1e12, max: 2e12 }));

const call = fc.record(
  {
    id,
    deadline_ms: deadline,
    get: fc.option(fc.record({ bucket: text, key: bytes, digest: bytes }), { nil: null }),
    put: fc.option(
      fc.record({
        bucket: text,
        key: bytes,
        object: bytes,
        durable: fc.boolean(),
        reason: fc.constantFrom(...REASONS),
        hint_for: text,
      }),
      { nil: null },
    ),
  },
  { requiredKeys: ["id", "deadline_ms"] },
);
// A call carries one operation at most (a oneof): drop `put` when `get` is there.
const callBatch = fc.array(call, { maxLength: 6 }).map((calls) => ({
  calls: calls.map((c) => (c.get === null || c.get === undefined ? c : { ...c, put: null })),
}));

const reply = fc.record(
  {
    id,
    get: fc.option(fc.record({ found: fc.boolean(), object: bytes, same: fc.boolean() })),
    put: fc.option(fc.record({ durable: fc.boolean() })),
    error: fc.option(fc.record({ code: fc.integer({ min: 0, max: 16 }), message: text })),
  },
  { requiredKeys: ["id"] },
);
const replyBatch = fc.array(reply, { maxLength: 6 }).map((replies) => ({
  replies: replies.map((r) => {
    const one = r.get ? { get: r.get } : r.put ? { put: r.put } : r.error ? { error: r.error } : {};
    return { id: r.id, ...one };
  }),
}));

describe("replica stream codec", () => {
  test.prop([callBatch])("call batches: either codec's bytes decode alike", (batch) => {
    const reflected = stream.requestDeserialize(stream.requestSerialize(batch));
    expect(decodeCallBatch(encodeCallBatch(batch))).toEqual(reflected);
    expect(decodeCallBatch(stream.requestSerialize(batch))).toEqual(reflected);
    expect(stream.requestDeserialize(encodeCallBatch(batch))).toEqual(reflected);
  });

  test.prop([replyBatch])("reply batches: either codec's bytes decode alike", (batch) => {
    const reflected = stream.responseDeserialize(stream.responseSerialize(batch));
    expect(decodeReplyBatch(encodeReplyBatch(batch))).toEqual(reflected);
    expect(decodeReplyBatch(stream.responseSerialize(batch))).toEqual(reflected);
    expect(stream.responseDeserialize(encodeReplyBatch(batch))).toEqual(reflected);
  });

  it("decodes negative deadlines, unknown fields and unknown enum numbers as reflection does", () => {
    const batch = { calls: [{ id: 3, deadline_ms: -5, put: { bucket: "b", reason: 9 } }] };
    const encoded = stream.requestSerialize(batch as never);
    // An unknown field 15 (varint) appended to the call: skipped by both.
    const withUnknown = Buffer.from(encoded);
    withUnknown[1] = (withUnknown[1] ?? 0) + 2;
    const patched = Buffer.concat([withUnknown, Buffer.from([0x78, 0x01])]);
    expect(decodeCallBatch(patched)).toEqual(stream.requestDeserialize(patched));
    expect(decodeCallBatch(encoded)).toEqual(stream.requestDeserialize(encoded));
  });

  it("hands values it does not take as they are to the reflection codec", () => {
    const patched = withReplicaStreamCodec(loadProto().grpcObject.dkv.v1.Replica.service).Stream;
    const batch = { calls: [{ id: "7", deadline_ms: -1, get: { bucket: "b", key: "aw==" } }] };
    expect(patched.requestSerialize(batch)).toEqual(stream.requestSerialize(batch));
  });

  it("refuses bytes cut short", () => {
    const encoded = encodeReplyBatch({
      replies: [{ id: 1, get: { found: true, object: Buffer.alloc(9) } }],
    });
    expect(() => decodeReplyBatch(encoded.subarray(0, encoded.length - 1))).toThrow(RangeError);
  });
});
