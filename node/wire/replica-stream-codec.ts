// A hand-written protobuf codec for the messages of Replica.Stream (ReplicaCallBatch and
// ReplicaReplyBatch of proto/dkv.proto), the hottest messages between nodes: one pass to size,
// one to write, and a decoder producing exactly what proto-loader's reflection decoder produces
// (keepCase, longs as Number, enums as String, defaults, oneof names), without its fromObject
// copy of every message, its Long objects for the ids and its per-field closures (issue 16).
// The wire format is the proto's, so either end may use either codec. Pure: no IO.

import type * as grpc from "@grpc/grpc-js";
import type { ReplicaCallBatch } from "../../proto/generated/dkv/v1/ReplicaCallBatch.js";
import type { ReplicaCallBatch__Output } from "../../proto/generated/dkv/v1/ReplicaCallBatch.js";
import type { ReplicaCall, ReplicaCall__Output } from "../../proto/generated/dkv/v1/ReplicaCall.js";
import type { ReplicaReplyBatch } from "../../proto/generated/dkv/v1/ReplicaReplyBatch.js";
import type { ReplicaReplyBatch__Output } from "../../proto/generated/dkv/v1/ReplicaReplyBatch.js";
import type {
  ReplicaCallReply,
  ReplicaCallReply__Output,
} from "../../proto/generated/dkv/v1/ReplicaCallReply.js";
import type { ReplicaGetRequest__Output } from "../../proto/generated/dkv/v1/ReplicaGetRequest.js";
import type { ReplicaPutRequest__Output } from "../../proto/generated/dkv/v1/ReplicaPutRequest.js";
import {
  ProtoReader,
  ProtoWriter,
  bytesSize,
  stringSize,
  tagSize,
  varintSize,
} from "./proto-bytes.js";

/** ReplicaPutReason by number and name (proto/dkv.proto); an unknown number stays a number. */
const PUT_REASONS = [
  "REPLICA_PUT_REASON_UNSPECIFIED",
  "REPLICA_PUT_REASON_WRITE",
  "REPLICA_PUT_REASON_READ_REPAIR",
  "REPLICA_PUT_REASON_HANDOFF",
  "REPLICA_PUT_REASON_ANTI_ENTROPY",
] as const;

/** What an absent bytes field decodes to (never written to: it has no bytes). */
const EMPTY: Buffer = Buffer.alloc(0);

/** The size of an embedded message field of `size` bytes, with its tag and length. */
function embeddedSize(size: number): number {
  return tagSize + varintSize(size) + size;
}

// ---- ReplicaCallBatch -------------------------------------------------------------------------

type Call = ReplicaCall;
type GetRequest = NonNullable<Call["get"]>;
type PutRequest = NonNullable<Call["put"]>;

function reasonNumber(reason: PutRequest["reason"]): number {
  if (reason === undefined || reason === null) return 0;
  if (typeof reason === "number") return reason;
  const index = PUT_REASONS.indexOf(reason);
  if (index < 0) throw new TypeError(`unknown ReplicaPutReason ${reason}`);
  return index;
}

function getRequestSize(request: GetRequest): number {
  return stringSize(1, request.bucket) + bytesSize(2, request.key) + bytesSize(3, request.digest);
}

function putRequestSize(request: PutRequest): number {
  return (
    stringSize(1, request.bucket) +
    bytesSize(2, request.key) +
    bytesSize(3, request.object) +
    (request.durable === true ? 2 : 0) +
    (reasonNumber(request.reason) === 0 ? 0 : tagSize + varintSize(reasonNumber(request.reason))) +
    stringSize(6, request.hint_for)
  );
}

/** Sizes of a call and of its request, in write order. */
function callSizes(call: Call, sizes: number[]): number {
  const id = Number(call.id ?? 0);
  const deadline = Number(call.deadline_ms ?? 0);
  let size =
    (id === 0 ? 0 : tagSize + varintSize(id)) +
    (deadline === 0 ? 0 : tagSize + varintSize(deadline));
  let inner = -1;
  if (call.get !== undefined && call.get !== null) inner = getRequestSize(call.get);
  else if (call.put !== undefined && call.put !== null) inner = putRequestSize(call.put);
  if (inner >= 0) size += embeddedSize(inner);
  sizes.push(size, inner);
  return size;
}

/** Encodes a ReplicaCallBatch; throws a TypeError on a value the reflection codec would coerce. */
export function encodeCallBatch(batch: ReplicaCallBatch): Buffer {
  const calls = batch.calls ?? [];
  const sizes: number[] = [];
  let total = 0;
  for (const call of calls) total += embeddedSize(callSizes(call, sizes));
  const writer = new ProtoWriter(total);
  calls.forEach((call, index) => {
    const size = sizes[2 * index] ?? 0;
    const inner = sizes[2 * index + 1] ?? -1;
    writer.tag(1, 2);
    writer.varint(size);
    const id = Number(call.id ?? 0);
    if (id !== 0) writer.uintField(1, id);
    const deadline = Number(call.deadline_ms ?? 0);
    if (deadline !== 0) writer.uintField(2, deadline);
    if (call.get !== undefined && call.get !== null) {
      writer.tag(3, 2);
      writer.varint(inner);
      writer.stringField(1, call.get.bucket);
      writer.bytesField(2, call.get.key);
      writer.bytesField(3, call.get.digest);
    } else if (call.put !== undefined && call.put !== null) {
      const put = call.put;
      writer.tag(4, 2);
      writer.varint(inner);
      writer.stringField(1, put.bucket);
      writer.bytesField(2, put.key);
      writer.bytesField(3, put.object);
      if (put.durable === true) writer.uintField(4, 1);
      const reason = reasonNumber(put.reason);
      if (reason !== 0) writer.uintField(5, reason);
      writer.stringField(6, put.hint_for);
    }
  });
  return writer.finish();
}

function decodeGetRequest(reader: ProtoReader, end: number): ReplicaGetRequest__Output {
  const request: ReplicaGetRequest__Output = { bucket: "", key: EMPTY, digest: EMPTY };
  while (reader.position < end) {
    const tag = reader.varint();
    if (tag === 0x0a) request.bucket = reader.string();
    else if (tag === 0x12) request.key = reader.bytes();
    else if (tag === 0x1a) request.digest = reader.bytes();
    else reader.skip(tag);
  }
  return request;
}

function decodePutRequest(reader: ProtoReader, end: number): ReplicaPutRequest__Output {
  const request: ReplicaPutRequest__Output = {
    bucket: "",
    key: EMPTY,
    object: EMPTY,
    durable: false,
    reason: PUT_REASONS[0],
    hint_for: "",
  };
  while (reader.position < end) {
    const tag = reader.varint();
    if (tag === 0x0a) request.bucket = reader.string();
    else if (tag === 0x12) request.key = reader.bytes();
    else if (tag === 0x1a) request.object = reader.bytes();
    else if (tag === 0x20) request.durable = reader.varint64() !== 0;
    else if (tag === 0x28) {
      const reason = reader.int32();
      request.reason = (PUT_REASONS[reason] ?? reason) as ReplicaPutRequest__Output["reason"];
    } else if (tag === 0x32) request.hint_for = reader.string();
    else reader.skip(tag);
  }
  return request;
}

function decodeCall(reader: ProtoReader, end: number): ReplicaCall__Output {
  let id = 0;
  let deadline = 0;
  let get: ReplicaGetRequest__Output | undefined;
  let put: ReplicaPutRequest__Output | undefined;
  while (reader.position < end) {
    const tag = reader.varint();
    if (tag === 0x08) id = reader.uint64();
    else if (tag === 0x10) deadline = reader.int64();
    else if (tag === 0x1a) {
      get = decodeGetRequest(reader, reader.lengthEnd());
      put = undefined;
    } else if (tag === 0x22) {
      put = decodePutRequest(reader, reader.lengthEnd());
      get = undefined;
    } else reader.skip(tag);
  }
  if (get !== undefined) return { id, deadline_ms: deadline, get, call: "get" };
  if (put !== undefined) return { id, deadline_ms: deadline, put, call: "put" };
  return { id, deadline_ms: deadline } as ReplicaCall__Output;
}

/** Decodes a ReplicaCallBatch as proto-loader would; throws on malformed bytes. */
export function decodeCallBatch(bytes: Buffer): ReplicaCallBatch__Output {
  const reader = new ProtoReader(bytes);
  const calls: ReplicaCall__Output[] = [];
  while (reader.position < bytes.length) {
    const tag = reader.varint();
    if (tag === 0x0a) calls.push(decodeCall(reader, reader.lengthEnd()));
    else reader.skip(tag);
  }
  return { calls };
}

// ---- ReplicaReplyBatch ------------------------------------------------------------------------

/** The size of a reply's result message; -1 when it has none. */
function resultSize(reply: ReplicaCallReply): number {
  if (reply.get !== undefined && reply.get !== null) {
    const get = reply.get;
    return (get.found === true ? 2 : 0) + bytesSize(2, get.object) + (get.same === true ? 2 : 0);
  }
  if (reply.put !== undefined && reply.put !== null) return reply.put.durable === true ? 2 : 0;
  if (reply.error !== undefined && reply.error !== null) {
    const code = Number(reply.error.code ?? 0);
    return (code === 0 ? 0 : tagSize + varintSize(code)) + stringSize(2, reply.error.message);
  }
  return -1;
}

/** Encodes a ReplicaReplyBatch; throws a TypeError on a value the reflection codec would coerce. */
export function encodeReplyBatch(batch: ReplicaReplyBatch): Buffer {
  const replies = batch.replies ?? [];
  const sizes: number[] = [];
  let total = 0;
  for (const reply of replies) {
    const id = Number(reply.id ?? 0);
    const inner = resultSize(reply);
    const size = (id === 0 ? 0 : tagSize + varintSize(id)) + (inner < 0 ? 0 : embeddedSize(inner));
    sizes.push(size, inner);
    total += embeddedSize(size);
  }
  const writer = new ProtoWriter(total);
  replies.forEach((reply, index) => {
    writer.tag(1, 2);
    writer.varint(sizes[2 * index] ?? 0);
    const id = Number(reply.id ?? 0);
    if (id !== 0) writer.uintField(1, id);
    const inner = sizes[2 * index + 1] ?? -1;
    if (reply.get !== undefined && reply.get !== null) {
      writer.tag(2, 2);
      writer.varint(inner);
      if (reply.get.found === true) writer.uintField(1, 1);
      writer.bytesField(2, reply.get.object);
      if (reply.get.same === true) writer.uintField(3, 1);
    } else if (reply.put !== undefined && reply.put !== null) {
      writer.tag(3, 2);
      writer.varint(inner);
      if (reply.put.durable === true) writer.uintField(1, 1);
    } else if (reply.error !== undefined && reply.error !== null) {
      writer.tag(4, 2);
      writer.varint(inner);
      const code = Number(reply.error.code ?? 0);
      if (code !== 0) writer.uintField(1, code);
      writer.stringField(2, reply.error.message);
    }
  });
  return writer.finish();
}

function decodeReply(reader: ProtoReader, end: number): ReplicaCallReply__Output {
  let id = 0;
  let result: Omit<ReplicaCallReply__Output, "id"> | undefined;
  while (reader.position < end) {
    const tag = reader.varint();
    if (tag === 0x08) id = reader.uint64();
    else if (tag === 0x12) {
      const get: { found: boolean; object: Buffer; same: boolean } = {
        found: false,
        object: EMPTY,
        same: false,
      };
      const innerEnd = reader.lengthEnd();
      while (reader.position < innerEnd) {
        const field = reader.varint();
        if (field === 0x08) get.found = reader.varint64() !== 0;
        else if (field === 0x12) get.object = reader.bytes();
        else if (field === 0x18) get.same = reader.varint64() !== 0;
        else reader.skip(field);
      }
      result = { get, result: "get" };
    } else if (tag === 0x1a) {
      const put = { durable: false };
      const innerEnd = reader.lengthEnd();
      while (reader.position < innerEnd) {
        const field = reader.varint();
        if (field === 0x08) put.durable = reader.varint64() !== 0;
        else reader.skip(field);
      }
      result = { put, result: "put" };
    } else if (tag === 0x22) {
      const error = { code: 0, message: "" };
      const innerEnd = reader.lengthEnd();
      while (reader.position < innerEnd) {
        const field = reader.varint();
        if (field === 0x08) error.code = reader.uint32();
        else if (field === 0x12) error.message = reader.string();
        else reader.skip(field);
      }
      result = { error, result: "error" };
    } else reader.skip(tag);
  }
  return (result === undefined ? { id } : { id, ...result }) as ReplicaCallReply__Output;
}

/** Decodes a ReplicaReplyBatch as proto-loader would; throws on malformed bytes. */
export function decodeReplyBatch(bytes: Buffer): ReplicaReplyBatch__Output {
  const reader = new ProtoReader(bytes);
  const replies: ReplicaCallReply__Output[] = [];
  while (reader.position < bytes.length) {
    const tag = reader.varint();
    if (tag === 0x0a) replies.push(decodeReply(reader, reader.lengthEnd()));
    else reader.skip(tag);
  }
  return { replies };
}

/** Messages this process encoded by reflection because the fast encoder refused them. */
const fallbacks = { calls: 0, replies: 0 };

/**
 * Batches encoded by reflection so far, by kind (dkv_replica_codec_fallbacks_total). Each costs
 * a thrown TypeError and protobufjs's encoder: correct but slow, and silent but for this count.
 * Every batch dkv itself sends fits the fast encoder, so a count above 0 is a defect (once
 * every call batch fell back for a fractional deadline).
 */
export function replicaCodecFallbacks(): Readonly<typeof fallbacks> {
  return fallbacks;
}

/**
 * The Replica service definition with this codec on its Stream method (the other methods and
 * the definition given stay as they are). A value this codec does not take as it is (a Long
 * id, a string for bytes) goes to the reflection codec instead, so behaviour never changes.
 */
export function withReplicaStreamCodec<T extends grpc.ServiceDefinition>(service: T): T {
  const stream = service["Stream"];
  if (stream === undefined) throw new Error("the Replica service has no Stream method");
  const fallback =
    <V>(
      kind: keyof typeof fallbacks,
      encode: (value: V) => Buffer,
      reflection: grpc.serialize<V>,
    ) =>
    (value: V): Buffer => {
      try {
        return encode(value);
      } catch (error) {
        if (!(error instanceof TypeError)) throw error;
        fallbacks[kind] += 1;
        return reflection(value);
      }
    };
  return {
    ...service,
    Stream: {
      ...stream,
      requestSerialize: fallback("calls", encodeCallBatch, stream.requestSerialize),
      requestDeserialize: decodeCallBatch,
      responseSerialize: fallback("replies", encodeReplyBatch, stream.responseSerialize),
      responseDeserialize: decodeReplyBatch,
    },
  };
}
