// The protobuf fuzzer's generators (issue 15): every method of every service a node serves is
// read from the .proto files (dkv.proto, and the health and reflection protos the node also
// serves), so a new RPC is fuzzed without a change here. For a method, fast-check makes request
// bodies as a hostile client would send them: valid-shaped messages with extreme field values,
// mutated encodings (bit flips, truncation, unknown fields, wrong wire types, length lies) and
// lying gRPC frames. Pure apart from loading the protos; the sending is in fuzz-calls.ts.

import { createRequire } from "node:module";
import path from "node:path";
import fc from "fast-check";
import protobuf from "protobufjs";
import { protoPath } from "../../proto/load-proto.js";

/** One method as the fuzzer sees it. */
export interface FuzzMethod {
  /** `/package.Service/Method`. */
  readonly path: string;
  readonly service: string;
  readonly requestType: protobuf.Type;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  /** A method no node serves, sent to see it refused as UNIMPLEMENTED. */
  readonly unknown?: boolean;
}

/** A request body (already framed, perhaps lying), and how it was made, for the report. */
export interface FuzzBody {
  readonly bytes: Buffer;
  readonly how: string;
}

/** The protos a node serves: dkv.proto, grpc.health.v1 and grpc.reflection (v1 and v1alpha). */
export function loadFuzzRoot(): protobuf.Root {
  const require = createRequire(import.meta.url);
  const health = require.resolve("grpc-health-check/proto/health/v1/health.proto");
  const reflectionDir = path.join(
    path.dirname(require.resolve("@grpc/reflection/package.json")),
    "build/proto/grpc/reflection",
  );
  const root = new protobuf.Root();
  root.loadSync(
    [
      protoPath(),
      health,
      path.join(reflectionDir, "v1/reflection.proto"),
      path.join(reflectionDir, "v1alpha/reflection.proto"),
    ],
    { keepCase: true },
  );
  root.resolveAll();
  return root;
}

/** Every method of every service in `root`, in a stable order. */
export function methodsOf(root: protobuf.Root): FuzzMethod[] {
  const services: protobuf.Service[] = [];
  const walk = (namespace: protobuf.NamespaceBase): void => {
    for (const nested of namespace.nestedArray) {
      if (nested instanceof protobuf.Service) services.push(nested);
      else if (nested instanceof protobuf.Namespace) walk(nested);
    }
  };
  walk(root);
  return services.flatMap((service) => {
    const name = service.fullName.replace(/^\./, "");
    return service.methodsArray.map((method) => ({
      path: `/${name}/${method.name}`,
      service: name,
      requestType: method.resolvedRequestType!,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
    }));
  });
}

/** Two methods no node serves: an unknown method of a known service, and an unknown service. */
export function unknownMethods(root: protobuf.Root): FuzzMethod[] {
  const requestType = root.lookupType("dkv.v1.GetRequest");
  const base = { requestType, requestStream: false, responseStream: false, unknown: true };
  return [
    { ...base, path: "/dkv.v1.KV/Fuzzed", service: "dkv.v1.KV" },
    { ...base, path: "/dkv.v1.Nowhere/Get", service: "dkv.v1.Nowhere" },
  ];
}

/** Strings a fuzzed message may carry that mean something to a node. */
const DICTIONARY = [
  "",
  "default",
  "*",
  "photos",
  "read",
  "write",
  "delete",
  "join",
  "leave",
  "replace",
  "force-remove",
  "n9",
  "127.0.0.1:1",
  "{}",
  '{"version":1}',
  "dkv.v1.KV",
  "\u0000",
  "\ufffd",
  "\ud800",
];

const INT64_EDGES = [
  "0",
  "-1",
  "1",
  "9007199254740993",
  "-9223372036854775808",
  "9223372036854775807",
  "18446744073709551615",
];

/** Bytes of every interesting size: empty, small, just over a 64 KiB limit, large. */
function bytesArbitrary(depth: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.uint8Array({ maxLength: 24 }) },
    { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
    {
      weight: depth === 0 ? 1 : 0,
      arbitrary: fc
        .constantFrom(8, 65_536, 65_537, 300_000)
        .chain((length) => fc.integer({ min: 0, max: 255 }).map((b) => Buffer.alloc(length, b))),
    },
  );
}

function stringArbitrary(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 3, arbitrary: fc.constantFrom(...DICTIONARY) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
    { weight: 1, arbitrary: fc.string({ minLength: 250, maxLength: 300 }) },
  );
}

/** An arbitrary value of a scalar or enum field (unknown enum numbers included). */
function scalarArbitrary(field: protobuf.Field, depth: number): fc.Arbitrary<unknown> {
  if (field.resolvedType instanceof protobuf.Enum) {
    const known = Object.values(field.resolvedType.values);
    return fc.oneof(fc.constantFrom(...known), fc.integer({ min: -3, max: 100_000 }));
  }
  switch (field.type) {
    case "string":
      return stringArbitrary();
    case "bytes":
      return bytesArbitrary(depth);
    case "bool":
      return fc.boolean();
    case "double":
      return fc.double();
    case "float":
      return fc.float();
    case "int32":
    case "sint32":
    case "sfixed32":
      return fc.oneof(fc.integer(), fc.integer({ min: -2, max: 300 }));
    case "uint32":
    case "fixed32":
      return fc.oneof(fc.nat({ max: 0xffff_ffff }), fc.integer({ min: 0, max: 300 }));
    default:
      // 64-bit fields take decimal strings: no precision lost, and both signs.
      return fc.oneof(
        fc.constantFrom(...INT64_EDGES),
        fc.integer({ min: -300, max: 300 }).map(String),
        fc.bigInt(-(2n ** 63n), 2n ** 64n - 1n).map(String),
      );
  }
}

/** A value of `field`: repeated fields get 0..3 elements, or (rarely) a few hundred. */
function fieldArbitrary(field: protobuf.Field, depth: number): fc.Arbitrary<unknown> {
  const element =
    field.resolvedType instanceof protobuf.Type
      ? messageArbitrary(field.resolvedType, depth + 1)
      : scalarArbitrary(field, depth + 1);
  if (field instanceof protobuf.MapField) {
    return fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constant("")), element, {
      maxKeys: 3,
    });
  }
  if (!field.repeated) return element;
  return fc.oneof(
    { weight: 9, arbitrary: fc.array(element, { maxLength: 3 }) },
    {
      weight: depth === 0 ? 1 : 0,
      arbitrary: fc.array(element, { minLength: 257, maxLength: 300 }),
    },
  );
}

/** Messages nested deeper than this are left empty. */
const DEPTH_MAX = 4;

/** A valid-shaped message of `type`: any subset of its fields, with arbitrary values. */
export function messageArbitrary(type: protobuf.Type, depth = 0): fc.Arbitrary<object> {
  if (depth >= DEPTH_MAX || type.fieldsArray.length === 0) return fc.constant({});
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of type.fieldsArray) fields[field.name] = fieldArbitrary(field, depth);
  return fc.record(fields, { requiredKeys: [] });
}

/** A protobuf varint. */
function varint(value: bigint): Buffer {
  const out: number[] = [];
  let rest = BigInt.asUintN(64, value);
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return Buffer.from(out);
}

function tag(fieldNumber: number, wireType: number): Buffer {
  return varint((BigInt(fieldNumber) << 3n) | BigInt(wireType));
}

/** A field of `type` by number, or an unknown number. */
function fieldNumberArbitrary(type: protobuf.Type): fc.Arbitrary<number> {
  const known = type.fieldsArray.map((field) => field.id);
  return fc.oneof(
    known.length === 0 ? fc.constant(1) : fc.constantFrom(...known),
    fc.integer({ min: 1, max: 2 ** 29 - 1 }),
  );
}

/** Ways to spoil an encoded message. Each returns the spoilt bytes and a name for the report. */
function mutationArbitrary(
  type: protobuf.Type,
  encoded: Buffer,
): fc.Arbitrary<{ bytes: Buffer; how: string }> {
  const at = fc.integer({ min: 0, max: Math.max(0, encoded.length) });
  const insert = (name: string, extra: fc.Arbitrary<Buffer>) =>
    fc.tuple(at, extra).map(([position, piece]) => ({
      bytes: Buffer.concat([encoded.subarray(0, position), piece, encoded.subarray(position)]),
      how: name,
    }));
  const field = fieldNumberArbitrary(type);
  return fc.oneof(
    fc.array(fc.nat(), { minLength: 1, maxLength: 4 }).map((positions) => {
      const bytes = Buffer.from(encoded);
      for (const bit of positions) {
        if (bytes.length > 0) bytes[(bit >> 3) % bytes.length]! ^= 1 << (bit & 7);
      }
      return { bytes, how: "bit flips" };
    }),
    at.map((length) => ({ bytes: encoded.subarray(0, length), how: "truncated" })),
    insert(
      "random bytes inserted",
      fc.uint8Array({ minLength: 1, maxLength: 16 }).map(Buffer.from),
    ),
    insert(
      "field of a wrong or invalid wire type",
      fc
        .tuple(field, fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 9 }))
        .map(([number, wireType, payload]) => Buffer.concat([tag(number, wireType), payload])),
    ),
    insert(
      "length prefix past the end",
      fc
        .tuple(field, fc.constantFrom(1n, 100n, 2n ** 31n, 2n ** 32n + 5n, 2n ** 64n - 1n))
        .map(([number, length]) => Buffer.concat([tag(number, 2), varint(length), Buffer.of(1)])),
    ),
    insert(
      "extreme varint",
      fc
        .tuple(field, fc.constantFrom(-1n, 2n ** 63n, 2n ** 32n, 2n ** 31n))
        .map(([number, value]) => Buffer.concat([tag(number, 0), varint(value)])),
    ),
    insert(
      "overlong varint",
      field.map((number) => Buffer.concat([tag(number, 0), Buffer.alloc(11, 0xff)])),
    ),
    fc.constant({ bytes: Buffer.concat([encoded, encoded]), how: "encoded twice" }),
  );
}

/** A gRPC message prefix: compressed flag and declared length (which may lie). */
function prefix(declaredBytes: number, compressed = 0): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(compressed, 0);
  header.writeUInt32BE(declaredBytes >>> 0, 1);
  return header;
}

/** The message framed honestly. */
export function framed(message: Uint8Array): Buffer {
  return Buffer.concat([prefix(message.length), message]);
}

/** Ways to lie in the gRPC framing around `message`. */
function frameLieArbitrary(message: Buffer): fc.Arbitrary<FuzzBody> {
  return fc.oneof(
    fc.integer({ min: 1, max: 1000 }).map((more) => ({
      bytes: Buffer.concat([prefix(message.length + more), message]),
      how: "frame longer than its bytes",
    })),
    fc.integer({ min: 0, max: Math.max(0, message.length - 1) }).map((declared) => ({
      bytes: Buffer.concat([prefix(declared), message]),
      how: "frame shorter than its bytes",
    })),
    fc.constantFrom(0xffff_ffff, 64 * 1024 * 1024 + 1).map((declared) => ({
      bytes: Buffer.concat([prefix(declared), message]),
      how: "oversized frame length",
    })),
    fc.constantFrom(1, 2, 0x80).map((flag) => ({
      bytes: Buffer.concat([prefix(message.length, flag), message]),
      how: "compressed flag without an encoding",
    })),
    fc.constant({ bytes: Buffer.alloc(0), how: "no message" }),
    fc.constant({ bytes: Buffer.concat([framed(message), framed(message)]), how: "two messages" }),
    fc.integer({ min: 1, max: 4 }).map((length) => ({
      bytes: framed(message).subarray(0, length),
      how: "cut inside the prefix",
    })),
  );
}

/** One request message's body: honest, spoilt, random, or in a lying frame. */
function oneBodyArbitrary(type: protobuf.Type): fc.Arbitrary<FuzzBody> {
  const encoded = messageArbitrary(type).map((message) => {
    return Buffer.from(type.encode(message).finish());
  });
  return fc.oneof(
    { weight: 3, arbitrary: encoded.map((bytes) => ({ bytes: framed(bytes), how: "valid" })) },
    {
      weight: 4,
      arbitrary: encoded.chain((bytes) =>
        mutationArbitrary(type, bytes).map((spoilt) => ({
          bytes: framed(spoilt.bytes),
          how: spoilt.how,
        })),
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 64 })
        .map((bytes) => ({ bytes: framed(bytes), how: "random bytes" })),
    },
    { weight: 2, arbitrary: encoded.chain(frameLieArbitrary) },
  );
}

/**
 * The whole request body of a call of `method`: one message for a unary or server-streaming
 * call, one to four for a client or bidi stream (the caller half-closes after them).
 */
export function bodyArbitrary(method: FuzzMethod): fc.Arbitrary<FuzzBody> {
  const one = oneBodyArbitrary(method.requestType);
  if (!method.requestStream) return one;
  return fc.array(one, { minLength: 1, maxLength: 4 }).map((bodies) => ({
    bytes: Buffer.concat(bodies.map((body) => body.bytes)),
    how: bodies.map((body) => body.how).join(" + "),
  }));
}

/**
 * The messages a server cuts `body` into, as gRPC framing does (a last frame that is cut short
 * is not a message). What the server would decode, so the safety check sees exactly that.
 */
export function messagesIn(body: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  let offset = 0;
  while (offset + 5 <= body.length) {
    const length = body.readUInt32BE(offset + 1);
    if (offset + 5 + length > body.length) break;
    messages.push(body.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  return messages;
}

/** What the fuzz must never send with a privileged caller, because it would change state. */
export interface FuzzFence {
  /** No string field anywhere in a request may equal one of these (guarded bucket, users…). */
  readonly forbiddenStrings: ReadonlySet<string>;
  /** Membership.Stage kinds that would stage a real change. */
  readonly stageKinds: ReadonlySet<string>;
}

/**
 * True when no message in `body` could touch the guarded state: each message the server would
 * cut from it either fails to decode (the server refuses it too: same protobufjs) or carries
 * no forbidden string, and no StageRequest names a real kind of change.
 */
export function isFenced(method: FuzzMethod, body: Buffer, fence: FuzzFence): boolean {
  for (const bytes of messagesIn(body)) {
    let decoded: protobuf.Message;
    try {
      decoded = method.requestType.decode(bytes);
    } catch {
      continue;
    }
    const plain = method.requestType.toObject(decoded, { longs: String, bytes: Buffer });
    if (carriesForbidden(plain, fence.forbiddenStrings)) return false;
    if (method.requestType.name === "StageRequest") {
      if (fence.stageKinds.has(String((plain as { kind?: unknown }).kind ?? ""))) return false;
    }
  }
  return true;
}

function carriesForbidden(value: unknown, forbidden: ReadonlySet<string>): boolean {
  if (typeof value === "string") return forbidden.has(value);
  if (Buffer.isBuffer(value) || value === null || typeof value !== "object") return false;
  return Object.entries(value).some(
    ([key, inner]) => forbidden.has(key) || carriesForbidden(inner, forbidden),
  );
}
