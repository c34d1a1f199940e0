// The versioned binary format of DVV sets (on disk and between replicas) and of client contexts
// (the opaque bytes clients carry). Pure: no IO. Encoding asserts that its input is valid;
// decoding is total: malformed bytes come back as { ok: false, reason }, never as a throw.

import { assert, fail } from "./assert.js";
import {
  type CausalContext,
  type Dot,
  EMPTY_CONTEXT,
  compareDots,
  compareStrings,
  contextCovers,
} from "./causal-context.js";
import { DecodeFailure, Reader, Writer, plural, stringSize, varintSize } from "./byte-codec.js";
import { type DvvSet, type Sibling, EMPTY_DVV_SET } from "./dvv.js";
import { objectBytesEstimate, utf8ByteLength } from "./object-bytes.js";

/*
 * Format version 1. Integers are unsigned LEB128 varints in canonical form (no trailing zero
 * group), at most 8 bytes and at most 2^53 - 1. A string or byte string is a varint length, then
 * the bytes (strings in UTF-8). byte-codec.ts reads and writes these; this file owns the rest.
 *
 *   context = 0x01 0x01 body
 *   object  = 0x01 0x02 body varint(siblingCount) sibling*          siblings ascending by dot
 *   body    = varint(actorCount) actor*                              actors strictly ascending
 *   actor   = string(name: 1..255 bytes) varint(vv) varint(cloudCount) varint(cloudCounter)*
 *   sibling = varint(actorIndex) varint(counter) byte(flags: 1 = deleted) varint(lastModifiedMs)
 *             string(contentType) varint(metadataCount) (string(key) string(value))* bytes(value)
 *
 * An actor has vv >= 1 or at least one cloud counter; cloud counters ascend and the first is
 * above vv + 1. Metadata keys ascend. So every value has exactly one encoding, and decode
 * accepts only that one: `encode(decode(bytes)) = bytes` whenever decode succeeds.
 */

const FORMAT_VERSION = 1;
const KIND_CONTEXT = 1;
const KIND_OBJECT = 2;
/** Actors are node ids (at most 64 characters); 255 bytes leaves room and bounds garbage. */
const ACTOR_BYTES_MAX = 255;
const FLAG_DELETED = 1;
/** The fewest bytes one encoded actor, sibling and metadata entry can take. */
const ACTOR_BYTES_MIN = 4;
const SIBLING_BYTES_MIN = 7;
const METADATA_ENTRY_BYTES_MIN = 2;

type Kind = "object" | "context";

/** The outcome of {@link decodeObject}. */
export type DecodeObjectResult =
  { readonly ok: true; readonly object: DvvSet } | { readonly ok: false; readonly reason: string };

/** The outcome of {@link decodeContext}. */
export type DecodeContextResult =
  | { readonly ok: true; readonly context: CausalContext }
  | { readonly ok: false; readonly reason: string };

// ---------------------------------------------------------------------------------------------
// Encoding: measure, allocate once, write.

interface ActorEntry {
  readonly actor: string;
  readonly vv: number;
  readonly cloud: number[];
}

/** The context as actor entries sorted by actor; asserts that it is normalised. */
function actorTable(context: CausalContext): ActorEntry[] {
  const byActor = new Map<string, ActorEntry>();
  for (const [actor, counter] of context.vv) {
    if (!Number.isSafeInteger(counter) || counter < 1)
      fail(`object-codec: vv of ${actor} is ${counter}`);
    byActor.set(actor, { actor, vv: counter, cloud: [] });
  }
  let previous: Dot | undefined;
  for (const dot of context.cloud) {
    assert(
      previous === undefined || compareDots(previous, dot) < 0,
      "object-codec: cloud is not sorted",
    );
    let entry = byActor.get(dot.actor);
    if (entry === undefined) {
      entry = { actor: dot.actor, vv: 0, cloud: [] };
      byActor.set(dot.actor, entry);
    }
    assert(
      dot.counter > entry.vv + 1,
      "object-codec: cloud dot is covered by or contiguous with vv",
    );
    if (!Number.isSafeInteger(dot.counter))
      fail(`object-codec: cloud counter ${dot.counter} is not safe`);
    entry.cloud.push(dot.counter);
    previous = dot;
  }
  const table = [...byActor.values()].sort((x, y) => compareStrings(x.actor, y.actor));
  for (const entry of table) {
    const bytes = utf8ByteLength(entry.actor);
    if (bytes < 1 || bytes > ACTOR_BYTES_MAX) fail(`object-codec: actor of ${bytes} bytes`);
  }
  return table;
}

function bodySize(table: readonly ActorEntry[]): number {
  let size = varintSize(table.length);
  for (const entry of table) {
    size += stringSize(entry.actor) + varintSize(entry.vv) + varintSize(entry.cloud.length);
    for (const counter of entry.cloud) size += varintSize(counter);
  }
  return size;
}

function sortedMetadata(metadata: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(metadata).sort((x, y) => compareStrings(x[0], y[0]));
}

function siblingSize(sibling: Sibling, actorIndex: number, metadata: [string, string][]): number {
  let size = varintSize(actorIndex) + varintSize(sibling.dot.counter) + 1;
  size += varintSize(sibling.lastModifiedMs) + stringSize(sibling.contentType);
  size += varintSize(metadata.length);
  for (const [key, value] of metadata) size += stringSize(key) + stringSize(value);
  return size + varintSize(sibling.value.length) + sibling.value.length;
}

function writeBody(writer: Writer, table: readonly ActorEntry[]): void {
  writer.varint(table.length);
  for (const entry of table) {
    writer.string(entry.actor);
    writer.varint(entry.vv);
    writer.varint(entry.cloud.length);
    for (const counter of entry.cloud) writer.varint(counter);
  }
}

/**
 * The client context as opaque bytes (format version 1). Law:
 * `decodeContext(encodeContext(c))` is `{ ok: true, context: c' }` with `contextEquals(c, c')`.
 */
export function encodeContext(context: CausalContext): Uint8Array {
  const table = actorTable(context);
  const writer = new Writer(2 + bodySize(table));
  writer.byte(FORMAT_VERSION);
  writer.byte(KIND_CONTEXT);
  writeBody(writer, table);
  return writer.finish();
}

/** Bytes of the context as {@link encodeContext} writes it, without encoding it. */
export function contextBytes(context: CausalContext): number {
  return 2 + bodySize(actorTable(context));
}

/**
 * What the object limit (Limits.objectBytesMax) counts: the values, content types and metadata
 * of all siblings (objectBytesEstimate) plus the encoded causal context. The context counts
 * because it is stored and sent with every copy, and a key's context grows with its actors.
 */
export function objectLimitBytes(object: DvvSet): number {
  return objectBytesEstimate(object) + contextBytes(object.context);
}

/**
 * The object as bytes (format version 1), for storage records and replica messages. Asserts the
 * DvvSet invariant (siblings ascending by dot, each covered by the context). Law:
 * `decodeObject(encodeObject(o))` is `{ ok: true, object: o' }` with o' structurally equal to o.
 */
export function encodeObject(object: DvvSet): Uint8Array {
  const table = actorTable(object.context);
  const actorIndex = new Map(table.map((entry, index) => [entry.actor, index]));
  const metadata = object.siblings.map((sibling) => sortedMetadata(sibling.metadata));
  let size = 2 + bodySize(table) + varintSize(object.siblings.length);
  let previous: Dot | undefined;
  object.siblings.forEach((sibling, index) => {
    const dot = sibling.dot;
    assert(
      previous === undefined || compareDots(previous, dot) < 0,
      "object-codec: siblings are not sorted",
    );
    assert(
      contextCovers(object.context, dot),
      "object-codec: a sibling's dot is not covered by the context",
    );
    assert(
      sibling.value instanceof Uint8Array,
      "object-codec: a sibling's value is not a Uint8Array",
    );
    size += siblingSize(sibling, actorIndex.get(dot.actor) ?? 0, metadata[index] ?? []);
    previous = dot;
  });
  const writer = new Writer(size);
  writer.byte(FORMAT_VERSION);
  writer.byte(KIND_OBJECT);
  writeBody(writer, table);
  writer.varint(object.siblings.length);
  object.siblings.forEach((sibling, index) => {
    writer.varint(actorIndex.get(sibling.dot.actor) ?? 0);
    writer.varint(sibling.dot.counter);
    writer.byte(sibling.deleted ? FLAG_DELETED : 0);
    writer.varint(sibling.lastModifiedMs);
    writer.string(sibling.contentType);
    const entries = metadata[index] ?? [];
    writer.varint(entries.length);
    for (const [key, value] of entries) {
      writer.string(key);
      writer.string(value);
    }
    writer.raw(sibling.value);
  });
  return writer.finish();
}

// ---------------------------------------------------------------------------------------------
// Decoding: every read is bounds-checked; a failure unwinds to the entry point as a value.

function readActor(reader: Reader, previous: string | undefined, cloud: Dot[]): ActorEntry {
  const start = reader.position;
  const length = reader.varint("actor length");
  if (length === 0) reader.fail(`empty actor at byte ${start}`);
  if (length > ACTOR_BYTES_MAX) {
    reader.fail(`actor of ${length} bytes at byte ${start} exceeds ${ACTOR_BYTES_MAX}`);
  }
  const actor = reader.string("actor", length);
  if (previous !== undefined && compareStrings(previous, actor) >= 0) {
    const problem = previous === actor ? "duplicate actor" : "actors out of order";
    reader.fail(`${problem} at byte ${start}`);
  }
  const vv = reader.varint("version vector counter");
  const cloudCount = reader.count("cloud", 1);
  if (vv === 0 && cloudCount === 0) reader.fail(`actor without dots at byte ${start}`);
  const counters: number[] = [];
  for (let index = 0; index < cloudCount; index++) {
    const at = reader.position;
    const counter = reader.varint("cloud counter");
    const last = counters[counters.length - 1];
    if (last === undefined && counter <= vv + 1) {
      const problem = `counter ${counter} is covered by or contiguous with version vector ${vv}`;
      reader.fail(`cloud not normalised at byte ${at}: ${problem}`);
    }
    if (last !== undefined && counter <= last) {
      reader.fail(`cloud not normalised at byte ${at}: counter ${counter} after ${last}`);
    }
    counters.push(counter);
    cloud.push({ actor, counter });
  }
  return { actor, vv, cloud: counters };
}

function readBody(reader: Reader): { context: CausalContext; actors: string[] } {
  const actorCount = reader.count("actor", ACTOR_BYTES_MIN);
  if (actorCount === 0) return { context: EMPTY_CONTEXT, actors: [] };
  const vv = new Map<string, number>();
  const cloud: Dot[] = [];
  const actors: string[] = [];
  for (let index = 0; index < actorCount; index++) {
    const entry = readActor(reader, actors[actors.length - 1], cloud);
    if (entry.vv > 0) vv.set(entry.actor, entry.vv);
    actors.push(entry.actor);
  }
  return { context: { vv, cloud }, actors };
}

function readMetadata(reader: Reader): Record<string, string> {
  const count = reader.count("metadata", METADATA_ENTRY_BYTES_MIN);
  const entries: [string, string][] = [];
  for (let index = 0; index < count; index++) {
    const at = reader.position;
    const key = reader.string("metadata key");
    const previous = entries[entries.length - 1]?.[0];
    if (previous !== undefined && compareStrings(previous, key) >= 0) {
      const problem = previous === key ? "duplicate metadata key" : "metadata keys out of order";
      reader.fail(`${problem} at byte ${at}`);
    }
    entries.push([key, reader.string("metadata value")]);
  }
  // fromEntries defines own properties, so a key like "__proto__" stays an ordinary key.
  return Object.fromEntries(entries);
}

function readSibling(
  reader: Reader,
  context: CausalContext,
  actors: readonly string[],
  previous: Dot | undefined,
  copyValue: boolean,
): Sibling {
  const start = reader.position;
  const actorIndex = reader.varint("actor index");
  const actor = actors[actorIndex];
  if (actor === undefined) {
    reader.fail(`actor index ${actorIndex} at byte ${start} is not below ${actors.length}`);
  }
  const counterAt = reader.position;
  const counter = reader.varint("sibling counter");
  if (counter === 0) reader.fail(`zero sibling counter at byte ${counterAt}`);
  const dot: Dot = { actor, counter };
  if (previous !== undefined && compareDots(previous, dot) >= 0) {
    const duplicate = compareDots(previous, dot) === 0;
    reader.fail(
      `${duplicate ? "duplicate sibling dot" : "siblings out of order"} at byte ${start}`,
    );
  }
  if (!contextCovers(context, dot)) reader.fail(`sibling at byte ${start} not covered by context`);
  const flagsAt = reader.position;
  const flags = reader.byte("flags");
  if ((flags & ~FLAG_DELETED) !== 0) reader.fail(`unknown flags ${flags} at byte ${flagsAt}`);
  const lastModifiedMs = reader.varint("last modified");
  const contentType = reader.string("content type");
  const metadata = readMetadata(reader);
  // Copy the value: the input may be a pooled or reused buffer.
  const view = reader.view("value");
  const value = copyValue ? new Uint8Array(view) : view;
  return { dot, value, contentType, metadata, lastModifiedMs, deleted: flags === FLAG_DELETED };
}

function readHeader(reader: Reader, kind: number): void {
  const version = reader.byte("format version");
  if (version !== FORMAT_VERSION) reader.fail(`unknown ${reader.what} format version ${version}`);
  const found = reader.byte("kind");
  if (found !== kind) {
    const article = reader.what === "object" ? "an" : "a";
    reader.fail(`expected ${article} ${reader.what} encoding (kind ${kind}), got kind ${found}`);
  }
}

function decodeWith<T>(
  bytes: Uint8Array,
  what: Kind,
  read: (reader: Reader) => T,
): { ok: true; value: T } | { ok: false; reason: string } {
  const reader = new Reader(bytes, what);
  try {
    readHeader(reader, what === "object" ? KIND_OBJECT : KIND_CONTEXT);
    const value = read(reader);
    const left = bytes.length - reader.position;
    if (left > 0) reader.fail(`${plural(left, "trailing byte")} at byte ${reader.position}`);
    return { ok: true, value };
  } catch (error) {
    if (error instanceof DecodeFailure) return { ok: false, reason: error.message };
    throw error;
  }
}

/**
 * Decodes {@link encodeObject}'s bytes. Total: any malformed input (truncated, trailing bytes,
 * bad varints, invalid UTF-8, bad actors, an unnormalised cloud, unsorted or uncovered siblings)
 * gives `{ ok: false, reason }` with a lowercase reason naming the byte offset. Allocates at most
 * a small multiple of the input length; values are copied out of the input, unless
 * `copyValues` is false: then they are views into it, for a caller that only looks at the
 * object before the input can change (a digest check), and no value is copied.
 */
export function decodeObject(bytes: Uint8Array, copyValues = true): DecodeObjectResult {
  if (bytes.length === 0) return { ok: false, reason: "empty object encoding" };
  const decoded = decodeWith(bytes, "object", (reader) => {
    const { context, actors } = readBody(reader);
    const count = reader.count("sibling", SIBLING_BYTES_MIN);
    if (count === 0 && actors.length === 0) return EMPTY_DVV_SET;
    const siblings: Sibling[] = [];
    for (let index = 0; index < count; index++) {
      const previous = siblings[siblings.length - 1]?.dot;
      siblings.push(readSibling(reader, context, actors, previous, copyValues));
    }
    return { context, siblings };
  });
  return decoded.ok ? { ok: true, object: decoded.value } : decoded;
}

/**
 * Decodes a client context. Empty bytes mean "no context" and give EMPTY_CONTEXT; otherwise as
 * total and as strict as {@link decodeObject}.
 */
export function decodeContext(bytes: Uint8Array): DecodeContextResult {
  if (bytes.length === 0) return { ok: true, context: EMPTY_CONTEXT };
  const decoded = decodeWith(bytes, "context", (reader) => readBody(reader).context);
  return decoded.ok ? { ok: true, context: decoded.value } : decoded;
}
