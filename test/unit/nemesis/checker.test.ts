// Goal: the nemesis checker fails exactly when it should: a lost acknowledged write, a lost set
// element, a phantom, siblings that were not concurrent, divergent replicas; and never blames
// an indeterminate write or a write superseded by one that saw it.
// Method: small hand-built histories with real contexts and dots (vtags computed as dkv does).

import { describe, expect, it } from "vitest";
import {
  EMPTY_CONTEXT,
  contextFromDots,
  type CausalContext,
  type Dot,
} from "../../../node/core/causal-context.js";
import { vtag } from "../../../node/core/dvv.js";
import { checkRun } from "../../../scripts/nemesis/core/checker.js";
import {
  formatSetValue,
  type FinalKey,
  type ObservedSibling,
  type Outcome,
  type RunHistory,
  type WriteRecord,
} from "../../../scripts/nemesis/core/history.js";

const KEY = "k";
let nextId = 1;

function dot(counter: number, actor = "n1.a"): Dot {
  return { actor, counter };
}

function write(
  value: string,
  options: {
    dot?: Dot;
    context?: CausalContext;
    outcome?: Outcome;
    element?: number;
    deleted?: boolean;
    durableRequired?: boolean;
    durableCopies?: number;
  } = {},
): WriteRecord {
  const outcome = options.outcome ?? "ok";
  const acked = outcome === "ok" ? options.dot : undefined;
  return {
    id: nextId++,
    client: 0,
    workload: options.element === undefined ? "register" : "set",
    key: KEY,
    value,
    element: options.element,
    context: options.context ?? EMPTY_CONTEXT,
    coveredVtags: [],
    invokeMs: 0,
    completeMs: 1,
    outcome,
    dot: acked,
    vtag: acked === undefined ? undefined : vtag(acked),
    error: outcome === "ok" ? undefined : "DEADLINE_EXCEEDED: timed out",
    deleted: options.deleted,
    durableRequired: options.durableRequired,
    durableCopies: options.durableCopies,
  };
}

function sibling(value: string, at: Dot): ObservedSibling {
  return { value, vtag: vtag(at), lastModifiedMs: 0 };
}

/** A converged final state: every primary holds exactly `siblings` with `context`. */
function final(siblings: ObservedSibling[], context: CausalContext, set = false): FinalKey {
  const copies = ["n1", "n2", "n3"].map((node) => ({ node, found: true, siblings, context }));
  return {
    key: KEY,
    workload: set ? "set" : "register",
    primaries: ["n1", "n2", "n3"],
    siblings,
    context,
    copies,
  };
}

function history(writes: WriteRecord[], finals: FinalKey[]): RunHistory {
  return { writes, reads: [], finals, convergence: { converged: true, afterHealMs: 5 } };
}

describe("checkRun", () => {
  it("passes a chain of writes each made with the context of the one before", () => {
    const a = write("a", { dot: dot(1) });
    const b = write("b", { dot: dot(2), context: contextFromDots([dot(1)]) });
    const all = contextFromDots([dot(1), dot(2)]);
    const result = checkRun(history([a, b], [final([sibling("b", dot(2))], all)]));
    expect(result.valid).toBe(true);
    expect(result.writes.ok).toBe(2);
  });

  it("flags an acknowledged write that is gone and that no surviving write saw", () => {
    const a = write("a", { dot: dot(1) });
    const b = write("b", { dot: dot(2) });
    const result = checkRun(
      history([a, b], [final([sibling("b", dot(2))], contextFromDots([dot(1), dot(2)]))]),
    );
    expect(result.valid).toBe(false);
    expect(result.counts["lost-write"]).toBe(1);
    expect(result.examples.join("\n")).toMatch(/acknowledged a/);
  });

  it("counts a write as unpromised once its coordinator and dw − 1 other nodes were force-removed", () => {
    const lostWith = (durableCopies: number, lostNodes: string[]): number => {
      const a = write("a", { dot: dot(1, "n3.x"), durableCopies });
      const b = write("b", { dot: dot(2) });
      const finals = [final([sibling("b", dot(2))], contextFromDots([dot(2)]))];
      const result = checkRun({ ...history([a, b], finals), lostNodes });
      return result.counts["lost-write"];
    };
    expect(lostWith(1, ["n3"])).toBe(0);
    expect(lostWith(1, [])).toBe(1);
    expect(lostWith(2, ["n3"])).toBe(1);
    expect(lostWith(1, ["n1"])).toBe(1);
    // dw=2 on n3 and another node, both force-removed (seed 1869); not while n3 survives.
    expect(lostWith(2, ["n3", "n2"])).toBe(0);
    expect(lostWith(2, ["n1", "n2"])).toBe(1);
    expect(lostWith(3, ["n3", "n2"])).toBe(1);
  });

  it("accounts for a write superseded transitively (c saw b, which saw a)", () => {
    const a = write("a", { dot: dot(1) });
    const b = write("b", { dot: dot(2), context: contextFromDots([dot(1)]) });
    const c = write("c", { dot: dot(3), context: contextFromDots([dot(2)]) });
    const all = contextFromDots([dot(1), dot(2), dot(3)]);
    const result = checkRun(history([a, b, c], [final([sibling("c", dot(3))], all)]));
    expect(result.counts["lost-write"]).toBe(0);
  });

  it("never counts an indeterminate write as lost", () => {
    const a = write("a", { dot: dot(1) });
    const lost = write("x", { outcome: "indeterminate" });
    const result = checkRun(
      history([a, lost], [final([sibling("a", dot(1))], contextFromDots([dot(1)]))]),
    );
    expect(result.valid).toBe(true);
    expect(result.writes.indeterminate).toBe(1);
  });

  it("flags a value nobody wrote as a phantom", () => {
    const a = write("a", { dot: dot(1) });
    const both = contextFromDots([dot(1), dot(2)]);
    const result = checkRun(
      history([a], [final([sibling("a", dot(1)), sibling("ghost", dot(2))], both)]),
    );
    expect(result.counts.phantom).toBe(1);
    expect(result.valid).toBe(false);
  });

  it("flags a version that comes back after an acknowledged delete had superseded it", () => {
    const a = write("a", { dot: dot(1) });
    const gone = write("del-2", { dot: dot(2), context: contextFromDots([dot(1)]), deleted: true });
    const back = checkRun(
      history([a, gone], [final([sibling("a", dot(1))], contextFromDots([dot(1)]))]),
    );
    expect(back.counts.resurrected).toBe(1);
    expect(back.counts["lost-write"]).toBe(0);
    expect(back.valid).toBe(false);
    expect(back.examples.join("\n")).toMatch(/acknowledged delete del-2 had superseded it/);
    // The delete held (its tombstone reaped, nothing left): a is accounted for by it.
    const held = checkRun(history([a, gone], [final([], EMPTY_CONTEXT)]));
    expect(held.valid).toBe(true);
  });

  it("lets a dw ≤ 1 delete's supersession go once a node was force-removed (seed 1744)", () => {
    // A delete's reply has no context, so its dot and coordinator are unknown. Made at dw=1 its
    // tombstone was sure to be only on its coordinator, which may be the force-removed node.
    const backWith = (durableCopies: number, lostNodes: string[]): number => {
      const a = write("a", { dot: dot(1) });
      const gone = write("del-2", {
        context: contextFromDots([dot(1)]),
        deleted: true,
        durableCopies,
      });
      const finals = [final([sibling("a", dot(1))], contextFromDots([dot(1)]))];
      return checkRun({ ...history([a, gone], finals), lostNodes }).counts.resurrected;
    };
    expect(backWith(1, ["n4"])).toBe(0);
    expect(backWith(1, [])).toBe(1);
    expect(backWith(2, ["n4"])).toBe(1);
    expect(backWith(2, ["n4", "n5"])).toBe(0);
  });

  it("does not count an acknowledged dw=0 set element as lost", () => {
    const a = write(formatSetValue("s0.1", [1]), { dot: dot(1), element: 1 });
    const gone = write(formatSetValue("s1.1", [1, 2]), {
      dot: dot(2),
      context: contextFromDots([dot(1)]),
      element: 2,
      durableRequired: false,
    });
    const result = checkRun(
      history([a, gone], [final([sibling(a.value, dot(1))], contextFromDots([dot(1)]), true)]),
    );
    expect(result.valid).toBe(true);
    expect(result.lostUndurable).toBe(1);
    expect(result.elements.lost).toBe(0);
  });

  it("flags an overwritten version that comes back, unless its superseder was dw=0", () => {
    const a = write("a", { dot: dot(1) });
    const seen = contextFromDots([dot(1)]);
    const b = write("b", { dot: dot(2), context: seen });
    const stale = [final([sibling("a", dot(1))], seen)];
    const back = checkRun(history([a, b], stale));
    expect(back.counts.resurrected).toBe(1);
    expect(back.counts["lost-write"]).toBe(1);
    const undurable = write("c", { dot: dot(2), context: seen, durableRequired: false });
    const lost = checkRun(history([a, undurable], stale));
    expect(lost.valid).toBe(true);
    expect(lost.lostUndurable).toBe(1);
  });

  it("uses a sibling's own dot when the client saw it (the simulation)", () => {
    // a's dot is known neither from an ack nor from the final context: only from the sibling.
    const a = write("a", { outcome: "indeterminate" });
    const b = write("b", { dot: dot(2), context: contextFromDots([dot(1)]) });
    const withDot = { ...sibling("a", dot(1)), dot: dot(1) };
    const result = checkRun(
      history([a, b], [final([withDot, sibling("b", dot(2))], EMPTY_CONTEXT)]),
    );
    expect(result.counts["siblings-not-concurrent"]).toBe(1);
  });

  it("flags siblings when one sibling's write had seen the other", () => {
    const a = write("a", { dot: dot(1) });
    const b = write("b", { dot: dot(2), context: contextFromDots([dot(1)]) });
    const all = contextFromDots([dot(1), dot(2)]);
    const result = checkRun(
      history([a, b], [final([sibling("a", dot(1)), sibling("b", dot(2))], all)]),
    );
    expect(result.counts["siblings-not-concurrent"]).toBeGreaterThan(0);
  });

  it("keeps concurrent writes as siblings without complaint", () => {
    const a = write("a", { dot: dot(1) });
    const b = write("b", { dot: dot(1, "n2.b") });
    const all = contextFromDots([dot(1), dot(1, "n2.b")]);
    const result = checkRun(
      history([a, b], [final([sibling("a", dot(1)), sibling("b", dot(1, "n2.b"))], all)]),
    );
    expect(result.valid).toBe(true);
    expect(result.keys[0]?.finalSiblings).toBe(2);
  });

  it("learns the dot of an unacknowledged write from its vtag and judges it by it", () => {
    const a = write("a", { dot: dot(1), outcome: "indeterminate" });
    const b = write("b", { dot: dot(2), context: contextFromDots([dot(1)]) });
    const all = contextFromDots([dot(1), dot(2)]);
    // a reappears beside b, which had seen it: only knowable once a's dot is found from its vtag.
    const result = checkRun(
      history([a, b], [final([sibling("a", dot(1)), sibling("b", dot(2))], all)]),
    );
    expect(result.counts["siblings-not-concurrent"]).toBe(1);
  });

  it("flags an acknowledged set element missing from the final set, but not an indeterminate one", () => {
    const a = write(formatSetValue("s0.1", [1]), { dot: dot(1), element: 1 });
    const b = write(formatSetValue("s1.1", [2]), { dot: dot(1, "n2.b"), element: 2 });
    const c = write(formatSetValue("s2.1", [3]), { outcome: "indeterminate", element: 3 });
    // An LWW client read {a, b}, kept b only, and wrote d = {2, 4} over both.
    const seen = contextFromDots([dot(1), dot(1, "n2.b")]);
    const d = write(formatSetValue("s3.1", [2, 4]), { dot: dot(2), context: seen, element: 4 });
    const all = contextFromDots([dot(1), dot(2), dot(1, "n2.b")]);
    const result = checkRun(history([a, b, c, d], [final([sibling(d.value, dot(2))], all, true)]));
    expect(result.counts["lost-write"]).toBe(0);
    expect(result.counts["lost-element"]).toBe(1);
    expect(result.elements).toEqual({ acknowledged: 3, lost: 1, indeterminatePresent: 0 });
    expect(result.valid).toBe(false);
  });

  it("lets a set element go with its dw ≤ 1 write coordinated by a force-removed node", () => {
    // b = {2} was acknowledged at dw=1 by n3 alone, which was then force-removed (seed 2042).
    const lostWith = (lostNodes: string[], seenBy: "nobody" | "c") => {
      const a = write(formatSetValue("s0.1", [1]), { dot: dot(1), element: 1 });
      const b = write(formatSetValue("s1.1", [2]), {
        dot: dot(1, "n3.x"),
        element: 2,
        durableCopies: 1,
      });
      // c saw a (and, in the second case, b) and, like an LWW client, kept only a's element.
      const seen = contextFromDots(seenBy === "c" ? [dot(1), dot(1, "n3.x")] : [dot(1)]);
      const c = write(formatSetValue("s2.1", [1, 3]), { dot: dot(2), context: seen, element: 3 });
      const all = contextFromDots([dot(1), dot(2), ...(seenBy === "c" ? [dot(1, "n3.x")] : [])]);
      const finals = [final([sibling(c.value, dot(2))], all, true)];
      const result = checkRun({ ...history([a, b, c], finals), lostNodes });
      return { lost: result.counts["lost-element"], undurable: result.lostUndurable };
    };
    expect(lostWith(["n3"], "nobody")).toEqual({ lost: 0, undurable: 1 });
    expect(lostWith([], "nobody")).toEqual({ lost: 1, undurable: 0 });
    // A write that saw b dropped its element: b's write survives in c, so that loss is real.
    expect(lostWith(["n3"], "c")).toEqual({ lost: 1, undurable: 0 });
  });

  it("flags a primary whose copy differs, and a run that did not converge", () => {
    const a = write("a", { dot: dot(1) });
    const state = final([sibling("a", dot(1))], contextFromDots([dot(1)]));
    const stale = {
      ...state,
      copies: [
        ...state.copies.slice(0, 2),
        { node: "n3", found: false, siblings: [], context: EMPTY_CONTEXT },
      ],
    };
    const result = checkRun({
      writes: [a],
      reads: [],
      finals: [stale],
      convergence: { converged: false, afterHealMs: 60_000 },
    });
    expect(result.counts["divergent-replicas"]).toBe(1);
    expect(result.counts["not-converged"]).toBe(1);
  });

  it("reports one write seen as two versions as a duplicate (a warning only)", () => {
    const a = write("a", { dot: dot(2) });
    const all = contextFromDots([dot(1), dot(2)]);
    const result = checkRun(
      history([a], [final([sibling("a", dot(1)), sibling("a", dot(2))], all)]),
    );
    expect(result.counts["duplicate-value"]).toBe(1);
    expect(result.counts["siblings-not-concurrent"]).toBe(0);
    expect(result.valid).toBe(true);
  });

  it("flags a value seen after its put definitely failed", () => {
    const a = write("a", { outcome: "fail" });
    const result = checkRun(
      history([a], [final([sibling("a", dot(1))], contextFromDots([dot(1)]))]),
    );
    expect(result.counts["failed-write-visible"]).toBe(1);
    expect(result.valid).toBe(false);
  });
});

describe("checkRun on a cluster that held data before the run", () => {
  // The nemesis run FAIL of seed 3 with a reused --out: the first reads returned the final
  // siblings of the earlier run, r1.45 and r3.316, whose value tags this run wrote again later
  // with contexts covering the old dots. Attributed to this run's writes, each old version
  // looked covered by the other's context (mutual "siblings-not-concurrent") and each write
  // looked stored twice ("duplicate-value").
  const oldA = dot(45, "n1.old");
  const oldB = dot(316, "n3.old");
  const oldContext = contextFromDots([oldA, oldB]);

  function read(id: number, siblings: ObservedSibling[], context: CausalContext, at: number) {
    return {
      id,
      client: 1,
      workload: "register" as const,
      key: KEY,
      invokeMs: at,
      completeMs: at + 100,
      outcome: "ok" as const,
      siblings,
      context,
      error: undefined,
    };
  }

  function timed(record: WriteRecord, invokeMs: number): WriteRecord {
    return { ...record, invokeMs, completeMs: invokeMs + 10 };
  }

  it("reports the versions seen before their writes were invoked as phantoms, nothing else", () => {
    const a = timed(write("r1.45", { dot: dot(1, "n1.new"), context: oldContext }), 5_000);
    const b = timed(write("r3.316", { dot: dot(1, "n3.new"), context: oldContext }), 6_000);
    const all = contextFromDots([oldA, oldB, dot(1, "n1.new"), dot(1, "n3.new")]);
    const finalSiblings = [sibling("r1.45", dot(1, "n1.new")), sibling("r3.316", dot(1, "n3.new"))];
    const result = checkRun({
      writes: [a, b],
      reads: [
        // Client 1's first read, at the start of the run: the earlier run's siblings.
        read(2, [sibling("r1.45", oldA), sibling("r3.316", oldB)], oldContext, 40),
        // Later, after both writes were invoked, an old version is still around on a replica.
        read(9, [sibling("r1.45", oldA), sibling("r3.316", dot(1, "n3.new"))], all, 7_000),
      ],
      finals: [final(finalSiblings, all)],
      convergence: { converged: true, afterHealMs: 5 },
    });
    expect(result.counts["siblings-not-concurrent"]).toBe(0);
    expect(result.counts["duplicate-value"]).toBe(0);
    expect(result.counts["lost-write"]).toBe(0);
    expect(result.counts.phantom).toBe(2);
    expect(result.examples.join("\n")).toMatch(/r1\.45 \(.+\), first seen before its write/);
    expect(result.valid).toBe(false);
  });

  it("accepts a read that saw a write invoked before the read completed", () => {
    const a = timed(write("a", { dot: dot(1) }), 100);
    const all = contextFromDots([dot(1)]);
    // The read was invoked before the put and completed after it was invoked.
    const result = checkRun({
      writes: [a],
      reads: [read(1, [sibling("a", dot(1))], all, 50)],
      finals: [final([sibling("a", dot(1))], all)],
      convergence: { converged: true, afterHealMs: 5 },
    });
    expect(result.examples).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
