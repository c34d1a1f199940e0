// Unit tests of resolveQuorum: symbols, bucket defaults, and the validation messages of DESIGN §2.
// Each row is "request options", "bucket options" (over DEFAULT_BUCKET) → resolution, written
// as `n=3 r=2 …` on success and `field: message` on failure.

import { describe, expect, it } from "vitest";
import {
  DEFAULT_BUCKET,
  resolveQuorum,
  type BucketDefaults,
  type QuorumRequest,
  type QuorumResolution,
  type QuorumValue,
} from "../../../../coordinator/core/quorum-options.js";

type Field = "r" | "w" | "dw" | "pr" | "pw";

/** "one" | "quorum" | "all" | "default" | a number → a QuorumValue. */
function parseValue(text: string): QuorumValue {
  if (text === "one" || text === "quorum" || text === "all" || text === "default") {
    return { kind: text };
  }
  return { kind: "count", count: Number(text) };
}

/** "n=2 w=all" → field overrides. */
function parseOptions(text: string): { n?: number; values: Partial<Record<Field, QuorumValue>> } {
  const values: Partial<Record<Field, QuorumValue>> = {};
  let n: number | undefined;
  for (const token of text.split(" ").filter((part) => part !== "")) {
    const [field, value] = token.split("=");
    if (field === undefined || value === undefined) throw new Error(`bad token ${token}`);
    if (field === "n") n = Number(value);
    else values[field as Field] = parseValue(value);
  }
  return n === undefined ? { values } : { n, values };
}

function request(text: string): QuorumRequest {
  const { n, values } = parseOptions(text);
  const unset: QuorumValue = { kind: "default" };
  return { n: n ?? 0, r: unset, w: unset, dw: unset, pr: unset, pw: unset, ...values };
}

function bucket(text: string): BucketDefaults {
  const { n, values } = parseOptions(text);
  return { ...DEFAULT_BUCKET, ...(n === undefined ? {} : { n }), ...values };
}

function show(resolution: QuorumResolution): string {
  if (!resolution.ok) return `${resolution.field}: ${resolution.message}`;
  const { n, r, w, dw, pr, pw } = resolution.config;
  return `n=${n} r=${r} w=${w} dw=${dw} pr=${pr} pw=${pw}`;
}

function check(rows: readonly (readonly [string, string, string])[]): void {
  for (const [requestText, bucketText, expected] of rows) {
    const actual = show(resolveQuorum(request(requestText), bucket(bucketText)));
    expect(actual, `request "${requestText}", bucket "${bucketText}"`).toBe(expected);
  }
}

describe("resolveQuorum", () => {
  it("gives n=3, r=w=2, dw=1, pr=pw=0 when nothing is set", () => {
    expect(show(resolveQuorum(request(""), DEFAULT_BUCKET))).toBe("n=3 r=2 w=2 dw=1 pr=0 pw=0");
  });

  it("resolves one, quorum and all against the request's n", () => {
    // prettier-ignore
    check([
      // request                               bucket     → resolution
      ["r=one w=all",                          "",          "n=3 r=1 w=3 dw=1 pr=0 pw=0"],
      ["r=all w=one dw=one pr=quorum pw=all",  "",          "n=3 r=3 w=1 dw=1 pr=2 pw=3"],
      ["n=1",                                  "",          "n=1 r=1 w=1 dw=1 pr=0 pw=0"],
      ["n=2",                                  "",          "n=2 r=2 w=2 dw=1 pr=0 pw=0"],
      ["n=4 pr=quorum pw=quorum",              "n=7",       "n=4 r=3 w=3 dw=1 pr=3 pw=3"],
      ["n=5 w=all dw=all",                     "n=5",       "n=5 r=3 w=5 dw=5 pr=0 pw=0"],
      ["",                                     "n=7",       "n=7 r=4 w=4 dw=1 pr=0 pw=0"],
      ["r=2 w=3 dw=0 pr=1 pw=2",               "",          "n=3 r=2 w=3 dw=0 pr=1 pw=2"],
      ["r=default w=default",                  "",          "n=3 r=2 w=2 dw=1 pr=0 pw=0"],
    ]);
  });

  it("resolves the bucket's defaults against the request's n", () => {
    // prettier-ignore
    check([
      // request                 bucket                        → resolution
      ["n=2",                    "n=5 r=all w=quorum",           "n=2 r=2 w=2 dw=1 pr=0 pw=0"],
      ["w=one",                  "w=all dw=0",                   "n=3 r=2 w=1 dw=0 pr=0 pw=0"],
      ["",                       "r=1 w=3 dw=2 pr=1 pw=quorum",  "n=3 r=1 w=3 dw=2 pr=1 pw=2"],
      ["",                       "r=default dw=default",         "n=3 r=2 w=2 dw=1 pr=0 pw=0"],
      ["n=2",                    "r=3",                          "r: r=3 exceeds n=2"],
      ["w=one",                  "dw=2",                         "dw: dw=2 exceeds w=1"],
    ]);
  });

  it("rejects each field out of range with a message naming it and the numbers", () => {
    // prettier-ignore
    check([
      // request                 bucket     → resolution
      ["n=5",                    "",          "n: n=5 exceeds the bucket's n=3"],
      ["n=-1",                   "",          "n: n must be at least 1 (got -1)"],
      ["",                       "n=0",       "n: n must be at least 1 (got 0)"],
      ["r=0",                    "",          "r: r must be at least 1 (got 0)"],
      ["r=4",                    "",          "r: r=4 exceeds n=3"],
      ["w=0",                    "",          "w: w must be at least 1 (got 0)"],
      ["w=4",                    "",          "w: w=4 exceeds n=3"],
      ["n=2 w=all dw=3",         "",          "dw: dw=3 exceeds w=2"],
      ["w=one dw=2",             "",          "dw: dw=2 exceeds w=1"],
      ["dw=-1",                  "",          "dw: dw must be at least 0 (got -1)"],
      ["pr=4",                   "",          "pr: pr=4 exceeds n=3"],
      ["pr=-2",                  "",          "pr: pr must be at least 0 (got -2)"],
      ["pw=4",                   "",          "pw: pw=4 exceeds n=3"],
      ["n=1 pw=all pr=2",        "",          "pr: pr=2 exceeds n=1"],
    ]);
  });

  it("rejects counts that are not integers", () => {
    // prettier-ignore
    check([
      // request                 bucket     → resolution
      ["n=2.5",                  "",          "n: n must be an integer (got 2.5)"],
      ["r=1.5",                  "",          "r: r must be an integer (got 1.5)"],
      ["w=NaN",                  "",          "w: w must be an integer (got NaN)"],
      ["dw=0.5",                 "",          "dw: dw must be an integer (got 0.5)"],
      ["",                       "pr=Infinity", "pr: pr must be an integer (got Infinity)"],
      ["pw=2.25",                "",          "pw: pw must be an integer (got 2.25)"],
    ]);
  });

  it("reports the first bad field in the order n, r, w, dw, pr, pw", () => {
    // prettier-ignore
    check([
      // request                         bucket     → resolution
      ["pw=9 pr=9 dw=9 w=9 r=9 n=9",     "",          "n: n=9 exceeds the bucket's n=3"],
      ["pw=9 pr=9 dw=9 w=9 r=9",         "",          "r: r=9 exceeds n=3"],
      ["pw=9 pr=9 dw=9 w=9",             "",          "w: w=9 exceeds n=3"],
      ["pw=9 pr=9 dw=9",                 "",          "dw: dw=9 exceeds w=2"],
      ["pw=9 pr=9",                      "",          "pr: pr=9 exceeds n=3"],
      ["pw=9",                           "",          "pw: pw=9 exceeds n=3"],
    ]);
  });

  it("computes quorum as a strict majority, floor(n/2)+1", () => {
    // prettier-ignore
    check([
      // request                   bucket     → resolution
      ["n=1 r=quorum",             "n=7",       "n=1 r=1 w=1 dw=1 pr=0 pw=0"],
      ["n=2 r=quorum",             "n=7",       "n=2 r=2 w=2 dw=1 pr=0 pw=0"],
      ["n=3 r=quorum",             "n=7",       "n=3 r=2 w=2 dw=1 pr=0 pw=0"],
      ["n=4 r=quorum",             "n=7",       "n=4 r=3 w=3 dw=1 pr=0 pw=0"],
      ["n=5 r=quorum",             "n=7",       "n=5 r=3 w=3 dw=1 pr=0 pw=0"],
      ["n=6 r=quorum",             "n=7",       "n=6 r=4 w=4 dw=1 pr=0 pw=0"],
      ["n=7 r=quorum",             "n=7",       "n=7 r=4 w=4 dw=1 pr=0 pw=0"],
    ]);
  });

  it("ships the defaults of DESIGN §2", () => {
    expect(DEFAULT_BUCKET).toEqual({
      n: 3,
      r: { kind: "quorum" },
      w: { kind: "quorum" },
      dw: { kind: "count", count: 1 },
      pr: { kind: "count", count: 0 },
      pw: { kind: "count", count: 0 },
    });
  });
});
