// Unit tests of the forwarding policy, table-driven. Preference lists are written as their
// targets, one per node: "aP" an up primary, "dF" a fallback (standing in for a down primary);
// forward lists as node names in order.

import { describe, expect, it } from "vitest";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import type { PreferenceList } from "../../../../coordinator/core/preference-list.js";
import {
  DEFAULT_FORWARD_POLICY,
  afterForwardFailure,
  attemptDeadlineMs,
  forwardTargets,
  noCoordinatorMessage,
  type ForwardFailure,
  type ForwardPolicy,
} from "../../../../coordinator/core/forward-policy.js";

/** A list from "aP bP dF": primaries a, b (and a down one, "z", for each fallback). */
function listOf(targets: string): PreferenceList {
  const entries = targets.split(" ").filter((entry) => entry !== "");
  const primaries: NodeId[] = [];
  const list = entries.map((entry) => {
    const node = nodeId(entry.slice(0, -1));
    if (entry.endsWith("P")) {
      primaries.push(node);
      return { node, role: "primary" as const };
    }
    const standsInFor = nodeId(`z${primaries.length}`);
    primaries.push(standsInFor);
    return { node, role: "fallback" as const, standsInFor };
  });
  return { primaries, targets: list, spares: [] };
}

describe("forwardTargets", () => {
  // prettier-ignore
  const rows: readonly (readonly [string, string, string, boolean])[] = [
    // targets       self  forward   selfMay
    ["aP bP cP",     "a",  "",       true],
    ["aP bP cP",     "c",  "",       true],
    ["aP bP cP",     "d",  "a b c",  false],
    ["aP dF cP",     "d",  "a c",    true],
    ["dF bP",        "e",  "b",      false],
    ["dF eF",        "d",  "",       true],
    ["dF eF",        "e",  "d",      true],
    ["dF eF",        "f",  "d",      false],
    ["",             "a",  "",       false],
  ];
  it.each(rows)(
    "targets %s seen from %s: forward to '%s', self may coordinate: %s",
    (targets, self, forward, selfMay) => {
      const result = forwardTargets(listOf(targets), nodeId(self));
      expect(result.forward.join(" ")).toBe(forward);
      expect(result.selfMay).toBe(selfMay);
    },
  );
});

describe("attemptDeadlineMs", () => {
  // prettier-ignore
  const rows: readonly (readonly [number, number, boolean, number])[] = [
    // now   deadline  another left  attempt deadline
    [0,      5000,     false,        5000],
    [0,      5000,     true,         1500],
    [1000,   6000,     true,         2500],
    [0,      2000,     true,         1000],
    [100,    400,      true,         250],
  ];
  it.each(rows)(
    "from %i with deadline %i (another left: %s) waits until %i",
    (now, deadline, another, expected) => {
      expect(attemptDeadlineMs(now, deadline, another, DEFAULT_FORWARD_POLICY)).toBe(expected);
    },
  );
});

describe("afterForwardFailure", () => {
  const giveUp: ForwardPolicy = { ...DEFAULT_FORWARD_POLICY, silentCandidate: "give-up" };
  const limit = "too many siblings: 101 at b (limit 100)";
  // prettier-ignore
  const rows: readonly (readonly [ForwardFailure["kind"], boolean, string, number, ForwardPolicy, string])[] = [
    // kind        not applied  message             attempt ends  policy                   step
    ["unreached",  false,       "b refused",        5000,         DEFAULT_FORWARD_POLICY,  "next: b refused"],
    ["deadline",   false,       "deadline",         1500,         DEFAULT_FORWARD_POLICY,  "next: no answer within 1500 ms (may have applied)"],
    ["deadline",   false,       "deadline",         5000,         DEFAULT_FORWARD_POLICY,  "fail"],
    ["deadline",   true,        "already passed",   5000,         DEFAULT_FORWARD_POLICY,  "next: already passed"],
    ["error",      false,       "write quorum",     5000,         DEFAULT_FORWARD_POLICY,  "fail"],
    ["error",      false,       "write quorum",     1500,         DEFAULT_FORWARD_POLICY,  "fail"],
    ["error",      true,        "too few up",       1500,         DEFAULT_FORWARD_POLICY,  "next: too few up"],
    ["error",      true,        limit,              1500,         DEFAULT_FORWARD_POLICY,  "fail"],
    ["deadline",   false,       "deadline",         1500,         giveUp,                  "give-up"],
    ["deadline",   false,       "deadline",         5000,         giveUp,                  "fail"],
    ["unreached",  false,       "b refused",        1500,         giveUp,                  "next: b refused"],
    ["error",      true,        "too few up",       1500,         giveUp,                  "next: too few up"],
  ];
  it.each(rows)(
    "%s (not applied: %s, '%s', attempt until %i) leads to the step %#",
    (kind, notApplied, message, attemptMs, policy, expected) => {
      const step = afterForwardFailure(
        { kind, notApplied, message },
        { startedMs: 0, attemptMs, deadlineMs: 5000 },
        policy,
      );
      const next =
        step.step === "next"
          ? `next: ${step.reason}${step.mayHaveApplied ? " (may have applied)" : ""}`
          : step.step;
      expect(next).toBe(expected);
    },
  );

  it("names every candidate tried, or says none is up", () => {
    expect(noCoordinatorMessage([])).toBe(
      "no replica of the key reachable to coordinate the write (none is up)",
    );
    expect(noCoordinatorMessage(["a: refused", "b: no answer within 1500 ms"])).toBe(
      "no replica of the key reachable to coordinate the write (a: refused; b: no answer within 1500 ms)",
    );
  });
});
