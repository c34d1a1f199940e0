// The per-key bounds of DESIGN §7 (siblings and object bytes) as one check, shared by the
// coordinator's local write and a replica's merge of a coordinated write, and the refusal both
// send when a write would break them. Pure.

import { type DvvSet, dvvEquals } from "./dvv.js";
import { KvError } from "./errors.js";
import type { Limits } from "./limits.js";
import { objectLimitBytes } from "./object-codec.js";

/** The bounds an object is checked against. */
export type ObjectLimits = Pick<Limits, "siblingsMax" | "objectBytesMax">;

/** What the bounds count of one object. */
export interface ObjectSize {
  readonly siblings: number;
  /** Values, content types, metadata and the encoded context (objectLimitBytes). */
  readonly bytes: number;
}

/** How an object breaks its bounds, with the numbers for the message. */
export type ObjectExcess =
  | { readonly kind: "siblings"; readonly siblings: number; readonly max: number }
  | {
      readonly kind: "bytes";
      readonly bytes: number;
      readonly siblings: number;
      readonly max: number;
    };

/** The sibling count and the bytes the object limit counts. */
export function objectSize(object: DvvSet): ObjectSize {
  return { siblings: object.siblings.length, bytes: objectLimitBytes(object) };
}

/**
 * Whether an object of this size breaks a bound: more siblings than siblingsMax, or more bytes
 * than objectBytesMax; undefined when it is within both. Siblings are named first: they are
 * what a client resolves.
 */
export function objectExcess(size: ObjectSize, limits: ObjectLimits): ObjectExcess | undefined {
  const { siblings, bytes } = size;
  if (siblings > limits.siblingsMax) return { kind: "siblings", siblings, max: limits.siblingsMax };
  if (bytes > limits.objectBytesMax) {
    return { kind: "bytes", bytes, siblings, max: limits.objectBytesMax };
  }
  return undefined;
}

/** The two ways a limit refusal's message starts; {@link isLimitRefusal} recognises them. */
const SIBLINGS_PREFIX = "too many siblings: ";
const BYTES_PREFIX = "object too large: ";

/**
 * The refusal of a write whose object would break a bound at node `where` (too-large, which
 * is RESOURCE_EXHAUSTED on the wire; nothing was stored). Its message starts with one of two
 * fixed prefixes, so that a coordinator can tell it from every other RESOURCE_EXHAUSTED a
 * replica call can end with (load shedding, a fallback's full hint store).
 */
export function limitRefusal(excess: ObjectExcess, where: string): KvError {
  const advice = "resolve them by writing with the context of a get";
  const message =
    excess.kind === "siblings"
      ? `${SIBLINGS_PREFIX}${excess.siblings} exceeds ${excess.max} at ${where}; ${advice}`
      : `${BYTES_PREFIX}${excess.bytes} bytes over ${excess.siblings} siblings exceeds ` +
        `${excess.max} at ${where}; ${advice}`;
  return new KvError("too-large", message, { notApplied: true });
}

/**
 * True when a replica's refusal message (of a RESOURCE_EXHAUSTED reply) is a limit refusal made
 * by {@link limitRefusal}: the replica stored nothing because of the key's bounds.
 */
export function isLimitRefusal(message: string): boolean {
  return message.startsWith(SIBLINGS_PREFIX) || message.startsWith(BYTES_PREFIX);
}

/**
 * The excess of `object` that a write making it from `before` may not cause: a bound it breaks
 * by growing. A write that breaks a bound without growing past what was stored (a client
 * resolving siblings of a key that is already over the limit, which the bound after
 * convergence allows) is not refused: refusing it would leave the key stuck over its limit.
 * A write that changes nothing is checked as a new one: its acknowledgement counts towards w
 * like any other, and the bound after convergence counts acknowledgements.
 */
export function growthExcess(
  object: DvvSet,
  before: DvvSet | undefined,
  limits: ObjectLimits,
): ObjectExcess | undefined {
  const size = objectSize(object);
  const excess = objectExcess(size, limits);
  if (excess === undefined || before === undefined || dvvEquals(object, before)) return excess;
  const was = objectSize(before);
  if (excess.kind === "siblings") {
    if (size.siblings > was.siblings) return excess;
    // Not more siblings: it may still grow past the byte bound.
    return size.bytes > limits.objectBytesMax && size.bytes > was.bytes
      ? { kind: "bytes", bytes: size.bytes, siblings: size.siblings, max: limits.objectBytesMax }
      : undefined;
  }
  return size.bytes > was.bytes ? excess : undefined;
}

/**
 * A check for Replica.coordinate and Replica.merge: throws the {@link limitRefusal} of node
 * `where` when the write would grow the object past a bound (see {@link growthExcess}).
 */
export function limitCheck(
  limits: ObjectLimits,
  where: string,
): (object: DvvSet, before: DvvSet | undefined) => void {
  return (object, before) => {
    const excess = growthExcess(object, before, limits);
    if (excess !== undefined) throw limitRefusal(excess, where);
  };
}
