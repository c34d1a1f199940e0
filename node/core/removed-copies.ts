// The file of counter floors an actor keeps across a clean restart (node/actor-lease.ts): for
// each key whose copy the node removed, the highest counter its actor gave the key and, for a
// reaped copy, the reaped tombstones' context (node/replica.ts). Pure: text in, entries out.

import type { CausalContext } from "./causal-context.js";
import { encodeContext } from "./object-codec.js";
import { decodeContext } from "./object-decode.js";

/** What a replica remembers of one removed copy (node/replica.ts RemovedCopy). */
export interface RemovedCopyEntry {
  readonly counter: number;
  readonly reaped?: CausalContext;
}

/** Largest floors file written; past it the lease is left unclean and the actor renewed. */
export const REMOVED_COPIES_FILE_BYTES_MAX = 64 * 1024 * 1024;

/**
 * The file's text: one JSON array of [key id (the replica's storageKeyString, as a JSON string:
 * any UTF-16, bucket names included), counter, reaped context (base64 of encodeContext) or
 * null]. Undefined when it would pass REMOVED_COPIES_FILE_BYTES_MAX.
 */
export function encodeRemovedCopies(
  entries: Iterable<readonly [string, RemovedCopyEntry]>,
): string | undefined {
  const rows: [string, number, string | null][] = [];
  let bytes = 2;
  for (const [id, copy] of entries) {
    const reaped =
      copy.reaped === undefined ? null : Buffer.from(encodeContext(copy.reaped)).toString("base64");
    const row: [string, number, string | null] = [id, copy.counter, reaped];
    // JSON escapes take at most 6 characters per UTF-16 unit.
    bytes += 6 * id.length + (reaped?.length ?? 4) + 24;
    if (bytes > REMOVED_COPIES_FILE_BYTES_MAX) return undefined;
    rows.push(row);
  }
  return JSON.stringify(rows);
}

/** Parses the file's text; a reason when anything in it is not as encodeRemovedCopies writes. */
export function decodeRemovedCopies(
  text: string,
):
  | { readonly ok: true; readonly entries: [string, RemovedCopyEntry][] }
  | { readonly ok: false; readonly reason: string } {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  if (!Array.isArray(rows)) return { ok: false, reason: "not an array" };
  const entries: [string, RemovedCopyEntry][] = [];
  for (const [index, row] of rows.entries()) {
    if (!Array.isArray(row) || row.length !== 3) return { ok: false, reason: `row ${index}` };
    const [id, counter, reaped] = row as unknown[];
    if (typeof id !== "string" || !Number.isSafeInteger(counter) || (counter as number) < 1) {
      return { ok: false, reason: `row ${index}` };
    }
    const key = id;
    if (reaped === null) {
      entries.push([key, { counter: counter as number }]);
      continue;
    }
    if (typeof reaped !== "string") return { ok: false, reason: `row ${index}` };
    const context = decodeContext(Buffer.from(reaped, "base64"));
    if (!context.ok) return { ok: false, reason: `row ${index}: ${context.reason}` };
    entries.push([key, { counter: counter as number, reaped: context.context }]);
  }
  return { ok: true, entries };
}
