// The checks on what clients saw, one observation (a read, a final read, one node's copy) at a
// time: every sibling must name a write that was attempted (no phantoms), name it with one dot
// only (no duplicates), and the siblings must be writes that did not see each other (DVV keeps
// exactly the concurrent writes, so siblings never outnumber the truly concurrent writers).
// Learns the dots of writes whose acknowledgement was lost, from vtags. Pure.

import { contextCovers, type CausalContext, type Dot } from "../../../node/core/causal-context.js";
import { findDotsByVtag } from "./dots.js";
import { valueTag, type ObservedSibling, type WriteRecord } from "./history.js";

/** Everything the checker counts; `duplicate-value` alone is a warning, not a failure. */
export type Finding =
  | "lost-write"
  | "lost-element"
  | "phantom"
  | "failed-write-visible"
  | "duplicate-dot"
  | "duplicate-value"
  | "siblings-not-concurrent"
  | "divergent-replicas"
  | "not-converged"
  | "unexplained-ack"
  | "resurrected";

/** Findings that make the verdict a failure. */
export const FAILING_FINDINGS: ReadonlySet<Finding> = new Set<Finding>([
  "lost-write",
  "lost-element",
  "phantom",
  "failed-write-visible",
  "duplicate-dot",
  "siblings-not-concurrent",
  "divergent-replicas",
  "not-converged",
  "unexplained-ack",
  "resurrected",
]);

/**
 * Counts one finding. With `once`, a finding seen again under the same id (the same phantom
 * value in several copies, the same pair of siblings in several reads) counts only once.
 */
export type Report = (finding: Finding, message: string, once?: string) => void;

/** One thing a client saw of a key. */
export interface Observation {
  readonly key: string;
  /** For messages: `read 1234 by client 3`, `final r=all read`, `n2's copy`. */
  readonly what: string;
  readonly siblings: readonly ObservedSibling[];
  readonly context: CausalContext | undefined;
  /**
   * When the observation completed (run time, ms), for reads during the run: a version seen by
   * then cannot belong to a write invoked later. Undefined for the final reads.
   */
  readonly completeMs?: number | undefined;
}

/** One version seen: the write whose value it carries, its vtag and (when known) its dot. */
export interface SeenVersion {
  readonly write: WriteRecord;
  readonly vtag: string;
  readonly dot: Dot | undefined;
}

/**
 * What the checker knows about writes and their versions, built up while observations are
 * examined. Usually one write makes one version; a put retried after it had landed makes two
 * versions of one value (reported as `duplicate-value`), and each is judged by its own dot.
 */
export class WriteIndex {
  readonly byTag = new Map<string, WriteRecord>();
  /** The dot of each write: acknowledged, or learned from the first version seen. */
  readonly #dots = new Map<WriteRecord, Dot>();
  /** `key/vtag` → the version. */
  readonly #versions = new Map<string, { write: WriteRecord; dot: Dot | undefined }>();
  /** Vtags seen per write, to notice a write that exists as two versions. */
  readonly #vtagsOf = new Map<WriteRecord, Set<string>>();
  /**
   * `key/vtag` of versions seen before the write whose value they carry was invoked: not that
   * write's (data from before the run, e.g. a reused cluster directory whose values repeat
   * this run's value tags). Every later sighting is a phantom too, never a second version.
   */
  readonly #foreign = new Set<string>();

  constructor(writes: readonly WriteRecord[], report: Report) {
    for (const write of writes) {
      const tag = valueTag(write.value);
      if (this.byTag.has(tag)) throw new Error(`two writes share the value tag ${tag}`);
      this.byTag.set(tag, write);
      if (write.dot !== undefined) this.#dots.set(write, write.dot);
      if (write.vtag !== undefined) {
        this.#versions.set(`${write.key}/${write.vtag}`, { write, dot: write.dot });
        this.#vtagsOf.set(write, new Set([write.vtag]));
      }
      // A delete's reply carries no dot: its tombstone is never seen, only its effect.
      if (write.outcome === "ok" && write.dot === undefined && write.deleted !== true) {
        report("unexplained-ack", `${write.key}: ${tag} was acknowledged without a new dot`);
      }
    }
  }

  dotOf(write: WriteRecord): Dot | undefined {
    return this.#dots.get(write);
  }

  /**
   * Maps each sibling to its write and version, reporting phantoms, definitely failed writes
   * that became visible, duplicates, and one version carrying two values; learns unknown dots
   * from the observation's context.
   */
  resolve(observation: Observation, report: Report): SeenVersion[] {
    const seen: { write: WriteRecord; vtag: string }[] = [];
    const unknown = new Set<string>();
    for (const sibling of observation.siblings) {
      const write = this.byTag.get(valueTag(sibling.value));
      if (write === undefined || write.key !== observation.key || write.value !== sibling.value) {
        report(
          "phantom",
          `${observation.key}: ${observation.what} holds ${short(sibling.value)}, which nobody wrote there`,
          `${observation.key}/${sibling.value}`,
        );
        continue;
      }
      const id = `${write.key}/${sibling.vtag}`;
      if (
        this.#foreign.has(id) ||
        (observation.completeMs !== undefined && write.invokeMs > observation.completeMs)
      ) {
        this.#foreign.add(id);
        report(
          "phantom",
          `${observation.key}: ${observation.what} holds ${short(sibling.value)} (${sibling.vtag}), first seen before its write was invoked at ${write.invokeMs} ms (data from before the run?)`,
          `${id}/${sibling.value}`,
        );
        continue;
      }
      if (write.outcome === "fail") {
        report(
          "failed-write-visible",
          `${observation.key}: ${observation.what} holds ${short(write.value)}, whose put failed (${write.error ?? "?"})`,
          String(write.id),
        );
      }
      const version = this.#versions.get(id);
      if (version !== undefined && version.write !== write) {
        const other = short(version.write.value);
        report(
          "duplicate-dot",
          `${write.key}: version ${sibling.vtag} carried ${other} and ${short(write.value)}`,
          `${id}/${write.id}`,
        );
        continue;
      }
      if (version === undefined) {
        this.#versions.set(id, { write, dot: undefined });
        this.#noteSecondVersion(write, sibling.vtag, report);
      }
      const known = this.#versions.get(id);
      if (known !== undefined && known.dot === undefined && sibling.dot !== undefined) {
        known.dot = sibling.dot;
        if (!this.#dots.has(write)) this.#dots.set(write, sibling.dot);
      }
      if (known?.dot === undefined) unknown.add(sibling.vtag);
      seen.push({ write, vtag: sibling.vtag });
    }
    if (unknown.size > 0 && observation.context !== undefined) {
      for (const [vtag, dot] of findDotsByVtag(observation.context, unknown)) {
        const version = this.#versions.get(`${observation.key}/${vtag}`);
        if (version === undefined) continue;
        version.dot = dot;
        if (!this.#dots.has(version.write)) this.#dots.set(version.write, dot);
      }
    }
    return seen.map(({ write, vtag }) => ({
      write,
      vtag,
      dot: this.#versions.get(`${write.key}/${vtag}`)?.dot,
    }));
  }

  /** One put applied as two versions: a retry of a write that had landed already. */
  #noteSecondVersion(write: WriteRecord, vtag: string, report: Report): void {
    const vtags = this.#vtagsOf.get(write) ?? new Set<string>();
    this.#vtagsOf.set(write, vtags);
    vtags.add(vtag);
    if (vtags.size === 2) {
      report(
        "duplicate-value",
        `${write.key}: ${short(write.value)} exists as ${vtags.size} versions (${[...vtags].join(", ")})`,
      );
    }
  }
}

/**
 * Siblings must be pairwise concurrent: no sibling's write had the dot of another in its
 * context. A sibling kept beside a write that had seen it is a superseded version that came
 * back, and the bound "siblings ≤ truly concurrent writers" fails with it.
 */
export function checkConcurrent(
  observation: Observation,
  versions: readonly SeenVersion[],
  report: Report,
): void {
  for (const earlier of versions) {
    if (earlier.dot === undefined) continue;
    for (const later of versions) {
      if (later === earlier || !contextCovers(later.write.context, earlier.dot)) continue;
      report(
        "siblings-not-concurrent",
        `${observation.key}: ${observation.what} keeps ${short(earlier.write.value)} (${earlier.vtag}) beside ${short(later.write.value)}, whose context covered it`,
        `${observation.key}/${earlier.vtag}/${later.vtag}`,
      );
    }
  }
}

/** A value cut for messages (set values grow long). */
export function short(value: string): string {
  return value.length <= 40 ? value : `${value.slice(0, 37)}...`;
}
