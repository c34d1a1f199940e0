// The transfer cursor's pure parts: the stream order within a leaf, the pull file's codec (a
// round trip, and every malformed field named), the sliding rate window and the estimate of
// bytes left.

import { describe, expect, it } from "vitest";
import {
  RateWindow,
  bytesLeftEstimate,
  decodePullFile,
  encodePullFile,
  idsAfter,
  type PullFile,
} from "../../../../node/core/transfer-cursor.js";

describe("idsAfter", () => {
  it.each([
    [["c", "a", "b"], undefined, ["a", "b", "c"]],
    [["c", "a", "b"], "a", ["b", "c"]],
    [["c", "a", "b"], "b", ["c"]],
    [["c", "a", "b"], "c", []],
    // A cursor key gone from the leaf still places the rest correctly.
    [["d", "a", "f"], "b", ["d", "f"]],
    [[], "b", []],
  ])("%j after %j is %j", (ids, after, expected) => {
    expect(idsAfter(ids, after)).toEqual(expected);
  });

  it("does not reorder the leaf it was given", () => {
    const ids = ["z", "y"];
    idsAfter(ids, undefined);
    expect(ids).toEqual(["z", "y"]);
  });
});

describe("pull file codec", () => {
  const file: PullFile = {
    layoutVersion: 7,
    partitions: new Map([
      [
        3,
        {
          cursor: { leaf: 12, afterId: "1:b\u00ffkey" },
          keysDone: 40,
          bytesDone: 4096,
          done: false,
        },
      ],
      [9, { cursor: { leaf: 1024, afterId: undefined }, keysDone: 3, bytesDone: 99, done: true }],
    ]),
  };

  it("round-trips", () => {
    const decoded = decodePullFile(encodePullFile(file), 16, 1024);
    expect(decoded).toEqual({ ok: true, file });
  });

  const good = JSON.parse(encodePullFile(file)) as Record<string, unknown>;
  const withEntry = (change: Record<string, unknown>) =>
    JSON.stringify({
      ...good,
      partitions: [{ ...(good["partitions"] as object[])[0], ...change }],
    });
  it.each([
    ["not json", "{", /^not JSON/],
    ["a list", "[]", /^not an object$/],
    ["another format", JSON.stringify({ ...good, format: 2 }), /^format 2, expected 1$/],
    ["a negative version", JSON.stringify({ ...good, layoutVersion: -1 }), /layoutVersion/],
    ["no partition list", JSON.stringify({ ...good, partitions: {} }), /partitions is not a list/],
    [
      "a partition out of range",
      withEntry({ partition: 16 }),
      /partitions\[0\]: partition is not in 0..15/,
    ],
    ["a leaf past the tree", withEntry({ leaf: 1025 }), /leaf is not in 0..1024/],
    ["a numeric afterId", withEntry({ afterId: 5 }), /afterId is not a string/],
    ["a fractional count", withEntry({ keysDone: 1.5 }), /keysDone or bytesDone/],
    ["done as a string", withEntry({ done: "yes" }), /done is not a boolean/],
    [
      "a partition twice",
      JSON.stringify({
        ...good,
        partitions: [(good["partitions"] as object[])[0], (good["partitions"] as object[])[0]],
      }),
      /partition 3 appears twice/,
    ],
  ])("refuses %s", (_name, text, reason) => {
    const decoded = decodePullFile(text, 16, 1024);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toMatch(reason);
  });
});

describe("RateWindow", () => {
  it("is the bytes after the first sample over the span to now, within the window", () => {
    const window = new RateWindow(10_000);
    expect(window.rate(0)).toBe(0);
    window.record(0, 500);
    expect(window.rate(1_000)).toBe(0);
    window.record(1_000, 1_000);
    window.record(2_000, 1_000);
    expect(window.rate(2_000)).toBe(1_000);
    // Samples older than the window slide out; with one left there is no rate.
    expect(window.rate(11_500)).toBe(0);
  });
});

describe("bytesLeftEstimate", () => {
  it.each([
    [100, 0, 0, 0],
    [100, 50, 5_000, 10_000],
    [0, 50, 5_000, 0],
  ])("%i keys left after %i keys of %i bytes: %i bytes", (left, done, bytes, expected) => {
    expect(bytesLeftEstimate(left, done, bytes)).toBe(expected);
  });
});
