// The invariant checker (../shared/reference/testing.md §2, "sibling-store checker"): judges a
// run's history against the replicas' final objects. Values are unique, so a value read names
// its write; dots are learned from acknowledgements and reads. A write may exist as two versions
// (a forward that moved on from a slow primary, like a client's retry): each version is judged
// by its own dot. Pure: no IO, clock or randomness.

import { contextCovers, dotKey, type Dot } from "../../node/core/causal-context.js";
import { dvvEquals, sync, type DvvSet } from "../../node/core/dvv.js";
import {
  setElementsOf,
  type History,
  type ObservedSibling,
  type WriteRecord,
} from "./sim-history.js";

/** Violations kept in full per check; the counts are always complete. */
const EXAMPLES_MAX = 8;

/** The replicas' objects of one key after the convergence phase. */
export interface FinalKey {
  readonly key: string;
  readonly setKey: boolean;
  /** Each primary's object (undefined: it has none). */
  readonly primaries: ReadonlyMap<string, DvvSet | undefined>;
  /** Copies on nodes that are not primaries (fallbacks not yet handed off). */
  readonly others: ReadonlyMap<string, DvvSet>;
}

/** The verdict of the checker. */
export interface CheckReport {
  readonly ok: boolean;
  /** Violation counts by invariant. */
  readonly counts: Readonly<Record<Invariant, number>>;
  /** Up to EXAMPLES_MAX messages per invariant. */
  readonly examples: readonly string[];
  /** Acknowledged writes with dw ≥ 1 (the ones that must survive). */
  readonly acknowledged: number;
  /** Acknowledged writes with dw = 0 that are gone: allowed, reported. */
  readonly lostUndurable: number;
  readonly maxSiblings: number;
  /** Writes seen as more than one version (two dots, one value): allowed, reported. */
  readonly duplicateValues: number;
}

/** The invariants, each counted separately. */
export type Invariant =
  | "lost-write"
  | "lost-set-element"
  | "phantom"
  | "duplicate-dot"
  | "non-concurrent-siblings"
  | "divergent-replicas";

/** Checks every invariant of a run. */
export function checkRun(history: History, finals: readonly FinalKey[]): CheckReport {
  const counts: Record<Invariant, number> = {
    "lost-write": 0,
    "lost-set-element": 0,
    phantom: 0,
    "duplicate-dot": 0,
    "non-concurrent-siblings": 0,
    "divergent-replicas": 0,
  };
  const examples: string[] = [];
  const perInvariant = new Map<Invariant, number>();
  const violate = (invariant: Invariant, message: string): void => {
    counts[invariant] += 1;
    const shown = perInvariant.get(invariant) ?? 0;
    perInvariant.set(invariant, shown + 1);
    if (shown < EXAMPLES_MAX) examples.push(`${invariant}: ${message}`);
  };
  const byValue = new Map(history.writes.map((write) => [write.value, write]));
  const dots = new WriteDots();
  const ownerOfDot = new Map<string, Set<string>>();
  for (const write of history.writes) {
    if (write.dot === undefined) continue;
    dots.add(write, write.dot);
    noteOwner(ownerOfDot, write.key, write.dot, write.value, violate);
  }
  const finalObjects = new Map<string, DvvSet | undefined>();
  for (const final of finals) finalObjects.set(final.key, convergedObject(final, violate));

  const observations: { key: string; what: string; siblings: readonly ObservedSibling[] }[] = [
    ...history.reads.map((read) => ({
      key: read.key,
      what: `read at ${read.timeMs}`,
      siblings: read.siblings,
    })),
    ...[...finalObjects].map(([key, object]) => ({
      key,
      what: "final object",
      siblings: (object?.siblings ?? []).map((s) => ({
        value: Buffer.from(s.value).toString(),
        dot: s.dot,
      })),
    })),
  ];
  let maxSiblings = 0;
  for (const observation of observations) {
    maxSiblings = Math.max(maxSiblings, observation.siblings.length);
    const versions = learnDots(observation, byValue, dots, ownerOfDot, violate);
    checkConcurrent(observation, versions, violate);
  }
  const lost = checkLost(history, finalObjects, byValue, dots, violate);
  for (const final of finals) {
    if (final.setKey) checkSet(final.key, finalObjects.get(final.key), history, violate);
  }
  const ok = Object.values(counts).every((count) => count === 0);
  return {
    ok,
    counts,
    examples,
    acknowledged: lost.acknowledged,
    lostUndurable: lost.lostUndurable,
    maxSiblings,
    duplicateValues: dots.duplicated,
  };
}

type Violate = (invariant: Invariant, message: string) => void;

/** One version seen: the write whose value it carries and its dot. */
interface Version {
  readonly write: WriteRecord;
  readonly dot: Dot;
}

/** The dots of each write's versions, from its acknowledgement and from what was seen. */
class WriteDots {
  readonly #dots = new Map<WriteRecord, Map<string, Dot>>();
  /** Writes with more than one version. */
  duplicated = 0;

  add(write: WriteRecord, dot: Dot): void {
    let known = this.#dots.get(write);
    if (known === undefined) {
      known = new Map();
      this.#dots.set(write, known);
    }
    const id = dotKey(dot);
    if (known.has(id)) return;
    known.set(id, dot);
    if (known.size === 2) this.duplicated += 1;
  }

  of(write: WriteRecord): Iterable<Dot> {
    return this.#dots.get(write)?.values() ?? [];
  }
}

/** The object every primary holds; divergence (or a fallback copy with more) is a violation. */
function convergedObject(final: FinalKey, violate: Violate): DvvSet | undefined {
  const objects = [...final.primaries.values()];
  const first = objects.find((object) => object !== undefined);
  for (const [node, object] of final.primaries) {
    const same =
      object === undefined ? first === undefined : first !== undefined && dvvEquals(object, first);
    if (!same)
      violate("divergent-replicas", `${final.key}: primary ${node} differs from the others`);
  }
  for (const [node, object] of final.others) {
    const merged = first === undefined ? object : sync(first, object);
    if (first === undefined || !dvvEquals(merged, first)) {
      violate(
        "divergent-replicas",
        `${final.key}: fallback ${node} holds versions the primaries lack`,
      );
    }
  }
  return first;
}

/** Maps an observation's siblings to versions of writes; phantoms are violations. */
function learnDots(
  observation: { key: string; what: string; siblings: readonly ObservedSibling[] },
  byValue: ReadonlyMap<string, WriteRecord>,
  dots: WriteDots,
  ownerOfDot: Map<string, Set<string>>,
  violate: Violate,
): Version[] {
  const versions: Version[] = [];
  for (const sibling of observation.siblings) {
    const write = byValue.get(sibling.value);
    if (write === undefined || write.key !== observation.key) {
      violate(
        "phantom",
        `${observation.key}: ${observation.what} holds ${sibling.value}, which no client wrote there`,
      );
      continue;
    }
    versions.push({ write, dot: sibling.dot });
    dots.add(write, sibling.dot);
    noteOwner(ownerOfDot, observation.key, sibling.dot, write.value, violate);
  }
  return versions;
}

/** One dot, one write: a dot of a key that names two values was handed out twice. */
function noteOwner(
  owners: Map<string, Set<string>>,
  key: string,
  dot: Dot,
  value: string,
  violate: Violate,
): void {
  // Dots count per key: each key's DVV set numbers its own writes.
  const id = `${key}/${dotKey(dot)}`;
  const values = owners.get(id) ?? new Set<string>();
  owners.set(id, values);
  if (values.has(value)) return;
  const [first] = values;
  values.add(value);
  if (first !== undefined) {
    violate("duplicate-dot", `${key}: dot ${dotKey(dot)} names both ${first} and ${value}`);
  }
}

/** Siblings only for concurrent writes: no sibling's write had seen another sibling's dot. */
function checkConcurrent(
  observation: { key: string; what: string },
  versions: readonly Version[],
  violate: Violate,
): void {
  for (const later of versions) {
    for (const earlier of versions) {
      if (later === earlier) continue;
      if (contextCovers(later.write.context, earlier.dot)) {
        violate(
          "non-concurrent-siblings",
          `${observation.key}: ${observation.what} keeps ${earlier.write.value} beside ${later.write.value}, whose context covered it`,
        );
      }
    }
  }
}

/**
 * No acknowledged write lost: every ok write is a final sibling, or was superseded by a write
 * that is itself accounted for and whose context covered its dot (transitively).
 */
function checkLost(
  history: History,
  finals: ReadonlyMap<string, DvvSet | undefined>,
  byValue: ReadonlyMap<string, WriteRecord>,
  dots: WriteDots,
  violate: Violate,
): { acknowledged: number; lostUndurable: number } {
  const accounted = new Set<WriteRecord>();
  const queue: WriteRecord[] = [];
  for (const object of finals.values()) {
    for (const sibling of object?.siblings ?? []) {
      const write = byValue.get(Buffer.from(sibling.value).toString());
      if (write !== undefined && !accounted.has(write)) {
        accounted.add(write);
        queue.push(write);
      }
    }
  }
  const byKey = new Map<string, WriteRecord[]>();
  for (const write of history.writes) {
    const list = byKey.get(write.key) ?? [];
    list.push(write);
    byKey.set(write.key, list);
  }
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const write of byKey.get(next.key) ?? []) {
      if (accounted.has(write)) continue;
      // Any version superseded by a write that is accounted for accounts for the write.
      if (![...dots.of(write)].some((dot) => contextCovers(next.context, dot))) continue;
      accounted.add(write);
      queue.push(write);
    }
  }
  let acknowledged = 0;
  let lostUndurable = 0;
  for (const write of history.writes) {
    if (write.status !== "ok") continue;
    if (write.durableRequired) acknowledged += 1;
    if (accounted.has(write)) continue;
    if (!write.durableRequired) lostUndurable += 1;
    else {
      // An acknowledgement whose reply named no new dot leaves the dot unknown.
      const dot = write.dot === undefined ? "unknown" : dotKey(write.dot);
      violate(
        "lost-write",
        `${write.key}: acknowledged ${write.value} (dot ${dot}) is gone and nothing that saw it survives`,
      );
    }
  }
  return { acknowledged, lostUndurable };
}

/** Jepsen's set check: every acknowledged element is in the final union; no unknown element. */
function checkSet(
  key: string,
  object: DvvSet | undefined,
  history: History,
  violate: Violate,
): void {
  const union = new Set<number>();
  for (const sibling of object?.siblings ?? []) {
    for (const element of setElementsOf(Buffer.from(sibling.value).toString())) union.add(element);
  }
  const added = new Set<number>();
  for (const write of history.writes) {
    if (write.key !== key || write.element === undefined) continue;
    added.add(write.element);
    if (write.status === "ok" && write.durableRequired && !union.has(write.element)) {
      violate(
        "lost-set-element",
        `${key}: element ${write.element} was acknowledged but is not in the final set`,
      );
    }
  }
  for (const element of union) {
    if (!added.has(element))
      violate("phantom", `${key}: element ${element} in the final set was never added`);
  }
}
