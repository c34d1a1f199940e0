// Unit tests of PutQuorum, table-driven. A row is: config "n w dw pw"; targets, one letter per
// node a, b, c, … (P = primary, F = fallback); events ("aD" durable ack, "aA" ack not yet
// durable, "aX" error, "aL" limit refusal, "T" deadline); and the verdict at construction and
// after each event ("-" pending, "ok", "w!" / "dw!" / "pw!" quorum unreachable, "L!" refused
// over the limit, "timeout").

import { describe, expect, it } from "vitest";
import {
  PutQuorum,
  type PutVerdict,
  type QuorumTarget,
  type WriteReply,
} from "../../../../coordinator/core/put-quorum.js";

type Row = readonly [config: string, targets: string, events: string, verdicts: string];

function makeTargets(layout: string): QuorumTarget[] {
  return [...layout].map((kind, index) => ({
    node: String.fromCharCode(97 + index),
    primary: kind === "P",
  }));
}

function makeQuorum(config: string, layout: string): PutQuorum {
  const [n, w, dw, pw] = config.split(" ").map(Number);
  if (n === undefined || w === undefined || dw === undefined || pw === undefined) {
    throw new Error(`bad config ${config}`);
  }
  return new PutQuorum({ config: { n, w, dw, pw }, targets: makeTargets(layout) });
}

function words(text: string): string[] {
  return text.split(" ").filter((word) => word !== "");
}

const REPLIES: Record<string, WriteReply> = {
  D: { ok: true, durable: true },
  A: { ok: true, durable: false },
  X: { ok: false, error: "disk full" },
  L: { ok: false, error: "too many siblings: 101 exceeds 100 at b; resolve them", overLimit: true },
};

/** Applies one event ("aD", "T", …) and returns the verdict it yields. */
function apply(quorum: PutQuorum, event: string): PutVerdict {
  if (event === "T") return quorum.onTimeout();
  const reply = REPLIES[event.slice(1)];
  if (reply === undefined) throw new Error(`bad event ${event}`);
  return quorum.onReply(event.slice(0, 1), reply);
}

function short(verdict: PutVerdict): string {
  if (verdict.status === "pending") return "-";
  if (verdict.status === "ok") return "ok";
  const short: Record<string, string> = {
    "write-quorum-unreachable": "w!",
    "durable-quorum-unreachable": "dw!",
    "primary-quorum-unreachable": "pw!",
    "over-limit": "L!",
    timeout: "timeout",
  };
  return short[verdict.reason] ?? verdict.reason;
}

/** Runs a row and returns the machine plus every verdict seen. */
function run(config: string, layout: string, events: string): [PutQuorum, PutVerdict[]] {
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

describe("PutQuorum", () => {
  it("fails over the limit once a limit refusal helped make the quorum impossible", () => {
    // prettier-ignore
    check([
      // n w dw pw  targets events             verdicts
      ["3 2 1 0",   "PPP",  "aD bL cL",        "- - - L!"],
      ["3 2 1 0",   "PPP",  "aD bL cD",        "- - - ok"],   // refused at b, acknowledged
      ["3 2 1 0",   "PPP",  "aD bX cL",        "- - - L!"],   // mixed: the limit is named
      ["3 2 1 0",   "PPP",  "aD bL cX",        "- - - L!"],
      ["3 2 1 0",   "PPP",  "aD bX cX",        "- - - w!"],   // no refusal: unavailable
      ["3 3 1 0",   "PPP",  "aD bL",           "- - L!"],     // decided before c answers
      ["3 2 1 0",   "PPP",  "aD bL T",         "- - - timeout"], // still possible: may land
      ["3 2 1 3",   "PPF",  "aD cL",           "pw! pw! pw!"],  // failed at construction
      ["3 2 1 2",   "PPP",  "aD bL",           "- - -"],
      ["3 2 1 2",   "PPP",  "aD bL cL",        "- - - L!"],
      ["3 2 2 0",   "PPP",  "aA bL cA",        "- - L! L!"],  // dw out of reach after b
    ]);
  });

  it("succeeds once acks reach w, durable acks dw and primary acks pw", () => {
    // prettier-ignore
    check([
      // n w dw pw   targets  events           verdicts
      ["3 2 1 0",    "PPP",   "aD bD cD",      "- - ok ok"],
      ["3 2 1 0",    "PPP",   "aA bD cD",      "- - ok ok"],
      ["3 1 1 0",    "PPP",   "aD bD",         "- ok ok"],
      ["3 2 0 0",    "PPP",   "aA bA",         "- - ok"],
      ["3 3 3 0",    "PPP",   "aD bD cD",      "- - - ok"],
      ["3 2 1 0",    "PFF",   "bA cD",         "- - ok"],
      ["1 1 1 1",    "P",     "aD",            "- ok"],
    ]);
  });

  it("waits for dw durable acks after w acks arrived", () => {
    // prettier-ignore
    check([
      // n w dw pw   targets  events           verdicts
      ["3 2 1 0",    "PPP",   "aA bA cD",      "- - - ok"],
      ["3 2 2 0",    "PPP",   "aD bA cD",      "- - - ok"],
      ["3 1 1 0",    "PPP",   "aA bX cD",      "- - - ok"],
    ]);
  });

  it("counts a fallback's ack for w and dw but not for pw", () => {
    // prettier-ignore
    check([
      // n w dw pw   targets  events           verdicts
      ["3 2 1 1",    "FPP",   "aD bA",         "- - ok"],
      ["3 2 1 2",    "PPF",   "cD aA bA",      "- - - ok"],
      ["3 1 1 1",    "FPF",   "aD cD bA",      "- - - ok"],
      ["3 2 1 1",    "PFF",   "bD cD aA",      "- - - ok"],
    ]);
  });

  it("fails as soon as w is unreachable", () => {
    // prettier-ignore
    check([
      // n w dw pw   targets  events           verdicts
      ["3 2 1 0",    "PPP",   "aX bX cD",      "- - w! w!"],
      ["3 3 1 0",    "PPP",   "aD bX cD",      "- - w! w!"],
      ["3 2 1 0",    "PP",    "aX bD",         "- w! w!"],
      ["3 1 1 0",    "PPP",   "aX bX cX",      "- - - w!"],
      ["3 3 3 0",    "PPP",   "aD bX",         "- - w!"],
    ]);
  });

  it("fails as soon as dw is unreachable", () => {
    // prettier-ignore
    check([
      // n w dw pw   targets  events           verdicts
      ["3 2 2 0",    "PPP",   "aA bA cD",      "- - dw! dw!"],
      ["3 2 1 0",    "PPP",   "aA bA cA",      "- - - dw!"],
      ["3 1 1 0",    "PP",    "aA bX",         "- - dw!"],
      ["3 3 2 0",    "PPP",   "aA bD cA",      "- - - dw!"],
    ]);
  });

  it("fails as soon as pw is unreachable, reporting pw before w and dw", () => {
    // prettier-ignore
    check([
      // n w dw pw   targets  events           verdicts
      ["3 2 1 2",    "PPF",   "aX",            "- pw!"],
      ["3 2 1 2",    "PPF",   "cD aD bX",      "- - - pw!"],
      ["3 2 1 1",    "PFF",   "bD cD aX",      "- - - pw!"],
      ["3 3 3 3",    "PPP",   "aX",            "- pw!"],
      ["3 2 2 2",    "PPP",   "aX bX",         "- - pw!"],
    ]);
  });

  it("fails at construction when too few targets exist", () => {
    // prettier-ignore
    check([
      // n w dw pw   targets  events           verdicts
      ["3 2 1 0",    "P",     "",              "w!"],
      ["3 1 1 0",    "",      "",              "w!"],
      ["3 2 1 2",    "PFF",   "",              "pw!"],
      ["3 1 0 3",    "PPF",   "",              "pw!"],
      ["3 3 1 0",    "PP",    "",              "w!"],
      ["3 2 1 1",    "FF",    "",              "pw!"],
    ]);
  });

  it("keeps its first verdict when later replies arrive", () => {
    // prettier-ignore
    check([
      // n w dw pw   targets  events           verdicts
      ["3 1 1 0",    "PPP",   "aD bX cX",      "- ok ok ok"],
      ["3 3 1 0",    "PPP",   "aX bD cD",      "- w! w! w!"],
      ["3 2 2 0",    "PPP",   "aA bA cD",      "- - dw! dw!"],
      ["3 2 1 2",    "PPF",   "aX bD cD",      "- pw! pw! pw!"],
    ]);
  });

  it("turns a pending verdict into a timeout at the deadline and keeps a decided one", () => {
    // prettier-ignore
    check([
      // n w dw pw   targets  events           verdicts
      ["3 2 1 0",    "PPP",   "T",             "- timeout"],
      ["3 2 1 0",    "PPP",   "aD T",          "- - timeout"],
      ["3 2 1 0",    "PPP",   "aA bA T",       "- - - timeout"],
      ["3 2 1 0",    "PPP",   "aD bD T",       "- - ok ok"],
      ["3 3 1 0",    "PPP",   "aX T",          "- w! w!"],
    ]);
  });

  it("explains a failure with the numbers", () => {
    // prettier-ignore
    const rows: readonly (readonly [string, string, string, string])[] = [
      // n w dw pw  targets events        message
      ["3 2 1 0",   "PPP",  "aD bX cX",   "write quorum unreachable: 1/2 acks (n=3, pw=0); " +
                                            "first error: b: disk full"],
      ["3 2 1 0",   "P",    "",           "write quorum unreachable: 0/2 acks (n=3, pw=0)"],
      ["3 2 1 0",   "PPP",  "aA bA cA",   "durable write quorum unreachable: 0/1 durable acks " +
                                            "(w=2, dw=1)"],
      ["3 2 1 2",   "PPF",  "aD bX",      "primary write quorum unreachable: 1/2 primary acks, " +
                                            "1 primary reachable (n=3); first error: b: disk full"],
      ["3 2 1 2",   "FFF",  "",           "primary write quorum unreachable: 0/2 primary acks, " +
                                            "0 primaries reachable (n=3)"],
      ["3 2 1 0",   "PPP",  "aD T",       "write timed out: 1/2 acks (n=3)"],
      ["3 2 1 0",   "PPP",  "aA bA T",    "write timed out: 2/2 acks, 0/1 durable acks (n=3)"],
      ["3 2 1 2",   "PPF",  "cD aD T",    "write timed out: 2/2 acks, 1/2 primary acks (n=3)"],
    ];
    for (const [config, layout, events, message] of rows) {
      const [quorum] = run(config, layout, events);
      const verdict = quorum.verdict;
      expect(verdict.status === "failed" ? verdict.message : verdict.status, events).toBe(message);
    }
  });

  it("names the first refusal and the counts in an over-limit message", () => {
    const [quorum] = run("3 2 1 0", "PPP", "aD bL cL");
    expect(quorum.overLimit).toBe(2);
    const verdict = quorum.verdict;
    expect(verdict.status === "failed" ? verdict.message : verdict.status).toBe(
      "too many siblings: 101 exceeds 100 at b; resolve them " +
        "(write refused: 1/2 acks, 2 refused over the limit)",
    );
  });

  it("reports the counts at the decision and keeps counting later replies", () => {
    const [quorum, verdicts] = run("3 2 1 1", "PPF", "cD aA bX");
    expect(verdicts[2]).toEqual({
      status: "ok",
      counts: { acks: 2, durableAcks: 1, primaryAcks: 1, failures: 0, pending: 1 },
    });
    expect(quorum.verdict).toBe(verdicts[2]);
    expect(quorum.counts).toEqual({
      acks: 2,
      durableAcks: 1,
      primaryAcks: 1,
      failures: 1,
      pending: 0,
    });
  });

  it("is complete once every target replied or the deadline passed", () => {
    // prettier-ignore
    const rows: readonly (readonly [string, string, string, string])[] = [
      // n w dw pw  targets events          complete at construction, after each event
      ["3 2 1 0",   "PPP",  "aD bD cD",     "no no no yes"],
      ["3 2 1 0",   "PPP",  "aX bX cX",     "no no no yes"],
      ["3 2 1 0",   "PPP",  "aD T",         "no no yes"],
      ["3 2 1 0",   "",     "T",            "yes yes"],
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
      // n w dw pw  targets events          error
      ["3 2 1 0",   "PPP",  "zD",           /reply from z, which is not a target/],
      ["3 2 1 0",   "PPP",  "aD aD",        /second reply from a/],
      ["3 1 1 0",   "PPP",  "aD aX",        /second reply from a/],
      ["3 2 1 0",   "PPP",  "T aD",         /reply from a after onTimeout/],
      ["3 2 1 0",   "PPP",  "T T",          /onTimeout called twice/],
    ];
    for (const [config, layout, events, error] of rows) {
      expect(() => run(config, layout, events), events).toThrow(error);
    }
  });

  it("rejects invalid configs and duplicate targets at construction", () => {
    // prettier-ignore
    const rows: readonly (readonly [string, string, RegExp])[] = [
      // n w dw pw   targets  error
      ["3 0 0 0",    "PPP",   /invalid config/],
      ["3 4 1 0",    "PPP",   /invalid config/],
      ["3 1 2 0",    "PPP",   /invalid config/],
      ["3 2 1 4",    "PPP",   /invalid config/],
      ["3 2 -1 0",   "PPP",   /invalid config/],
      ["0 1 1 0",    "PPP",   /invalid config/],
      ["3 1.5 1 0",  "PPP",   /invalid config/],
    ];
    for (const [config, layout, error] of rows) {
      expect(() => makeQuorum(config, layout), config).toThrow(error);
    }
    const twice = [
      { node: "a", primary: true },
      { node: "a", primary: false },
    ];
    const config = { n: 3, w: 2, dw: 1, pw: 0 };
    expect(() => new PutQuorum({ config, targets: twice })).toThrow(/node a is listed twice/);
  });
});
