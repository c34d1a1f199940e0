// Goal: decode's validation of the object format (node/core/object-codec.ts), differentially:
// encodings built from the format's grammar with small, often invalid numbers are accepted
// exactly when an independent statement of the format's rules says they are valid, and what is
// accepted re-encodes byte for byte.

import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { encodeObject } from "../../../../node/core/object-codec.js";
import { decodeObject } from "../../../../node/core/object-decode.js";

// A differential test of decode's validation: encodings built from the format's grammar with
// small, often invalid numbers, checked against an independent statement of the format's rules.

interface RawActor {
  readonly name: string;
  readonly vv: number;
  readonly cloud: readonly number[];
}

interface RawSibling {
  readonly actorIndex: number;
  readonly counter: number;
  readonly flags: number;
  readonly metadataKeys: readonly string[];
}

interface RawObject {
  readonly actors: readonly RawActor[];
  readonly siblings: readonly RawSibling[];
  /** Which varint, counting from 0, gets a redundant zero group (non-canonical), if any. */
  readonly padded: number | null;
}

/** A valid object in raw form: sorted actors with normalised clouds, covered sorted siblings. */
const validRawArbitrary: fc.Arbitrary<RawObject> = fc
  .record({
    names: fc.subarray(["a", "b", "c"]),
    vvs: fc.array(fc.nat(3), { minLength: 3, maxLength: 3 }),
    clouds: fc.array(fc.uniqueArray(fc.integer({ min: 1, max: 8 }), { maxLength: 3 }), {
      minLength: 3,
      maxLength: 3,
    }),
    siblingMask: fc.nat(),
    deleted: fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
    metadataKeys: fc.subarray(["k", "l"]),
  })
  .map(({ names, vvs, clouds, siblingMask, deleted, metadataKeys }) => {
    const actors = names.map((name, index) => {
      const vv = vvs[index] ?? 0;
      const cloud = [...(clouds[index] ?? [])].sort((x, y) => x - y).filter((c) => c > vv + 1);
      return { name, vv: vv === 0 && cloud.length === 0 ? 1 : vv, cloud };
    });
    const dots = actors.flatMap((actor, actorIndex) => {
      const counters = [...Array.from({ length: actor.vv }, (_, i) => i + 1), ...actor.cloud];
      return counters.map((counter) => ({ actorIndex, counter }));
    });
    const siblings = dots
      .filter((_, index) => (siblingMask >> index) & 1)
      .slice(0, 4)
      .map((dot, index) => ({ ...dot, flags: deleted[index] ? 1 : 0, metadataKeys }));
    return { actors, siblings, padded: null };
  });

type Damage = { readonly what: string; readonly index: number; readonly value: number };

const damageArbitrary: fc.Arbitrary<Damage | null> = fc.option(
  fc.record({
    what: fc.constantFrom(
      "vv",
      "cloud",
      "actor index",
      "counter",
      "flags",
      "key",
      "duplicate actor",
      "duplicate sibling",
      "reverse actors",
      "reverse siblings",
      "pad",
      "repeat cloud",
      "no dots",
    ),
    index: fc.nat(40),
    value: fc.nat(8),
  }),
  { nil: null, freq: 4 },
);

/** Breaks (or, by chance, keeps) one rule of a valid raw object. */
function damaged(raw: RawObject, damage: Damage | null): RawObject {
  if (damage === null) return raw;
  const { what, index, value } = damage;
  const actors = [...raw.actors];
  const siblings = [...raw.siblings];
  const actor = actors[index % Math.max(1, actors.length)];
  const sibling = siblings[index % Math.max(1, siblings.length)];
  const setActor = (next: RawActor) => actors.splice(actors.indexOf(actor ?? next), 1, next);
  const setSibling = (next: RawSibling) =>
    siblings.splice(siblings.indexOf(sibling ?? next), 1, next);
  if (what === "vv" && actor) setActor({ ...actor, vv: value });
  if (what === "cloud" && actor) setActor({ ...actor, cloud: [...actor.cloud, value] });
  if (what === "repeat cloud" && actor) {
    setActor({ ...actor, cloud: [...actor.cloud, actor.cloud.at(-1) ?? actor.vv + 2] });
  }
  if (what === "no dots" && actor) setActor({ ...actor, vv: 0, cloud: [] });
  if (what === "actor index" && sibling) setSibling({ ...sibling, actorIndex: value % 4 });
  if (what === "counter" && sibling) setSibling({ ...sibling, counter: value });
  if (what === "flags" && sibling) setSibling({ ...sibling, flags: value % 4 });
  if (what === "key" && sibling) {
    setSibling({ ...sibling, metadataKeys: [...sibling.metadataKeys, value % 2 ? "k" : "l"] });
  }
  if (what === "duplicate actor" && actor) actors.splice(index % actors.length, 0, actor);
  if (what === "duplicate sibling" && sibling) siblings.splice(index % siblings.length, 0, sibling);
  if (what === "reverse actors") actors.reverse();
  if (what === "reverse siblings") siblings.reverse();
  return { actors, siblings, padded: what === "pad" ? index : null };
}

const rawObjectArbitrary = fc
  .tuple(validRawArbitrary, damageArbitrary)
  .map(([raw, damage]) => damaged(raw, damage));

function rawBytes(raw: RawObject): number[] {
  const out: number[] = [1, 2];
  let varints = 0;
  const varint = (value: number) => {
    const padded = varints++ === raw.padded;
    out.push(padded ? value | 0x80 : value);
    if (padded) out.push(0);
  };
  const text = (value: string) => {
    varint(value.length);
    out.push(...new TextEncoder().encode(value));
  };
  varint(raw.actors.length);
  for (const actor of raw.actors) {
    text(actor.name);
    varint(actor.vv);
    varint(actor.cloud.length);
    actor.cloud.forEach(varint);
  }
  varint(raw.siblings.length);
  for (const sibling of raw.siblings) {
    varint(sibling.actorIndex);
    varint(sibling.counter);
    out.push(sibling.flags);
    varint(7);
    text("t");
    varint(sibling.metadataKeys.length);
    sibling.metadataKeys.forEach((key) => {
      text(key);
      text("v");
    });
    varint(1);
    out.push(9);
  }
  return out;
}

/** The format's rules, stated independently of the decoder. */
function rawIsValid(raw: RawObject, varintCount: number): boolean {
  if (raw.padded !== null && raw.padded < varintCount) return false;
  const actorsValid = raw.actors.every((actor, index) => {
    const previous = raw.actors[index - 1];
    const ascending = previous === undefined || previous.name < actor.name;
    const cloudValid = actor.cloud.every(
      (counter, j) => counter > (j === 0 ? actor.vv + 1 : (actor.cloud[j - 1] ?? 0)),
    );
    return ascending && (actor.vv > 0 || actor.cloud.length > 0) && cloudValid;
  });
  const covered = (s: RawSibling) => {
    const actor = raw.actors[s.actorIndex];
    return actor !== undefined && (s.counter <= actor.vv || actor.cloud.includes(s.counter));
  };
  const siblingsValid = raw.siblings.every((s, index) => {
    const previous = raw.siblings[index - 1];
    const ascending =
      previous === undefined ||
      previous.actorIndex < s.actorIndex ||
      (previous.actorIndex === s.actorIndex && previous.counter < s.counter);
    const keysAscending = s.metadataKeys.every(
      (key, j) => j === 0 || (s.metadataKeys[j - 1] ?? "") < key,
    );
    return s.counter >= 1 && covered(s) && ascending && s.flags <= 1 && keysAscending;
  });
  return actorsValid && siblingsValid;
}

function countVarints(raw: RawObject): number {
  const actorVarints = raw.actors.reduce((sum, actor) => sum + 3 + actor.cloud.length, 0);
  const siblingVarints = raw.siblings.reduce((sum, s) => sum + 6 + 2 * s.metadataKeys.length, 0);
  return 2 + actorVarints + siblingVarints;
}

describe("object codec validation", () => {
  test.prop([rawObjectArbitrary], { numRuns: 300 })(
    "accepts a grammatical encoding exactly when it obeys the format's rules",
    (raw) => {
      const bytes = rawBytes(raw);
      const decoded = decodeObject(Uint8Array.from(bytes));
      expect(decoded.ok, decoded.ok ? "accepted" : decoded.reason).toBe(
        rawIsValid(raw, countVarints(raw)),
      );
      if (decoded.ok) expect([...encodeObject(decoded.object)]).toEqual(bytes);
    },
  );
});
