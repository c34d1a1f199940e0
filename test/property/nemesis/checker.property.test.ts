// Goal: on any history a correct DVV store can produce, the nemesis checker reports no lost
// write, no phantom and no non-concurrent siblings; and dropping any one final sibling (a
// store that lost a write) is always reported as a lost acknowledged write.
// Method: fast-check drives three in-memory replicas of one key with the real dvv.ts update
// and sync: clients read a (possibly stale) replica and write back with its context.

import { describe, expect } from "vitest";
import { fc, it } from "@fast-check/vitest";
import { EMPTY_DVV_SET, join, sync, update, vtag, type DvvSet } from "../../../node/core/dvv.js";
import { checkRun } from "../../../scripts/nemesis/core/checker.js";
import type { FinalKey, RunHistory, WriteRecord } from "../../../scripts/nemesis/core/history.js";

const REPLICAS = 3;

type Step =
  | { readonly kind: "write"; readonly readFrom: number; readonly at: number }
  | { readonly kind: "sync"; readonly from: number; readonly to: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("write" as const),
    readFrom: fc.nat(REPLICAS - 1),
    at: fc.nat(REPLICAS - 1),
  }),
  fc.record({
    kind: fc.constant("sync" as const),
    from: fc.nat(REPLICAS - 1),
    to: fc.nat(REPLICAS - 1),
  }),
);

/** Runs the steps; returns the history and the fully synced final object. */
function simulate(steps: readonly Step[]): { writes: WriteRecord[]; final: DvvSet } {
  const replicas: DvvSet[] = Array.from({ length: REPLICAS }, () => EMPTY_DVV_SET);
  const writes: WriteRecord[] = [];
  for (const next of steps) {
    if (next.kind === "sync") {
      replicas[next.to] = sync(replicas[next.to]!, replicas[next.from]!);
      continue;
    }
    const context = join(replicas[next.readFrom]!);
    const value = `r${writes.length}`;
    const { object, dot } = update(replicas[next.at]!, context, `n${next.at}.x`, {
      value: Buffer.from(value),
      contentType: "",
      metadata: {},
      lastModifiedMs: 0,
      deleted: false,
    });
    replicas[next.at] = object;
    writes.push({
      id: writes.length,
      client: next.readFrom,
      workload: "register",
      key: "k",
      value,
      element: undefined,
      context,
      coveredVtags: [],
      invokeMs: 0,
      completeMs: 0,
      outcome: "ok",
      dot,
      vtag: vtag(dot),
      error: undefined,
    });
  }
  return { writes, final: replicas.reduce(sync, EMPTY_DVV_SET) };
}

function history(writes: WriteRecord[], final: DvvSet): RunHistory {
  const siblings = final.siblings.map((sibling) => ({
    value: Buffer.from(sibling.value).toString(),
    vtag: vtag(sibling.dot),
    lastModifiedMs: 0,
  }));
  const state: FinalKey = {
    key: "k",
    workload: "register",
    primaries: [],
    siblings,
    context: final.context,
    copies: [],
  };
  return { writes, reads: [], finals: [state], convergence: { converged: true, afterHealMs: 0 } };
}

describe("checkRun on histories of a correct DVV store", () => {
  it.prop([fc.array(step, { minLength: 1, maxLength: 40 })])("finds nothing wrong", (steps) => {
    const { writes, final } = simulate(steps);
    const result = checkRun(history(writes, final));
    expect(result.examples).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it.prop([fc.array(step, { minLength: 1, maxLength: 40 }), fc.nat()])(
    "reports a lost write when any one final sibling disappears",
    (steps, pick) => {
      const { writes, final } = simulate(steps);
      fc.pre(final.siblings.length > 0);
      const dropped = pick % final.siblings.length;
      const damaged = { ...final, siblings: final.siblings.filter((_, i) => i !== dropped) };
      const result = checkRun(history(writes, damaged));
      expect(result.counts["lost-write"]).toBeGreaterThanOrEqual(1);
      expect(result.valid).toBe(false);
    },
  );
});
