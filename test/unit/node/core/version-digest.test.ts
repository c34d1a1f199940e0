// Goal: a version digest names one version of one key: equal for equal objects (however they
// were built), different when the key, a sibling or the context differs, and never matched by
// bytes of the wrong length.
// Method: objects built with the DVV operations; digests compared directly and by digestMatches.

import { describe, expect, it } from "vitest";
import { EMPTY_CONTEXT } from "../../../../node/core/causal-context.js";
import { EMPTY_DVV_SET, join, sync, update } from "../../../../node/core/dvv.js";
import {
  VERSION_DIGEST_BYTES,
  digestMatches,
  versionDigest,
} from "../../../../node/core/version-digest.js";

import { textVersion as version, utf8 as bytes } from "./dvv-test-helpers.js";

describe("versionDigest", () => {
  const key = bytes("k");
  const a = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "n1.x", version("a")).object;
  const b = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "n2.x", version("b")).object;
  const both = sync(a, b);

  it("is 8 bytes, and equal for equal objects whatever the merge order", () => {
    expect(versionDigest("b", key, a)).toHaveLength(VERSION_DIGEST_BYTES);
    expect(versionDigest("b", key, sync(a, b))).toEqual(versionDigest("b", key, sync(b, a)));
    expect(digestMatches(versionDigest("b", key, both), "b", key, sync(b, a))).toBe(true);
  });

  it("differs for another key, bucket, sibling set or context", () => {
    const digest = versionDigest("b", key, both);
    expect(digestMatches(digest, "b", bytes("k2"), both)).toBe(false);
    expect(digestMatches(digest, "c", key, both)).toBe(false);
    expect(digestMatches(digest, "b", key, a)).toBe(false);
    // A write that supersedes both siblings: one sibling, a larger context.
    const resolved = update(both, join(both), "n1.x", version("c")).object;
    expect(digestMatches(digest, "b", key, resolved)).toBe(false);
    expect(digestMatches(versionDigest("b", key, resolved), "b", key, resolved)).toBe(true);
  });

  it("never matches bytes of the wrong length", () => {
    const digest = versionDigest("b", key, a);
    expect(digestMatches(digest.subarray(0, 7), "b", key, a)).toBe(false);
    expect(digestMatches(new Uint8Array(0), "b", key, a)).toBe(false);
    const padded = new Uint8Array(9);
    padded.set(digest);
    expect(digestMatches(padded, "b", key, a)).toBe(false);
  });

  it("reads the digest at its own offset inside a larger buffer", () => {
    const digest = versionDigest("b", key, a);
    const frame = Buffer.alloc(20, 0xee);
    frame.set(digest, 5);
    expect(digestMatches(frame.subarray(5, 13), "b", key, a)).toBe(true);
  });
});
