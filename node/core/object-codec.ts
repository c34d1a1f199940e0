// The versioned binary format of DVV sets (on disk and between replicas) and of client contexts
// (the opaque bytes clients carry), and its encoding; object-decode.ts decodes it. Pure: no IO.
// Encoding asserts that its input is valid.

import { assert, fail } from "./assert.js";
import {
  type CausalContext,
  type Dot,
  compareDots,
  compareStrings,
  contextCovers,
} from "./causal-context.js";
import { Writer, stringSize, varintSize } from "./byte-codec.js";
import type { DvvSet, Sibling } from "./dvv.js";
import { objectBytesEstimate, utf8ByteLength } from "./object-bytes.js";

/*
 * Format version 1. Integers are unsigned LEB128 varints in canonical form (no trailing zero
 * group), at most 8 bytes and at most 2^53 - 1. A string or byte string is a varint length, then
 * the bytes (strings in UTF-8). byte-codec.ts reads and writes these; this file owns the rest
 * (object-decode.ts reads it).
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

// Shared with object-decode.ts, which accepts exactly what this file writes.
export const FORMAT_VERSION = 1;
export const KIND_CONTEXT = 1;
export const KIND_OBJECT = 2;
/** Actors are node ids (at most 64 characters); 255 bytes leaves room and bounds garbage. */
export const ACTOR_BYTES_MAX = 255;
export const FLAG_DELETED = 1;

// ---------------------------------------------------------------------------------------------
// Encoding: measure, allocate once, write.

export interface ActorEntry {
  readonly actor: string;
  readonly vv: number;
  readonly cloud: number[];
}

/**
 * The context as actor entries sorted by actor; asserts that it is normalised. A normalised
 * context's vv is already in actor order and its cloud in (actor, counter) order, so the table
 * is built in one merge, without a map or a sort (a vv in another order is sorted first).
 */
function actorTable(context: CausalContext): ActorEntry[] {
  const table: ActorEntry[] = [];
  let ordered = true;
  // forEach: a for-of over the entries makes an array per entry.
  context.vv.forEach((counter, actor) => {
    if (!Number.isSafeInteger(counter) || counter < 1)
      fail(`object-codec: vv of ${actor} is ${counter}`);
    const last = table[table.length - 1];
    if (last !== undefined && !(last.actor < actor)) ordered = false;
    table.push({ actor, vv: counter, cloud: [] });
  });
  if (!ordered) table.sort((x, y) => compareStrings(x.actor, y.actor));
  let previous: Dot | undefined;
  let at = 0;
  for (const dot of context.cloud) {
    assert(
      previous === undefined || compareDots(previous, dot) < 0,
      "object-codec: cloud is not sorted",
    );
    while (at < table.length && (table[at] as ActorEntry).actor < dot.actor) at++;
    let entry = table[at];
    if (entry === undefined || entry.actor !== dot.actor) {
      entry = { actor: dot.actor, vv: 0, cloud: [] };
      table.splice(at, 0, entry);
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
  for (const entry of table) {
    const bytes = utf8ByteLength(entry.actor);
    if (bytes < 1 || bytes > ACTOR_BYTES_MAX) fail(`object-codec: actor of ${bytes} bytes`);
  }
  return table;
}

/** The index of `actor` in the sorted `table` (binary search); -1 when it is not there. */
function indexOfActor(table: readonly ActorEntry[], actor: string): number {
  let low = 0;
  let high = table.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const probe = (table[middle] as ActorEntry).actor;
    if (probe === actor) return middle;
    if (probe < actor) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

function bodySize(table: readonly ActorEntry[]): number {
  let size = varintSize(table.length);
  for (const entry of table) {
    size += stringSize(entry.actor) + varintSize(entry.vv) + varintSize(entry.cloud.length);
    for (const counter of entry.cloud) size += varintSize(counter);
  }
  return size;
}

const NO_METADATA: [string, string][] = [];

function sortedMetadata(metadata: Readonly<Record<string, string>>): [string, string][] {
  const entries = Object.entries(metadata);
  return entries.length === 0 ? NO_METADATA : entries.sort((x, y) => compareStrings(x[0], y[0]));
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

/**
 * Bytes of the context as {@link encodeContext} writes it, without encoding it or building its
 * actor table (it runs on every write, for the object limit). Checks nothing: encoding does.
 */
export function contextBytes(context: CausalContext): number {
  let actors = context.vv.size;
  // Each vv actor with a cloud count of 0 (one byte); cloud groups below correct that.
  let size = actors;
  context.vv.forEach((counter, actor) => {
    size += stringSize(actor) + varintSize(counter);
  });
  const cloud = context.cloud;
  for (let from = 0; from < cloud.length;) {
    const actor = (cloud[from] as Dot).actor;
    let to = from;
    for (; to < cloud.length && (cloud[to] as Dot).actor === actor; to++) {
      size += varintSize((cloud[to] as Dot).counter);
    }
    if (context.vv.has(actor)) size += varintSize(to - from) - 1;
    else {
      actors += 1;
      size += stringSize(actor) + varintSize(0) + varintSize(to - from);
    }
    from = to;
  }
  return 2 + varintSize(actors) + size;
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
    size += siblingSize(sibling, indexOfActor(table, dot.actor), metadata[index] ?? []);
    previous = dot;
  });
  const writer = new Writer(size);
  writer.byte(FORMAT_VERSION);
  writer.byte(KIND_OBJECT);
  writeBody(writer, table);
  writer.varint(object.siblings.length);
  object.siblings.forEach((sibling, index) => {
    writer.varint(indexOfActor(table, sibling.dot.actor));
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

/** Encodings kept by encodeObjectShared, for as long as their object lives. */
const sharedEncodings = new WeakMap<DvvSet, Uint8Array>();

/**
 * encodeObject, encoded once per object: a coordinator stores its write and sends the same
 * object to n - 1 replicas, and each of them would otherwise encode it again. Objects are
 * never changed once made, so the bytes stay right; callers must not change them either.
 */
export function encodeObjectShared(object: DvvSet): Uint8Array {
  let bytes = sharedEncodings.get(object);
  if (bytes === undefined) {
    bytes = encodeObject(object);
    sharedEncodings.set(object, bytes);
  }
  return bytes;
}
