// Goal: the --membership nemesis plans grow 3 → 5, shrink to 3, a replace and a force-remove that
// leaves n owners; picks the members a step acts on away from faulted ones, the same for a seed;
// calls a step settled only when every member answers with one layout, out of transition, owned
// by the expected members; and counts a key's copies only on its primaries, with every version.
// Method: plans for 3 and 5 nodes; layouts from the layout fixtures; hand-built final keys.

import { describe, expect, it } from "vitest";
import { EMPTY_CONTEXT } from "../../../node/core/causal-context.js";
import type { Layout } from "../../../node/core/layout.js";
import { commitStaged } from "../../../node/core/layout-merge.js";
import { SeededRandom } from "../../../node/core/seeded-random.js";
import type { FinalKey } from "../../../scripts/nemesis/core/history.js";
import {
  copiesOnPrimaries,
  describeStep,
  keysShortOfCopies,
  layoutAgreement,
  membersAfter,
  pickTargets,
  planMembershipSteps,
  type MembershipStep,
} from "../../../scripts/nemesis/core/membership-steps.js";
import { cluster, completed, join, stage } from "../node/core/layout-fixtures.js";

/** Each step as its description, with the member counts it goes through. */
function walk(initial: readonly string[], n: number): string[] {
  let members = initial.length;
  return planMembershipSteps(initial, n).map((step: MembershipStep) => {
    const text = describeStep(step, members, []);
    members = membersAfter(step, members);
    return text;
  });
}

describe("planMembershipSteps", () => {
  it.each([
    {
      initial: ["n1", "n2", "n3"],
      steps: [
        "grow 3 → 5: join n4, n5",
        "shrink 5 → 3: leave 2 members",
        "replace a member by n6",
        "grow 3 → 4: join n7",
        "kill -9 and force-remove a member (4 → 3)",
      ],
    },
    {
      initial: ["n1", "n2", "n3", "n4", "n5"],
      steps: [
        "grow 5 → 7: join n6, n7",
        "shrink 7 → 5: leave 2 members",
        "replace a member by n8",
        "kill -9 and force-remove a member (5 → 4)",
      ],
    },
    {
      // New ids skip the taken ones.
      initial: ["n1", "n2", "n5"],
      steps: [
        "grow 3 → 5: join n4, n6",
        "shrink 5 → 3: leave 2 members",
        "replace a member by n7",
        "grow 3 → 4: join n8",
        "kill -9 and force-remove a member (4 → 3)",
      ],
    },
  ])("plans $initial", ({ initial, steps }) => {
    expect(walk(initial, 3)).toEqual(steps);
  });

  it("never leaves fewer than n members owning partitions", () => {
    for (let size = 3; size <= 9; size++) {
      const initial = Array.from({ length: size }, (_, index) => `n${index + 1}`);
      let members = size;
      for (const step of planMembershipSteps(initial, 3)) {
        members = membersAfter(step, members);
        expect(members, `${size} nodes, after ${step.kind}`).toBeGreaterThanOrEqual(3);
      }
    }
  });

  it("refuses fewer than n members and repeated ones", () => {
    expect(() => planMembershipSteps(["n1", "n2"], 3)).toThrow(/at least n=3/);
    expect(() => planMembershipSteps(["n1", "n1", "n2"], 3)).toThrow(/repeat/);
  });
});

describe("pickTargets", () => {
  const members = ["n1", "n2", "n3", "n4", "n5"];

  it("never picks an avoided member, and picks the same for the same seed", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const picked = pickTargets(members, new Set(["n2", "n4"]), 2, new SeededRandom(seed));
      expect(picked).toHaveLength(2);
      expect(picked).not.toContain("n2");
      expect(picked).not.toContain("n4");
      expect(pickTargets(members, new Set(["n2", "n4"]), 2, new SeededRandom(seed))).toEqual(
        picked,
      );
    }
  });

  it("gives nothing when too few members are free", () => {
    expect(pickTargets(members, new Set(["n1", "n2", "n3", "n4"]), 2, new SeededRandom(1))).toBe(
      undefined,
    );
  });
});

describe("layoutAgreement", () => {
  const abc = cluster("abc").layout;
  const abcd = completed(cluster("abc"), join("d")).layout;
  const moving = commitStaged(stage(cluster("abc"), join("d"))).layout;
  const views = (...entries: [string, Layout | undefined][]): Map<string, Layout | undefined> =>
    new Map(entries);

  it.each([
    {
      name: "one settled layout",
      layouts: views(["a", abcd], ["b", abcd], ["c", abcd], ["d", abcd]),
      owning: "abcd",
      want: `settled v${abcd.version}`,
    },
    {
      name: "a member silent",
      layouts: views(["a", abcd], ["b", undefined]),
      owning: "ab",
      want: "b did not answer",
    },
    {
      name: "a transition",
      layouts: views(["a", moving], ["b", moving]),
      owning: "abcd",
      want: `a still moves data (layout v${moving.version})`,
    },
    {
      name: "two versions",
      layouts: views(["a", abc], ["b", abcd]),
      owning: "abcd",
      want: `members differ: a at v${abc.version}; b at v${abcd.version}`,
    },
    {
      name: "other owners",
      layouts: views(["a", abc], ["b", abc], ["c", abc]),
      owning: "abcd",
      want: `v${abc.version} has owning members a,b,c, expected a,b,c,d`,
    },
    { name: "nobody asked", layouts: views(), owning: "a", want: "no member to ask" },
  ])("$name", ({ layouts, owning, want }) => {
    const agreement = layoutAgreement(layouts, [...owning]);
    expect(agreement.settled ? `settled v${agreement.version}` : agreement.why).toBe(want);
  });
});

describe("copies on primaries", () => {
  /** `copies` in a tiny notation: `a:xy` is node a holding versions x and y, `b:-` none. */
  function final(siblings: string, copies: string): FinalKey {
    const observed = (vtags: string) =>
      [...vtags].map((vtag) => ({ value: vtag, vtag, lastModifiedMs: 0 }));
    return {
      key: `k ${copies}`,
      workload: "register",
      primaries: ["a", "b", "c"],
      siblings: observed(siblings),
      context: EMPTY_CONTEXT,
      copies: copies.split(" ").map((copy) => {
        const [node, held] = copy.split(":") as [string, string];
        return {
          node,
          found: held !== "-",
          siblings: held === "-" ? [] : observed(held),
          context: EMPTY_CONTEXT,
        };
      }),
    };
  }

  it.each([
    { siblings: "x", copies: "a:x b:x c:x", want: 3 },
    { siblings: "xy", copies: "a:xy b:x c:xy", want: 2 },
    { siblings: "x", copies: "a:x b:- c:x", want: 2 },
    { siblings: "x", copies: "a:x b:x d:x", want: 2 }, // d is no primary
  ])("$copies holds $want full copies of $siblings", ({ siblings, copies, want }) => {
    expect(copiesOnPrimaries(final(siblings, copies))).toBe(want);
  });

  it("names the keys short of n copies", () => {
    const finals = [final("x", "a:x b:x c:x"), final("x", "a:x b:- c:x")];
    expect(keysShortOfCopies(finals, 3)).toEqual(["k a:x b:- c:x: 2/3"]);
  });
});
