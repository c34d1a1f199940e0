// Where the stream of one partition's ownership transfer stands, and the file that keeps it.
// Pure: no IO, clock or randomness. The stream walks a partition's anti-entropy tree leaf by
// leaf, and within a leaf in key-id order; keys are placed in leaves by their hash, so a cursor
// means the same at every replica of the partition and a stream resumes at any of them.

/** A position in a partition's stream: everything before it has arrived. */
export interface TransferCursor {
  /** Every key of the leaves before this one has arrived. */
  readonly leaf: number;
  /** In `leaf`, every key id up to and including this one (storageKeyString order). */
  readonly afterId: string | undefined;
}

/** The stream's start. */
export const CURSOR_START: TransferCursor = Object.freeze({ leaf: 0, afterId: undefined });

/** The key ids of one leaf still to send after `afterId`, in stream order (a sorted copy). */
export function idsAfter(ids: readonly string[], afterId: string | undefined): string[] {
  const sorted = [...ids].sort(compareIds);
  if (afterId === undefined) return sorted;
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareIds(sorted[middle]!, afterId) <= 0) low = middle + 1;
    else high = middle;
  }
  return sorted.slice(low);
}

/** Stream order of key ids: code-unit order, the same at every node. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What the receiver has of one partition's stream. */
export interface PullRecord {
  readonly cursor: TransferCursor;
  /** Keys and bytes received over every attempt (for progress, not for correctness). */
  readonly keysDone: number;
  readonly bytesDone: number;
  /** The stream reached its end at some source: every key it held has arrived. */
  readonly done: boolean;
}

/** A node's pulls for one layout version (the change under way). */
export interface PullFile {
  readonly layoutVersion: number;
  readonly partitions: ReadonlyMap<number, PullRecord>;
}

const PULL_FILE_FORMAT = 1;
/** A pull file is a few bytes per partition; anything larger is not one. */
export const PULL_FILE_BYTES_MAX = 4 * 1024 * 1024;

/** The pull file as JSON (key ids are UTF-16 strings; JSON keeps them exactly). */
export function encodePullFile(file: PullFile): string {
  const partitions = [...file.partitions]
    .sort(([a], [b]) => a - b)
    .map(([partition, record]) => ({
      partition,
      leaf: record.cursor.leaf,
      ...(record.cursor.afterId === undefined ? {} : { afterId: record.cursor.afterId }),
      keysDone: record.keysDone,
      bytesDone: record.bytesDone,
      done: record.done,
    }));
  return JSON.stringify({
    format: PULL_FILE_FORMAT,
    layoutVersion: file.layoutVersion,
    partitions,
  });
}

/** Decodes a pull file, checking every field; a reason names the first thing wrong. */
export function decodePullFile(
  text: string,
  partitionCount: number,
  leafCountOfTree: number,
): { ok: true; file: PullFile } | { ok: false; reason: string } {
  if (text.length > PULL_FILE_BYTES_MAX) {
    return { ok: false, reason: `larger than ${PULL_FILE_BYTES_MAX} bytes` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${error instanceof Error ? error.message : ""}` };
  }
  if (!isRecord(value)) return { ok: false, reason: "not an object" };
  if (value["format"] !== PULL_FILE_FORMAT) {
    return { ok: false, reason: `format ${String(value["format"])}, expected ${PULL_FILE_FORMAT}` };
  }
  const layoutVersion = value["layoutVersion"];
  if (!isCount(layoutVersion)) return { ok: false, reason: "layoutVersion is not a count" };
  const list = value["partitions"];
  if (!Array.isArray(list)) return { ok: false, reason: "partitions is not a list" };
  const partitions = new Map<number, PullRecord>();
  for (const [index, entry] of list.entries()) {
    const decoded = decodeRecord(entry, partitionCount, leafCountOfTree);
    if (typeof decoded === "string") {
      return { ok: false, reason: `partitions[${index}]: ${decoded}` };
    }
    if (partitions.has(decoded.partition)) {
      return { ok: false, reason: `partition ${decoded.partition} appears twice` };
    }
    partitions.set(decoded.partition, decoded.record);
  }
  return { ok: true, file: { layoutVersion, partitions } };
}

function decodeRecord(
  entry: unknown,
  partitionCount: number,
  leafCountOfTree: number,
): { partition: number; record: PullRecord } | string {
  if (!isRecord(entry)) return "not an object";
  const { partition, leaf, afterId, keysDone, bytesDone, done } = entry;
  if (!(isCount(partition) && partition < partitionCount)) {
    return `partition is not in 0..${partitionCount - 1}`;
  }
  // leaf = leafCount is the cursor after the last leaf.
  if (!(isCount(leaf) && leaf <= leafCountOfTree)) return `leaf is not in 0..${leafCountOfTree}`;
  if (!(afterId === undefined || typeof afterId === "string")) return "afterId is not a string";
  if (!isCount(keysDone) || !isCount(bytesDone)) return "keysDone or bytesDone is not a count";
  if (typeof done !== "boolean") return "done is not a boolean";
  const cursor = { leaf, afterId };
  return { partition, record: { cursor, keysDone, bytesDone, done } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Bytes per second over a sliding window of samples. `record` and `rate` take the time as an
 * argument, so the window is pure; samples older than the window are dropped as it slides.
 */
export class RateWindow {
  readonly #windowMs: number;
  readonly #samples: { atMs: number; bytes: number }[] = [];
  #bytes = 0;

  constructor(windowMs: number) {
    if (!(windowMs > 0)) throw new Error(`a rate window needs a span > 0 ms, got ${windowMs}`);
    this.#windowMs = windowMs;
  }

  record(atMs: number, bytes: number): void {
    this.#samples.push({ atMs, bytes });
    this.#bytes += bytes;
    this.#slide(atMs);
  }

  /** Bytes per second over the window ending at `nowMs`; 0 with fewer than two samples. */
  rate(nowMs: number): number {
    this.#slide(nowMs);
    const first = this.#samples[0];
    if (first === undefined || this.#samples.length < 2) return 0;
    // The first sample's bytes arrived before the span starts.
    const spanMs = Math.max(nowMs - first.atMs, 1);
    return ((this.#bytes - first.bytes) * 1000) / spanMs;
  }

  #slide(nowMs: number): void {
    while (this.#samples.length > 0 && this.#samples[0]!.atMs < nowMs - this.#windowMs) {
      this.#bytes -= this.#samples.shift()!.bytes;
    }
  }
}

/** Bytes left to stream, estimated from the mean size of what arrived; 0 when nothing has. */
export function bytesLeftEstimate(keysLeft: number, keysDone: number, bytesDone: number): number {
  return keysDone === 0 ? 0 : Math.round((keysLeft * bytesDone) / keysDone);
}
