import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  type ContextKeys,
  contextKeysOf,
  decodeKeyContext,
  encodeKeyContext,
  unverifiedContextOf,
} from "../../../../node/core/key-context.js";
import {
  type CausalContext,
  contextEquals,
  contextFromDots,
} from "../../../../node/core/causal-context.js";
import { encodeContext } from "../../../../node/core/object-codec.js";
import { CONTEXT_COUNTER_MAX } from "../../../../node/core/limits.js";
import { parseContextKeyFile } from "../../../../node/context-key-file.js";
import { utf8 } from "./dvv-test-helpers.js";

function keysOf(...secrets: string[]): ContextKeys {
  const made = contextKeysOf(secrets.map((secret) => Buffer.from(secret.repeat(32), "utf8")));
  if (!made.ok) throw new Error(made.reason);
  return made.keys;
}

const OLD = keysOf("a");
const NEW = keysOf("b");
const ROTATING = keysOf("b", "a");
const context: CausalContext = contextFromDots([
  { actor: "n1.0a1b2c3d", counter: 1 },
  { actor: "n1.0a1b2c3d", counter: 2 },
  { actor: "n2.ffee0011", counter: 7 },
]);
const key = utf8("k");

function refusal(bytes: Uint8Array, keys: ContextKeys | undefined, bucket = "b", at = key): string {
  const decoded = decodeKeyContext(bucket, at, bytes, keys);
  if (decoded.ok) throw new Error("the context was accepted but should have been refused");
  return decoded.reason;
}

describe("sealed client contexts", () => {
  it("open with the key that sealed them, to the same context", () => {
    const decoded = decodeKeyContext("b", key, encodeKeyContext("b", key, context, OLD), OLD);
    expect(decoded.ok && contextEquals(decoded.context, context)).toBe(true);
  });

  it("open during rotation: a context sealed with the old key opens while both are held", () => {
    const sealedOld = encodeKeyContext("b", key, context, OLD);
    expect(decodeKeyContext("b", key, sealedOld, ROTATING).ok).toBe(true);
    // The first key seals: new contexts carry the new key's id.
    const sealedNow = encodeKeyContext("b", key, context, ROTATING);
    expect(decodeKeyContext("b", key, sealedNow, NEW).ok).toBe(true);
    expect(refusal(sealedNow, OLD)).toMatch(/sealed with a key this cluster does not hold/);
  });

  it.each([
    ["a flipped byte in the body", 30],
    ["a flipped byte in the tag", 10],
  ])("refuse %s", (_name, at) => {
    const bytes = Uint8Array.from(encodeKeyContext("b", key, context, OLD));
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    expect(refusal(bytes, OLD)).toMatch(/seal does not match|malformed|not issued/);
  });

  it("refuse a context with any one of the tag's 16 bytes changed, at any bit", () => {
    const sealedBytes = encodeKeyContext("b", key, context, OLD);
    for (let at = 5; at < 21; at++) {
      for (const bit of [0x01, 0x80]) {
        const bytes = Uint8Array.from(sealedBytes);
        bytes[at] = bytes[at]! ^ bit;
        expect(refusal(bytes, OLD), `byte ${at}, bit ${bit}`).toMatch(/seal does not match/);
      }
    }
  });

  it("refuse another key's or bucket's context", () => {
    const bytes = encodeKeyContext("b", key, context, OLD);
    expect(refusal(bytes, OLD, "b", utf8("other"))).toMatch(/seal does not match/);
    expect(refusal(bytes, OLD, "c")).toMatch(/seal does not match/);
  });

  it("refuse an unsealed context, however well formed, on a keyed node", () => {
    const forged = encodeKeyContext("b", key, context);
    expect(refusal(forged, OLD)).toMatch(/not issued by this cluster/);
    expect(refusal(encodeContext(context), OLD)).toMatch(/not issued by this cluster/);
  });

  it("are read by test tooling without the key", () => {
    const read = unverifiedContextOf(encodeKeyContext("b", key, context, OLD));
    expect(read.ok && contextEquals(read.context, context)).toBe(true);
    const unsealed = unverifiedContextOf(encodeKeyContext("b", key, context));
    expect(unsealed.ok && contextEquals(unsealed.context, context)).toBe(true);
  });
});

describe("the seal", () => {
  /** The tag as the header of key-context.ts defines it, made with node:crypto's own HMAC. */
  function referenceTag(secret: Uint8Array, bucket: string, at: Uint8Array, body: Uint8Array) {
    const lengths = Buffer.alloc(8);
    lengths.writeUInt32BE(Buffer.byteLength(bucket, "utf8"), 0);
    lengths.writeUInt32BE(at.length, 4);
    return createHmac("sha256", secret)
      .update("dkv-context-v1")
      .update(lengths.subarray(0, 4))
      .update(bucket, "utf8")
      .update(lengths.subarray(4))
      .update(at)
      .update(body)
      .digest()
      .subarray(0, 16);
  }

  it("is HMAC-SHA256 truncated to 16 bytes, for secrets shorter and longer than a block", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 130 }),
        fc.string({ unit: "grapheme", maxLength: 40 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.record({ actor: fc.constantFrom("n1.a", "n2.b"), counter: fc.nat(1000) }), {
          maxLength: 6,
        }),
        (secret, bucket, at, dots) => {
          const made = contextKeysOf([secret]);
          if (!made.ok) throw new Error(made.reason);
          const sealed = contextFromDots(dots.map((dot) => ({ ...dot, counter: dot.counter + 1 })));
          const bytes = encodeKeyContext(bucket, at, sealed, made.keys);
          const body = encodeContext(sealed);
          expect(Buffer.from(bytes.subarray(5, 21))).toEqual(
            referenceTag(secret, bucket, at, body),
          );
          expect(decodeKeyContext(bucket, at, bytes, made.keys).ok).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("what is checked without a key (--insecure nodes)", () => {
  it("accepts a real context", () => {
    expect(decodeKeyContext("b", key, encodeKeyContext("b", key, context)).ok).toBe(true);
  });

  it.each([
    ["a counter near 2^53", { actor: "n1.0a1b2c3d", counter: 2 ** 53 - 2 }, /over the limit/],
    ["a counter just over the bound", { actor: "n1", counter: CONTEXT_COUNTER_MAX + 1 }, /over/],
    ["an actor that is no node id", { actor: "n1 <script>", counter: 1 }, /not a node's/],
    ["an actor of 129 characters", { actor: "a".repeat(129), counter: 1 }, /not a node's/],
  ])("refuses %s", (_name, dot, reason) => {
    const forged = encodeKeyContext("b", key, contextFromDots([dot]));
    expect(refusal(forged, undefined)).toMatch(reason);
  });

  it("accepts the largest counter allowed", () => {
    const edge = contextFromDots([{ actor: "n1", counter: CONTEXT_COUNTER_MAX }]);
    expect(decodeKeyContext("b", key, encodeKeyContext("b", key, edge)).ok).toBe(true);
  });
});

describe("cluster keys", () => {
  it.each([
    [[], /no key/],
    [[Buffer.alloc(15, 1)], /key 1 is 15 bytes, at least 16/],
    [[Buffer.alloc(32, 1), Buffer.alloc(32, 1)], /key 2 is given twice/],
  ])("refuse %j", (secrets, reason) => {
    const made = contextKeysOf(secrets);
    expect(made.ok ? "accepted" : made.reason).toMatch(reason);
  });

  it("parse a key file of hex and base64 lines, comments and blanks, first key signing", () => {
    const hex = "11".repeat(32);
    const base64 = Buffer.alloc(32, 2).toString("base64");
    const parsed = parseContextKeyFile(`# rotation in progress\n${hex}\n\n${base64}\n`);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.keys.byId.size).toBe(2);
    const hexId = createHash("sha256").update(Buffer.from(hex, "hex")).digest().readUInt32BE(0);
    expect(parsed.keys.signing.id, "the first line's key signs").toBe(hexId);
  });

  it("refuse a key file line that is neither hex nor base64, naming the line", () => {
    const parsed = parseContextKeyFile(`${"ab".repeat(16)}\nnot a key!\n`);
    expect(parsed.ok ? "accepted" : parsed.reason).toMatch(/line 2 is neither hex nor base64/);
  });
});
