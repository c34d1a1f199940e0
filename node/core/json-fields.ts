// Reading JSON that came from disk or a peer, field by field: the checks every metadata decoder
// shares, each throwing a LayoutError that names where the value was wrong. Pure.

import { LayoutError } from "./layout-error.js";

/** `value` as an object with exactly `keys` (those in `optional` may be missing). */
export function fields(
  value: unknown,
  where: string,
  keys: readonly string[],
  optional: readonly string[] = [],
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new LayoutError(`${where}: want an object, got ${show(value)}`);
  }
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).find((key) => !keys.includes(key));
  if (unknown !== undefined) throw new LayoutError(`${where}: unknown field ${show(unknown)}`);
  const missing = keys.find((key) => !Object.hasOwn(record, key) && !optional.includes(key));
  if (missing !== undefined) throw new LayoutError(`${where}: missing field ${missing}`);
  return record;
}

/** `value` as an array of at most `lengthMax` entries. */
export function list(value: unknown, where: string, lengthMax: number): unknown[] {
  if (!Array.isArray(value)) throw new LayoutError(`${where}: want an array, got ${show(value)}`);
  if (value.length > lengthMax) {
    throw new LayoutError(`${where} has ${value.length} entries, more than ${lengthMax}`);
  }
  return value;
}

/** `value` as a safe integer in min..max. */
export function integer(
  value: unknown,
  where: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new LayoutError(`${where}: want an integer in ${min}..${max}, got ${show(value)}`);
  }
  return value;
}

/** Runs `check`, naming `where` in the message of a LayoutError it throws. */
export function prefixed(where: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof LayoutError) throw new LayoutError(`${where}: ${error.message}`);
    throw error;
  }
}

/** A value for an error message, cut short: it may be anything a peer sent. */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
