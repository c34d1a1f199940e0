// Property test of a put's quorum during a membership change, against a brute-force oracle: the
// write is acknowledged exactly when the widened counts are met (w + widenBy acks, dw, pw) or,
// in both the old and the new primary set, its own members gave max(w, pw) acks and dw durable
// ones; it fails exactly when no completion of the silent replies could meet either; and once
// acknowledged through the sets, each set holds w of the write.

import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import { PutQuorum, type WriteReply } from "../../../../coordinator/core/put-quorum.js";
import { widenQuorum } from "../../../../coordinator/core/quorum-options.js";
import { mustSync } from "../../../../coordinator/core/transition-groups.js";

const RUNS = 300;
type Outcome = "durable" | "ack" | "fail";

/** Nodes 0..n-1 are old primaries; the new set drops `losing` of them and adds as many. */
const cases = fc
  .record({
    n: fc.integer({ min: 1, max: 4 }),
    moved: fc.integer({ min: 1, max: 2 }),
    w: fc.nat(),
    dw: fc.nat(),
    pw: fc.nat(),
    down: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    fallbacks: fc.integer({ min: 0, max: 2 }),
    outcomes: fc.array(fc.constantFrom<Outcome>("durable", "ack", "fail"), {
      minLength: 8,
      maxLength: 8,
    }),
    orderSeed: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
  })
  .map(({ n, moved, w, dw, pw, down, fallbacks, outcomes, orderSeed }) => {
    const losing = Math.min(moved, n);
    const old = Array.from({ length: n }, (_, i) => `o${i}`);
    const added = Array.from({ length: losing }, (_, i) => `g${i}`);
    const next = [...old.slice(losing), ...added];
    const primaries = [...old, ...added];
    const askedW = 1 + (w % n);
    const asked = { n, r: 1, pr: 0, w: askedW, dw: dw % (askedW + 1), pw: pw % (n + 1) };
    // Down primaries are left out; fallbacks (non-primaries) may stand in.
    const up = primaries.filter((_, i) => down[i] !== true);
    const targets = [
      ...up.map((node) => ({ node, primary: true })),
      ...Array.from({ length: fallbacks }, (_, i) => ({ node: `f${i}`, primary: false })),
    ];
    const order = targets
      .map((target, i) => ({ target, key: orderSeed[i] ?? 0 }))
      .sort((a, b) => a.key - b.key || (a.target.node < b.target.node ? -1 : 1))
      .map(({ target }) => target.node);
    const outcomeOf = new Map(targets.map((target, i) => [target.node, outcomes[i] ?? "fail"]));
    return { old, next, primaries, asked, widenBy: losing, targets, order, outcomeOf };
  });

const REPLIES: Record<Outcome, WriteReply> = {
  durable: { ok: true, durable: true },
  ack: { ok: true, durable: false },
  fail: { ok: false, error: "injected" },
};

function holds(
  replies: ReadonlyMap<string, Outcome>,
  config: { w: number; dw: number; pw: number },
  asked: { w: number; dw: number; pw: number },
  sets: readonly (readonly string[])[],
  isPrimary: (node: string) => boolean,
): boolean {
  const acked = [...replies].filter(([, outcome]) => outcome !== "fail").map(([node]) => node);
  const durable = [...replies].filter(([, outcome]) => outcome === "durable").map(([node]) => node);
  const counted =
    acked.length >= config.w &&
    durable.length >= config.dw &&
    acked.filter(isPrimary).length >= config.pw;
  const grouped = sets.every(
    (set) =>
      set.filter((node) => acked.includes(node)).length >= Math.max(asked.w, asked.pw) &&
      set.filter((node) => durable.includes(node)).length >= asked.dw,
  );
  return counted || grouped;
}

function* completions(count: number): Generator<Outcome[]> {
  if (count === 0) {
    yield [];
    return;
  }
  for (const rest of completions(count - 1)) {
    for (const outcome of ["durable", "ack", "fail"] as const) yield [outcome, ...rest];
  }
}

test.prop([cases], { numRuns: RUNS })(
  "a transition put is ok exactly when the widened counts or both primary sets are met, " +
    "fails exactly when neither can be, and an ok through the sets leaves w on each side",
  ({ old, next, primaries, asked, widenBy, targets, order, outcomeOf }) => {
    const config = widenQuorum(asked, widenBy, primaries.length);
    const sets = [old, next];
    const groups = { sets, asked };
    const isPrimary = (node: string): boolean => primaries.includes(node);
    const quorum = new PutQuorum({ config, targets, groups });
    const delivered = new Map<string, Outcome>();
    for (let step = 0; step <= order.length; step += 1) {
      if (step > 0) {
        const node = order[step - 1]!;
        const outcome = outcomeOf.get(node)!;
        delivered.set(node, outcome);
        quorum.onReply(node, REPLIES[outcome]);
      }
      const verdict = quorum.verdict;
      if (holds(delivered, config, asked, sets, isPrimary)) {
        expect(verdict.status).toBe("ok");
        return;
      }
      const silent = order.slice(step);
      let possible = false;
      for (const guess of completions(silent.length)) {
        const all = new Map([...delivered, ...silent.map((node, i) => [node, guess[i]!] as const)]);
        if (holds(all, config, asked, sets, isPrimary)) {
          possible = true;
          break;
        }
      }
      expect(verdict.status).toBe(possible ? "pending" : "failed");
      if (!possible) return;
    }
  },
);

test.prop([cases], { numRuns: RUNS })(
  "an ok reached only through the primary sets holds max(w, pw) acks and dw durable ones in each",
  ({ old, next, primaries, asked, widenBy, targets, order, outcomeOf }) => {
    const config = widenQuorum(asked, widenBy, primaries.length);
    const quorum = new PutQuorum({ config, targets, groups: { sets: [old, next], asked } });
    const acked = new Set<string>();
    const durable = new Set<string>();
    for (const node of order) {
      const outcome = outcomeOf.get(node)!;
      if (outcome !== "fail") acked.add(node);
      if (outcome === "durable") durable.add(node);
      if (quorum.onReply(node, REPLIES[outcome]).status === "ok") break;
    }
    if (quorum.verdict.status !== "ok" || acked.size >= config.w) return;
    for (const set of [old, next]) {
      expect(set.filter((node) => acked.has(node)).length).toBeGreaterThanOrEqual(
        Math.max(asked.w, asked.pw),
      );
      expect(set.filter((node) => durable.has(node)).length).toBeGreaterThanOrEqual(asked.dw);
    }
  },
);

test.prop([cases], { numRuns: RUNS })(
  "asking only the replicas mustSync names to sync acknowledges every put that asking all did",
  ({ old, next, primaries, asked, widenBy, targets, outcomeOf }) => {
    const config = widenQuorum(asked, widenBy, primaries.length);
    const groups = { sets: [old, next], asked };
    // The coordinator is a primary among the targets; its own write succeeds, durable iff dw > 0.
    const self = targets.find((target) => target.primary)?.node;
    if (self === undefined) return;
    const selfDurable = config.dw > 0;
    const verdictWhen = (syncs: (node: string) => boolean): string => {
      const quorum = new PutQuorum({ config, targets, groups });
      quorum.onReply(self, { ok: true, durable: selfDurable });
      for (const { node } of targets) {
        if (node === self) continue;
        const failed = outcomeOf.get(node) === "fail";
        quorum.onReply(node, failed ? REPLIES.fail : { ok: true, durable: syncs(node) });
      }
      return quorum.verdict.status;
    };
    const everyone = verdictWhen(() => config.dw > (selfDurable ? 1 : 0));
    const named = verdictWhen(mustSync(groups, config.dw, self, selfDurable, targets));
    if (everyone === "ok") expect(named).toBe("ok");
  },
);

test("during a change, dw = 1: a coordinator in both sets asks no replica to sync, else the set it is not in", () => {
  const groups = {
    sets: [
      ["a", "b", "c"],
      ["a", "b", "d"],
    ],
    asked: { w: 2, dw: 1, pw: 0 },
  };
  const all = ["a", "b", "c", "d"].map((node) => ({ node }));
  const sync = (self: string, node: string, targets = all) =>
    mustSync(groups, 2, self, true, targets)(node);
  // The widened dw is 2, which alone asked every replica to sync.
  for (const node of ["b", "c", "d"]) expect(sync("a", node)).toBe(false);
  // c is only an old primary: the new set needs a durable ack of its own.
  expect(sync("c", "a")).toBe(true);
  expect(sync("c", "d")).toBe(true);
  // A fallback f stands in for d: every node syncs as the widened dw asks.
  const degraded = [...all.slice(0, 3), { node: "f" }];
  for (const node of ["b", "c", "f"]) expect(sync("a", node, degraded)).toBe(true);
  // Outside a change: only dw beyond the local copy.
  expect(mustSync(undefined, 1, "a", true, all)("b")).toBe(false);
  expect(mustSync(undefined, 2, "a", true, all)("b")).toBe(true);
  expect(mustSync(undefined, 1, "a", false, all)("b")).toBe(true);
});
