// Decoding of the binary format that object-codec.ts defines and writes: objects and client
// contexts. Pure: no IO. Total: malformed bytes come back as { ok: false, reason }, never as a
// throw; every read is bounds-checked and a failure unwinds to the entry point as a value.

import {
  type CausalContext,
  type Dot,
  EMPTY_CONTEXT,
  compareDots,
  compareStrings,
  contextCovers,
} from "./causal-context.js";
import { DecodeFailure, Reader, plural } from "./byte-codec.js";
import { type DvvSet, type Sibling, EMPTY_DVV_SET } from "./dvv.js";
import {
  type ActorEntry,
  ACTOR_BYTES_MAX,
  FLAG_DELETED,
  FORMAT_VERSION,
  KIND_CONTEXT,
  KIND_OBJECT,
} from "./object-codec.js";

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
