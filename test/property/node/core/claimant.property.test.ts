// Property tests of the claimant choice (node/core/claimant.ts) over random member states and
// up sets, against a brute-force oracle: sort the candidates, valid ones first, take the first.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";

import { claimantOf, routeMembershipCall } from "../../../../node/core/claimant.js";
import type { Layout, LayoutMember, MemberState } from "../../../../node/core/layout.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";

const POOL = ["a", "b", "c", "d", "e", "f", "n1", "n10", "n2", "B"].map((id) => nodeId(id));
const STATES: readonly MemberState[] = ["joining", "valid", "leaving", "removed"];

function layoutOf(members: readonly LayoutMember[]): Layout {
  const owners = members.filter((m) => m.state === "valid").map((m) => m.node);
  return { version: 1, partitionCount: 1, targetN: 1, members, owners: owners.slice(0, 1) };
}

const scenario = fc
  .uniqueArray(fc.constantFrom(...POOL), { minLength: 1, maxLength: POOL.length })
  .chain((nodes) =>
    fc.record({
      members: fc.tuple(
        ...nodes.map((node, index) =>
          fc
            .constantFrom(...STATES)
            .map((state): LayoutMember => ({ node, address: `10.0.0.${index + 1}:7000`, state })),
        ),
      ),
      up: fc.subarray(nodes),
      // Up nodes that are not members at all (a stale detector entry): never chosen.
      strangers: fc.subarray([nodeId("x"), nodeId("y")]),
    }),
  );

/** The oracle: every valid up member sorted, then every joining up member sorted; the first. */
function oracle(members: readonly LayoutMember[], up: ReadonlySet<NodeId>): NodeId | undefined {
  const pick = (state: MemberState): NodeId[] =>
    members
      .filter((m) => m.state === state && up.has(m.node))
      .map((m) => m.node)
      .sort();
  return [...pick("valid"), ...pick("joining")][0];
}

describe("claimantOf", () => {
  test.prop([scenario], { numRuns: 300 })(
    "is the lowest valid up member, else the lowest joining up one, else none",
    ({ members, up, strangers }) => {
      const upSet = new Set<NodeId>([...up, ...strangers]);
      const chosen = claimantOf(layoutOf(members), upSet);
      expect(chosen).toBe(oracle(members, upSet));
      if (chosen !== undefined) {
        expect(upSet.has(chosen)).toBe(true);
        const state = members.find((m) => m.node === chosen)?.state;
        expect(state === "valid" || state === "joining").toBe(true);
      }
    },
  );

  test.prop([scenario], { numRuns: 300 })(
    "does not depend on the order members are listed in or the up set is built in",
    ({ members, up }) => {
      const forward = claimantOf(layoutOf(members), new Set(up));
      const backward = claimantOf(layoutOf([...members].reverse()), new Set([...up].reverse()));
      expect(backward).toBe(forward);
    },
  );

  test.prop([scenario, fc.constantFrom(...POOL)], { numRuns: 300 })(
    "stays the same when a node with a higher id comes up",
    ({ members, up }, extra) => {
      const before = claimantOf(layoutOf(members), new Set(up));
      if (before === undefined || !(extra > before)) return;
      const isValid = members.find((m) => m.node === extra)?.state === "valid";
      const beforeValid = members.find((m) => m.node === before)?.state === "valid";
      // A valid node coming up takes over from a joining claimant, whatever its id.
      if (isValid && !beforeValid) return;
      expect(claimantOf(layoutOf(members), new Set([...up, extra]))).toBe(before);
    },
  );

  test.prop([scenario], { numRuns: 300 })(
    "routes a call to exactly one claimant: it applies there, is forwarded from every other up node once, and a forwarded call is refused, not forwarded again",
    ({ members, up }) => {
      const layout = layoutOf(members);
      const upSet = new Set(up);
      const claimant = claimantOf(layout, upSet);
      for (const self of up) {
        const direct = routeMembershipCall({ layout, up: upSet, self, forwarded: false });
        const relayed = routeMembershipCall({ layout, up: upSet, self, forwarded: true });
        if (self === claimant) {
          expect(direct).toEqual({ kind: "apply" });
          expect(relayed).toEqual({ kind: "apply" });
        } else if (claimant === undefined) {
          expect(direct).toEqual({ kind: "no-claimant" });
          expect(relayed).toEqual({ kind: "refuse-forwarded", claimant: undefined });
        } else {
          expect(direct).toMatchObject({ kind: "forward", claimant });
          expect(relayed).toEqual({ kind: "refuse-forwarded", claimant });
        }
      }
    },
  );
});

describe("claimantOf, by case", () => {
  const m = (node: string, state: MemberState): LayoutMember => ({
    node: nodeId(node),
    address: "h:1",
    state,
  });
  const ids = (...names: string[]): Set<NodeId> => new Set(names.map((name) => nodeId(name)));
  it.each([
    ["lowest valid up member", [m("a", "valid"), m("b", "valid")], ids("a", "b"), "a"],
    ["next valid when the lowest is down", [m("a", "valid"), m("b", "valid")], ids("b"), "b"],
    ["valid over a lower joining", [m("a", "joining"), m("b", "valid")], ids("a", "b"), "b"],
    ["joining when no valid is up", [m("a", "joining"), m("b", "valid")], ids("a"), "a"],
    ["never leaving or removed", [m("a", "leaving"), m("b", "removed")], ids("a", "b"), undefined],
    ["none when nobody is up", [m("a", "valid")], ids(), undefined],
    [
      "code-unit order: n10 before n2",
      [m("n2", "valid"), m("n10", "valid")],
      ids("n2", "n10"),
      "n10",
    ],
  ] as const)("%s", (_name, members, up, expected) => {
    expect(claimantOf(layoutOf(members), up)).toBe(expected);
  });
});
