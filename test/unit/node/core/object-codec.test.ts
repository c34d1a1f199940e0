import { describe, expect, it } from "vitest";
import {
  type CausalContext,
  EMPTY_CONTEXT,
  contextFromDots,
  contextEquals,
} from "../../../../node/core/causal-context.js";
import {
  type DvvSet,
  type Sibling,
  type Version,
  EMPTY_DVV_SET,
  join,
  update,
} from "../../../../node/core/dvv.js";
import fc from "fast-check";
import { contextBytes, encodeContext, encodeObject } from "../../../../node/core/object-codec.js";
import { decodeContext, decodeObject } from "../../../../node/core/object-decode.js";

const encoder = new TextEncoder();

function varint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

function str(text: string): number[] {
  const bytes = [...encoder.encode(text)];
  return [...varint(bytes.length), ...bytes];
}

function bytes(...parts: (number | readonly number[] | Uint8Array)[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((part) => (typeof part === "number" ? [part] : [...part])));
}

function version(text: string, overrides: Partial<Version> = {}): Version {
  const base: Version = {
    value: encoder.encode(text),
    contentType: "text/plain",
    metadata: {},
    lastModifiedMs: 1_700_000_000_000,
    deleted: false,
  };
  return { ...base, ...overrides };
}

function writes(...steps: [actor: string, withReadContext: boolean, v: Version][]): DvvSet {
  let object = EMPTY_DVV_SET;
  for (const [actor, withReadContext, v] of steps) {
    object = update(object, withReadContext ? join(object) : EMPTY_CONTEXT, actor, v).object;
  }
  return object;
}

function dot(actor: string, counter: number): { actor: string; counter: number } {
  return { actor, counter };
}

/** Context {a:1}, one sibling (a,1): flags 0, last modified 5, type "t", no metadata, value 9. */
const SIBLING_A1 = [0, 1, 0, 5, ...str("t"), 0, 1, 9];
const VALID = bytes(1, 2, 1, str("a"), 1, 0, 1, SIBLING_A1);
const TWO_TO_THE_53 = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];

describe("encodeObject()", () => {
  it("writes format version 1 in this exact layout", () => {
    const sibling: Sibling = {
      dot: { actor: "a", counter: 1 },
      value: Uint8Array.of(9),
      contentType: "t",
      metadata: {},
      lastModifiedMs: 5,
      deleted: false,
    };
    const object: DvvSet = { context: contextFromDots([sibling.dot]), siblings: [sibling] };
    expect([...encodeObject(object)]).toEqual([...VALID]);
  });

  it("writes the empty object in 4 bytes", () => {
    expect([...encodeObject(EMPTY_DVV_SET)]).toEqual([1, 2, 0, 0]);
  });

  const one = writes(["a", false, version("1")]);
  const two = writes(["a", false, version("1")], ["a", false, version("2")]);
  it.each<[string, DvvSet]>([
    ["a sibling its context does not cover", { context: EMPTY_CONTEXT, siblings: one.siblings }],
    ["siblings out of dot order", { ...two, siblings: [...two.siblings].reverse() }],
    [
      "a lone surrogate in metadata",
      writes(["a", false, version("x", { metadata: { k: "\uD800" } })]),
    ],
    ["an actor longer than 255 bytes", writes(["x".repeat(256), false, version("x")])],
  ])("rejects %s as a programmer error", (_name, object) => {
    expect(() => encodeObject(object)).toThrow(/object-codec:/);
  });
});

describe("encodeContext()", () => {
  it.each<[string, CausalContext, number[]]>([
    ["the empty context", EMPTY_CONTEXT, [1, 1, 0]],
    [
      "a:2 | a5 b3",
      contextFromDots([dot("a", 1), dot("a", 2), dot("a", 5), dot("b", 3)]),
      [1, 1, 2, ...str("a"), 2, 1, 5, ...str("b"), 0, 1, 3],
    ],
  ])("encodes %s as %j", (_name, context, expected) => {
    expect([...encodeContext(context)]).toEqual(expected);
  });

  it("orders actors the same whatever the order of the vv map, with cloud-only actors between", () => {
    const cloud = [
      { actor: "a", counter: 9 },
      { actor: "b", counter: 4 },
      { actor: "d", counter: 3 },
      { actor: "f", counter: 7 },
    ];
    const inOrder: CausalContext = {
      vv: new Map([
        ["a", 1],
        ["c", 2],
        ["e", 3],
      ]),
      cloud,
    };
    const shuffled: CausalContext = {
      vv: new Map([
        ["e", 3],
        ["a", 1],
        ["c", 2],
      ]),
      cloud,
    };
    const expected = [1, 1, 6, ...str("a"), 1, 1, 9, ...str("b"), 0, 1, 4, ...str("c"), 2, 0];
    expected.push(...str("d"), 0, 1, 3, ...str("e"), 3, 0, ...str("f"), 0, 1, 7);
    expect([...encodeContext(inOrder)]).toEqual(expected);
    expect([...encodeContext(shuffled)]).toEqual(expected);
  });

  it("rejects a context whose cloud is not normalised", () => {
    const bad: CausalContext = { vv: new Map([["a", 1]]), cloud: [{ actor: "a", counter: 2 }] };
    expect(() => encodeContext(bad)).toThrow(/object-codec:/);
  });
});

describe("decodeObject(encodeObject(x))", () => {
  const cases: [string, DvvSet][] = [
    ["the empty object", EMPTY_DVV_SET],
    ["one write", writes(["node-a", false, version("v1")])],
    [
      "concurrent writes",
      writes(["node-a", false, version("v1")], ["node-b", false, version("v2")]),
    ],
    [
      "a tombstone",
      writes(["node-a", false, version("v1")], ["node-a", true, version("", { deleted: true })]),
    ],
    ["an empty value", writes(["a", false, version("")])],
    ["a 300-byte value", writes(["a", false, version("x".repeat(300))])],
    [
      "unicode and awkward metadata",
      writes([
        "nöde-ü",
        false,
        version("v", {
          contentType: "\uFEFFtext/plain; charset=ütf-8",
          metadata: { ["__proto__"]: "p", "1": "one", "x-😀": "€", "": "no key", b: "", a: "z" },
        }),
      ]),
    ],
    [
      "the largest timestamp",
      writes(["a", false, version("v", { lastModifiedMs: Number.MAX_SAFE_INTEGER })]),
    ],
    [
      "a cloud in the context",
      update(EMPTY_DVV_SET, contextFromDots([{ actor: "b", counter: 7 }]), "a", version("v"))
        .object,
    ],
    [
      "the largest counter",
      update(
        EMPTY_DVV_SET,
        contextFromDots([{ actor: "a", counter: Number.MAX_SAFE_INTEGER - 1 }]),
        "a",
        version("v"),
      ).object,
    ],
  ];

  it.each(cases)("gives back %s", (_name, object) => {
    const decoded = decodeObject(encodeObject(object));
    expect(decoded).toEqual({ ok: true, object });
  });

  it("copies values out of the input buffer", () => {
    const buffer = Buffer.from(encodeObject(writes(["a", false, version("keep me")])));
    const decoded = decodeObject(buffer);
    buffer.fill(0);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(new TextDecoder().decode(decoded.object.siblings[0]?.value)).toBe("keep me");
  });
});

describe("decodeContext(encodeContext(c))", () => {
  it.each<[string, CausalContext]>([
    ["the empty context", EMPTY_CONTEXT],
    ["a version vector", contextFromDots([dot("a", 1), dot("b", 1)])],
    ["a cloud only", contextFromDots([dot("a", 5), dot("a", 9)])],
    ["the largest counter", contextFromDots([dot("a", Number.MAX_SAFE_INTEGER)])],
  ])("gives back %s", (_name, context) => {
    const decoded = decodeContext(encodeContext(context));
    expect(decoded.ok && contextEquals(decoded.context, context)).toBe(true);
    expect(decoded).toEqual({ ok: true, context });
  });

  it("reads empty bytes as no context", () => {
    expect(decodeContext(new Uint8Array(0))).toEqual({ ok: true, context: EMPTY_CONTEXT });
  });
});

describe("decodeObject() of malformed bytes", () => {
  const withSiblingByte = (index: number, value: number) => {
    const copy = Uint8Array.from(VALID);
    copy[index] = value;
    return copy;
  };
  const header = [1, 2];
  const actorA = [...str("a"), 1, 0];

  it.each<[string, Uint8Array, string]>([
    ["no bytes", bytes(), "empty object encoding"],
    ["an unknown format version", bytes(2, 2, 0, 0), "unknown object format version 2"],
    ["a context", bytes(1, 1, 0), "expected an object encoding (kind 2), got kind 1"],
    ["only the version byte", bytes(1), "object truncated at byte 1 reading kind"],
    ["only the header", bytes(header), "object truncated at byte 2 reading actor count"],
    ["a varint cut short", bytes(header, 0x80), "object truncated at byte 3 reading actor count"],
    [
      "a varint with a zero last group",
      bytes(header, 0x80, 0, 0),
      "non-canonical actor count varint at byte 2",
    ],
    [
      "a varint of 9 bytes",
      bytes(header, Array(8).fill(0x80), 1),
      "actor count varint longer than 8 bytes at byte 2",
    ],
    [
      "a counter of 2^53",
      bytes(header, 1, str("a"), TWO_TO_THE_53, 0, 0),
      "version vector counter above 2^53 - 1 at byte 5",
    ],
    ["an empty actor", bytes(header, 1, 0, 1, 0, 0), "empty actor at byte 3"],
    [
      "an actor of 256 bytes",
      bytes(header, 1, varint(256), Array(256).fill(97), 1, 0, 0),
      "actor of 256 bytes at byte 3 exceeds 255",
    ],
    [
      "an actor that is not utf-8",
      bytes(header, 1, 1, 0xff, 1, 0, 0),
      "invalid utf-8 in actor at byte 4",
    ],
    [
      "an overlong utf-8 actor",
      bytes(header, 1, 2, 0xc0, 0xaf, 1, 0, 0),
      "invalid utf-8 in actor at byte 4",
    ],
    [
      "a utf-8 surrogate actor",
      bytes(header, 1, 3, 0xed, 0xa0, 0x80, 1, 0, 0),
      "invalid utf-8 in actor at byte 4",
    ],
    [
      "actors out of order",
      bytes(header, 2, str("b"), 1, 0, actorA, 0),
      "actors out of order at byte 7",
    ],
    ["a duplicate actor", bytes(header, 2, actorA, actorA, 0), "duplicate actor at byte 7"],
    ["an actor without dots", bytes(header, 1, str("a"), 0, 0, 0), "actor without dots at byte 3"],
    [
      "a cloud dot contiguous with vv",
      bytes(header, 1, str("a"), 1, 1, 2, 0),
      "cloud not normalised at byte 7: counter 2 is covered by or contiguous with version vector 1",
    ],
    [
      "a cloud dot covered by vv",
      bytes(header, 1, str("a"), 3, 1, 2, 0),
      "cloud not normalised at byte 7: counter 2 is covered by or contiguous with version vector 3",
    ],
    [
      "a cloud of counter 1 with vv 0",
      bytes(header, 1, str("a"), 0, 1, 1, 0),
      "cloud not normalised at byte 7: counter 1 is covered by or contiguous with version vector 0",
    ],
    [
      "a duplicate cloud dot",
      bytes(header, 1, str("a"), 0, 2, 3, 3, 0),
      "cloud not normalised at byte 8: counter 3 after 3",
    ],
    [
      "a cloud count beyond the input",
      bytes(header, 1, str("a"), 0, 5, 3),
      "cloud count 5 at byte 6 exceeds the remaining 1 byte",
    ],
    [
      "a sibling count of a million",
      bytes(header, 1, actorA, varint(1_000_000)),
      "sibling count 1000000 at byte 7 exceeds the remaining 0 bytes",
    ],
    ["a zero sibling counter", withSiblingByte(9, 0), "zero sibling counter at byte 9"],
    [
      "a sibling the context does not cover",
      withSiblingByte(9, 2),
      "sibling at byte 8 not covered by context",
    ],
    [
      "an actor index out of range",
      withSiblingByte(8, 1),
      "actor index 1 at byte 8 is not below 1",
    ],
    ["unknown flags", withSiblingByte(10, 2), "unknown flags 2 at byte 10"],
    [
      "a content type past the end",
      withSiblingByte(12, 100),
      "object truncated at byte 13 reading content type",
    ],
    ["a value past the end", VALID.subarray(0, 16), "object truncated at byte 16 reading value"],
    ["one trailing byte", bytes(VALID, 0), "1 trailing byte at byte 17"],
    ["three trailing bytes", bytes(VALID, 0, 0, 0), "3 trailing bytes at byte 17"],
    [
      "a sibling counter of 2^53",
      bytes(header, 1, str("a"), 1, 0, 1, 0, TWO_TO_THE_53, SIBLING_A1.slice(2)),
      "sibling counter above 2^53 - 1 at byte 9",
    ],
    [
      "a duplicate sibling dot",
      bytes(header, 1, actorA, 2, SIBLING_A1, SIBLING_A1),
      "duplicate sibling dot at byte 17",
    ],
    [
      "siblings out of order",
      bytes(header, 1, str("a"), 2, 0, 2, 0, 2, SIBLING_A1.slice(2), SIBLING_A1),
      "siblings out of order at byte 17",
    ],
    [
      "a duplicate metadata key",
      bytes(VALID.subarray(0, 14), 2, str("k"), str("v"), str("k"), str("w"), 1, 9),
      "duplicate metadata key at byte 19",
    ],
    [
      "metadata keys out of order",
      bytes(VALID.subarray(0, 14), 2, str("l"), str("v"), str("k"), str("w"), 1, 9),
      "metadata keys out of order at byte 19",
    ],
    [
      "a metadata value that is not utf-8",
      bytes(VALID.subarray(0, 14), 1, str("k"), 1, 0xfe, 1, 9),
      "invalid utf-8 in metadata value at byte 18",
    ],
  ])("rejects %s", (_name, input, reason) => {
    expect(decodeObject(input)).toEqual({ ok: false, reason });
  });

  it("rejects every truncation of a valid encoding", () => {
    const full = encodeObject(writes(["node-a", false, version("v", { metadata: { k: "v" } })]));
    for (let length = 0; length < full.length; length++) {
      expect(decodeObject(full.subarray(0, length)).ok).toBe(false);
    }
  });
});

describe("decodeContext() of malformed bytes", () => {
  it.each<[string, Uint8Array, string]>([
    ["an object", bytes(1, 2, 0, 0), "expected a context encoding (kind 1), got kind 2"],
    ["an unknown format version", bytes(9), "unknown context format version 9"],
    ["only the header", bytes(1, 1), "context truncated at byte 2 reading actor count"],
    [
      "an actor past the end",
      bytes(1, 1, 1, 5, 97, 0, 0),
      "context truncated at byte 4 reading actor",
    ],
    ["one trailing byte", bytes(1, 1, 0, 0), "1 trailing byte at byte 3"],
    [
      "an actor count beyond the input",
      bytes(1, 1, 9, 0),
      "actor count 9 at byte 2 exceeds the remaining 1 byte",
    ],
  ])("rejects %s", (_name, input, reason) => {
    expect(decodeContext(input)).toEqual({ ok: false, reason });
  });
});

describe("decodeObject(bytes, copyValues)", () => {
  it("copies values by default, and gives views into the input without copying", () => {
    const bytes = encodeObject(writes(["a", false, version("x".repeat(300))]));
    const copied = decodeObject(bytes);
    const viewed = decodeObject(bytes, false);
    if (!copied.ok || !viewed.ok) throw new Error("decode failed");
    const copiedValue = copied.object.siblings[0]!.value;
    const viewedValue = viewed.object.siblings[0]!.value;
    expect(Buffer.from(viewedValue).toString()).toBe("x".repeat(300));
    expect(viewedValue.buffer).toBe(bytes.buffer);
    expect(copiedValue.buffer).not.toBe(bytes.buffer);
  });
});

describe("contextBytes(c)", () => {
  it("is the length of encodeContext(c), for any normalised context", () => {
    const dotArbitrary = fc.record({
      actor: fc.constantFrom("a", "b", "node-3", "é", "z".repeat(40)),
      counter: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 2 ** 40 })),
    });
    fc.assert(
      fc.property(fc.array(dotArbitrary, { maxLength: 30 }), (dots) => {
        const context = contextFromDots(dots);
        expect(contextBytes(context)).toBe(encodeContext(context).length);
      }),
      { numRuns: 500 },
    );
    expect(contextBytes(EMPTY_CONTEXT)).toBe(encodeContext(EMPTY_CONTEXT).length);
  });
});
