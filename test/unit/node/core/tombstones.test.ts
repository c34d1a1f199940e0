// Goal: the reaping rules of node/core/tombstones.ts: only tombstone-only objects have a delete
// time, and a round is blocked by a down member, a cut-off peer, pending or unknown hints.

import { describe, expect, it } from "vitest";
import { EMPTY_CONTEXT } from "../../../../node/core/causal-context.js";
import { EMPTY_DVV_SET, update, type Version } from "../../../../node/core/dvv.js";
import { graceElapsed, reapBlocker, tombstoneSince } from "../../../../node/core/tombstones.js";

function version(deleted: boolean, lastModifiedMs: number): Version {
  return { value: new Uint8Array(), contentType: "", metadata: {}, lastModifiedMs, deleted };
}

describe("tombstoneSince", () => {
  it("is undefined for an empty object and for any live sibling", () => {
    expect(tombstoneSince(EMPTY_DVV_SET)).toBeUndefined();
    const live = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", version(false, 10)).object;
    expect(tombstoneSince(live)).toBeUndefined();
    // A delete concurrent with a live write leaves a live sibling: not reapable.
    const mixed = update(live, EMPTY_CONTEXT, "b", version(true, 20)).object;
    expect(tombstoneSince(mixed)).toBeUndefined();
  });

  it("is the newest delete time when every sibling is a tombstone", () => {
    const one = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", version(true, 10)).object;
    expect(tombstoneSince(one)).toBe(10);
    const two = update(one, EMPTY_CONTEXT, "b", version(true, 30)).object;
    expect(tombstoneSince(two)).toBe(30);
  });
});

describe("reapBlocker", () => {
  const members = ["n1", "n2", "n3"];
  const allUp = new Set(members);
  const noHints = new Map(members.map((member) => [member, 0]));

  it("lets a round run when every member is up, none is cut off and no hints are pending", () => {
    expect(reapBlocker({ members, up: allUp, dropped: [], hintsPending: noHints })).toBeUndefined();
  });

  it("names the members that are down", () => {
    const up = new Set(["n1"]);
    expect(reapBlocker({ members, up, dropped: [], hintsPending: noHints })).toBe(
      "members down: n2, n3",
    );
  });

  it("waits while traffic to a peer is dropped", () => {
    expect(reapBlocker({ members, up: allUp, dropped: ["n3"], hintsPending: noHints })).toBe(
      "traffic dropped to: n3",
    );
  });

  it("waits for pending hints, and for a member whose hints are unknown", () => {
    const pending = new Map([...noHints, ["n2", 4]]);
    expect(reapBlocker({ members, up: allUp, dropped: [], hintsPending: pending })).toBe(
      "4 hints pending on n2",
    );
    const unknown = new Map([
      ["n1", 0],
      ["n2", 0],
    ]);
    expect(reapBlocker({ members, up: allUp, dropped: [], hintsPending: unknown })).toBe(
      "hints pending on n3 unknown (no answer)",
    );
  });
});

describe("graceElapsed", () => {
  it("is true from exactly the grace period on", () => {
    expect(graceElapsed(1000, 3999, 3000)).toBe(false);
    expect(graceElapsed(1000, 4000, 3000)).toBe(true);
  });
});
