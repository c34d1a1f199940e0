// Unit tests of GetQuorum, table-driven, with numbers merged by Math.max. A row is: config
// "n r pr"; targets, one letter per node a, b, c, … (P = primary, F = fallback); events ("a:5"
// found 5, "a:-" not found, "a:X" error, "T" deadline); and the verdict at construction and
// after each event ("-" pending, "ok(5)" / "ok()" with the merged object, "r!" / "pr!" quorum
// unreachable, "timeout").

import { describe, expect, it } from "vitest";
import {
  GetQuorum,
  type GetVerdict,
  type ReadReply,
} from "../../../../coordinator/core/get-quorum.js";
import type { QuorumTarget } from "../../../../coordinator/core/put-quorum.js";

type Row = readonly [config: string, targets: string, events: string, verdicts: string];

function makeTargets(layout: string): QuorumTarget[] {
  return [...layout].map((kind, index) => ({
    node: String.fromCharCode(97 + index),
    primary: kind === "P",
  }));
}

function makeQuorum(config: string, layout: string): GetQuorum<number> {
  const [n, r, pr] = config.split(" ").map(Number);
  if (n === undefined || r === undefined || pr === undefined) {
    throw new Error(`bad config ${config}`);
  }
  return new GetQuorum<number>({
    config: { n, r, pr },
    targets: makeTargets(layout),
    merge: Math.max,
  });
}

function words(text: string): string[] {
  return text.split(" ").filter((word) => word !== "");
}

function parseReply(text: string): ReadReply<number> {
  if (text === "X") return { ok: false, error: "connection refused" };
  if (text === "-") return { ok: true, object: undefined };
  return { ok: true, object: Number(text) };
}

/** Applies one event ("a:5", "T", …) and returns the verdict it yields. */
function apply(quorum: GetQuorum<number>, event: string): GetVerdict<number> {
  if (event === "T") return quorum.onTimeout();
  const [node, reply] = event.split(":");
  if (node === undefined || reply === undefined) throw new Error(`bad event ${event}`);
  return quorum.onReply(node, parseReply(reply));
}

function short(verdict: GetVerdict<number>): string {
  if (verdict.status === "pending") return "-";
  if (verdict.status === "ok") return `ok(${verdict.object ?? ""})`;
  const short: Record<string, string> = {
    "read-quorum-unreachable": "r!",
    "primary-read-quorum-unreachable": "pr!",
    timeout: "timeout",
  };
  return short[verdict.reason] ?? verdict.reason;
}

function run(
  config: string,
  layout: string,
  events: string,
): [GetQuorum<number>, GetVerdict<number>[]] {
  const quorum = makeQuorum(config, layout);
  const verdicts = [quorum.verdict];
  for (const event of words(events)) verdicts.push(apply(quorum, event));
  return [quorum, verdicts];
}

function check(rows: readonly Row[]): void {
  for (const [config, layout, events, expected] of rows) {
    const [, verdicts] = run(config, layout, events);
    const label = `config "${config}", targets "${layout}", events "${events}"`;
    expect(verdicts.map(short).join(" "), label).toBe(expected);
  }
}

describe("GetQuorum", () => {
  it("answers once r replies arrived, with the merge of the objects found so far", () => {
    // prettier-ignore
    check([
      // n r pr    targets  events               verdicts
      ["3 2 0",    "PPP",   "a:5 b:7 c:9",       "- - ok(7) ok(7)"],
      ["3 2 0",    "PPP",   "a:7 b:5",           "- - ok(7)"],
      ["3 1 0",    "PPP",   "a:5 b:7",           "- ok(5) ok(5)"],
      ["3 3 0",    "PPP",   "a:5 b:9 c:7",       "- - - ok(9)"],
      ["3 2 0",    "FFP",   "c:3 a:4",           "- - ok(4)"],
      ["1 1 1",    "P",     "a:2",               "- ok(2)"],
    ]);
  });

  it("counts a not-found reply towards r (notfound_ok)", () => {
    // prettier-ignore
    check([
      // n r pr    targets  events               verdicts
      ["3 2 0",    "PPP",   "a:- b:-",           "- - ok()"],
      ["3 2 0",    "PPP",   "a:- b:4",           "- - ok(4)"],
      ["3 2 0",    "PPP",   "a:X b:- c:3",       "- - - ok(3)"],
      ["3 1 0",    "PPP",   "a:- b:8",           "- ok() ok()"],
    ]);
  });

  it("fails as soon as r is unreachable", () => {
    // prettier-ignore
    check([
      // n r pr    targets  events               verdicts
      ["3 2 0",    "PPP",   "a:X b:X c:1",       "- - r! r!"],
      ["3 3 0",    "PPP",   "a:1 b:X",           "- - r!"],
      ["3 1 0",    "PPP",   "a:X b:X c:X",       "- - - r!"],
      ["3 2 0",    "P",     "",                  "r!"],
      ["3 1 0",    "",      "",                  "r!"],
    ]);
  });

  it("demands pr primary replies and fails as soon as they cannot come", () => {
    // prettier-ignore
    check([
      // n r pr    targets  events               verdicts
      ["3 2 2",    "PPF",   "c:1 a:2 b:3",       "- - - ok(3)"],
      ["3 2 1",    "PFF",   "b:1 c:2 a:-",       "- - - ok(2)"],
      ["3 2 2",    "PPF",   "a:X",               "- pr!"],
      ["3 1 2",    "PFF",   "",                  "pr!"],
      ["3 3 3",    "PPP",   "a:X",               "- pr!"],
      ["3 2 1",    "PFF",   "b:1 c:2 a:X",       "- - - pr!"],
    ]);
  });

  it("keeps its first verdict and object when later replies arrive", () => {
    // prettier-ignore
    check([
      // n r pr    targets  events               verdicts
      ["3 1 0",    "PPP",   "a:1 b:9 c:X",       "- ok(1) ok(1) ok(1)"],
      ["3 3 0",    "PPP",   "a:X b:9 c:9",       "- r! r! r!"],
      ["3 2 2",    "PPF",   "b:X a:1 c:1",       "- pr! pr! pr!"],
    ]);
  });

  it("turns a pending verdict into a timeout at the deadline and keeps a decided one", () => {
    // prettier-ignore
    check([
      // n r pr    targets  events               verdicts
      ["3 2 0",    "PPP",   "T",                 "- timeout"],
      ["3 2 0",    "PPP",   "a:1 T",             "- - timeout"],
      ["3 2 0",    "PPP",   "a:1 b:2 T",         "- - ok(2) ok(2)"],
      ["3 3 0",    "PPP",   "a:X T",             "- r! r!"],
    ]);
  });

  it("explains a failure with the numbers", () => {
    // prettier-ignore
    const rows: readonly (readonly [string, string, string, string])[] = [
      // n r pr   targets events          message
      ["3 2 0",   "PPP",  "a:1 b:X c:X",  "read quorum unreachable: 1/2 replies (n=3, pr=0); " +
                                             "first error: b: connection refused"],
      ["3 2 0",   "",     "",             "read quorum unreachable: 0/2 replies (n=3, pr=0)"],
      ["3 2 2",   "PPF",  "a:1 b:X",      "primary read quorum unreachable: 1/2 primary replies, " +
                                            "1 primary reachable (n=3); " +
                                            "first error: b: connection refused"],
      ["3 2 2",   "PFF",  "",             "primary read quorum unreachable: 0/2 primary replies, " +
                                            "1 primary reachable (n=3)"],
      ["3 2 0",   "PPP",  "a:1 T",        "read timed out: 1/2 replies (n=3)"],
      ["3 2 1",   "PFF",  "b:1 c:1 T",    "read timed out: 2/2 replies, 0/1 primary replies (n=3)"],
    ];
    for (const [config, layout, events, message] of rows) {
      const [quorum] = run(config, layout, events);
      const verdict = quorum.verdict;
      expect(verdict.status === "failed" ? verdict.message : verdict.status, events).toBe(message);
    }
  });

  it("reports the counts at the decision and keeps counting later replies", () => {
    const [quorum, verdicts] = run("3 2 1", "PFP", "b:4 a:- c:X");
    expect(verdicts[2]).toEqual({
      status: "ok",
      object: 4,
      counts: { replies: 2, primaryReplies: 1, found: 1, failures: 0, pending: 1 },
    });
    expect(quorum.verdict).toBe(verdicts[2]);
    expect(quorum.counts).toEqual({
      replies: 2,
      primaryReplies: 1,
      found: 1,
      failures: 1,
      pending: 0,
    });
  });

  it("keeps every reply in arrival order for read repair, failures and late ones included", () => {
    const [quorum] = run("3 1 0", "PFP", "c:3 a:X b:-");
    expect(quorum.replies()).toEqual([
      { node: "c", primary: true, reply: { ok: true, object: 3 } },
      { node: "a", primary: true, reply: { ok: false, error: "connection refused" } },
      { node: "b", primary: false, reply: { ok: true, object: undefined } },
    ]);
  });

  it("merges any object type with the merge it is given (sets by union)", () => {
    const union = (a: ReadonlySet<string>, b: ReadonlySet<string>): ReadonlySet<string> =>
      new Set([...a, ...b]);
    const quorum = new GetQuorum<ReadonlySet<string>>({
      config: { n: 3, r: 3, pr: 0 },
      targets: makeTargets("PPF"),
      merge: union,
    });
    quorum.onReply("a", { ok: true, object: new Set(["x"]) });
    quorum.onReply("b", { ok: true, object: undefined });
    const verdict = quorum.onReply("c", { ok: true, object: new Set(["y", "x"]) });
    expect(verdict.status === "ok" ? [...(verdict.object ?? [])].sort() : verdict).toEqual([
      "x",
      "y",
    ]);
  });

  it("is complete once every target replied or the deadline passed", () => {
    // prettier-ignore
    const rows: readonly (readonly [string, string, string, string])[] = [
      // n r pr   targets events            complete at construction, after each event
      ["3 2 0",   "PPP",  "a:1 b:1 c:1",    "no no no yes"],
      ["3 2 0",   "PPP",  "a:X b:X c:-",    "no no no yes"],
      ["3 2 0",   "PPP",  "a:1 T",          "no no yes"],
      ["3 2 0",   "",     "T",              "yes yes"],
    ];
    for (const [config, layout, events, expected] of rows) {
      const quorum = makeQuorum(config, layout);
      const seen = [quorum.complete];
      for (const event of words(events)) {
        apply(quorum, event);
        seen.push(quorum.complete);
      }
      expect(seen.map((done) => (done ? "yes" : "no")).join(" "), events).toBe(expected);
    }
  });

  it("throws on programmer errors from the shell", () => {
    // prettier-ignore
    const rows: readonly (readonly [string, string, string, RegExp])[] = [
      // n r pr   targets events            error
      ["3 2 0",   "PPP",  "z:1",            /reply from z, which is not a target/],
      ["3 2 0",   "PPP",  "a:1 a:1",        /second reply from a/],
      ["3 1 0",   "PPP",  "a:- a:X",        /second reply from a/],
      ["3 2 0",   "PPP",  "T b:1",          /reply from b after onTimeout/],
      ["3 2 0",   "PPP",  "T T",            /onTimeout called twice/],
    ];
    for (const [config, layout, events, error] of rows) {
      expect(() => run(config, layout, events), events).toThrow(error);
    }
  });

  it("rejects invalid configs and duplicate targets at construction", () => {
    // prettier-ignore
    const rows: readonly (readonly [string, string, RegExp])[] = [
      // n r pr    targets  error
      ["3 0 0",    "PPP",   /invalid config/],
      ["3 4 0",    "PPP",   /invalid config/],
      ["3 2 4",    "PPP",   /invalid config/],
      ["3 2 -1",   "PPP",   /invalid config/],
      ["3 2.5 0",  "PPP",   /invalid config/],
    ];
    for (const [config, layout, error] of rows) {
      expect(() => makeQuorum(config, layout), config).toThrow(error);
    }
    const twice = [...makeTargets("PPP"), { node: "b", primary: false }];
    const config = { n: 3, r: 2, pr: 0 };
    expect(() => new GetQuorum<number>({ config, targets: twice, merge: Math.max })).toThrow(
      /node b is listed twice/,
    );
  });
});
