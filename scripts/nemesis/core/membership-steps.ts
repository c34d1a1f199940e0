// The membership changes of a `--membership` nemesis run (issue 14's live test), as data: grow by
// two, shrink by two, replace one node, and force-remove a killed one; which members a step acts
// on; and the checks a step must pass: every member follows one settled layout with the expected
// owners, and in the end every key has n copies on its primaries. Pure: the seeded generator is
// the only source of choices.

import type { SeededRandom } from "../../../node/core/seeded-random.js";
import { layoutDigest } from "../../../node/core/layout-codec.js";
import { isOwning, type Layout } from "../../../node/core/layout.js";
import type { FinalKey } from "./history.js";

/** One committed change of the membership, as an operator would make it with `dkv cluster`. */
export type MembershipStep =
  /** New nodes start with `dkv serve --join`; their joins are committed together. */
  | { readonly kind: "join"; readonly nodes: readonly string[] }
  /** `count` members leave in one commit: they hand their partitions over, then are removed. */
  | { readonly kind: "leave"; readonly count: number }
  /** A new node (started with --join) takes one member's place (`dkv cluster replace`). */
  | { readonly kind: "replace"; readonly by: string }
  /** One member is killed -9, then force-removed: its copies are rebuilt from the others. */
  | { readonly kind: "force-remove" };

/**
 * The steps for a cluster of `initial` members with replication factor n: join two, leave two,
 * replace one, then force-remove one killed member — after one more join when the cluster holds
 * only n, so that n members still own partitions and every key can get its n copies back. New
 * nodes are named n<k>, counting on from the initial count. Throws when initial has fewer than n
 * members or repeats one.
 */
export function planMembershipSteps(initial: readonly string[], n: number): MembershipStep[] {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`n must be ≥ 1, got ${n}`);
  if (new Set(initial).size !== initial.length) throw new Error("initial members repeat");
  if (initial.length < n) {
    throw new Error(`membership steps need at least n=${n} members, got ${initial.length}`);
  }
  const taken = new Set(initial);
  let next = initial.length;
  const fresh = (): string => {
    for (next += 1; taken.has(`n${next}`); next += 1);
    taken.add(`n${next}`);
    return `n${next}`;
  };
  const steps: MembershipStep[] = [
    { kind: "join", nodes: [fresh(), fresh()] },
    { kind: "leave", count: 2 },
    { kind: "replace", by: fresh() },
  ];
  if (initial.length - 1 < n) steps.push({ kind: "join", nodes: [fresh()] });
  steps.push({ kind: "force-remove" });
  return steps;
}

/** How many members own partitions after the step, given how many did before. */
export function membersAfter(step: MembershipStep, before: number): number {
  switch (step.kind) {
    case "join":
      return before + step.nodes.length;
    case "leave":
      return before - step.count;
    case "replace":
      return before;
    case "force-remove":
      return before - 1;
  }
}

/** How many existing members the step acts on (leave, replace or force-remove them). */
export function targetCount(step: MembershipStep): number {
  if (step.kind === "join") return 0;
  return step.kind === "leave" ? step.count : 1;
}

/**
 * `count` members drawn from `members` less `avoid` (nodes another lane is acting on, such as a
 * node the fault lane has killed), sorted; undefined when too few are left.
 */
export function pickTargets(
  members: readonly string[],
  avoid: ReadonlySet<string>,
  count: number,
  random: SeededRandom,
): string[] | undefined {
  const candidates = [...members].filter((node) => !avoid.has(node)).sort();
  if (candidates.length < count) return undefined;
  return random.shuffle(candidates).slice(0, count).sort();
}

/**
 * A one-line description of a step, e.g. `grow 3 → 5: join n4, n5`; `targets` are the members
 * it acts on, [] before they are drawn.
 */
export function describeStep(
  step: MembershipStep,
  before: number,
  targets: readonly string[],
): string {
  const sizes = `${before} → ${membersAfter(step, before)}`;
  const named = (count: number): string =>
    targets.length > 0 ? targets.join(", ") : count === 1 ? "a member" : `${count} members`;
  switch (step.kind) {
    case "join":
      return `grow ${sizes}: join ${step.nodes.join(", ")}`;
    case "leave":
      return `shrink ${sizes}: leave ${named(step.count)}`;
    case "replace":
      return `replace ${named(1)} by ${step.by}`;
    case "force-remove":
      return `kill -9 and force-remove ${named(1)} (${sizes})`;
  }
}

/** Whether the members agree on one settled layout, or why not yet. */
export type Agreement =
  | { readonly settled: true; readonly version: number }
  | { readonly settled: false; readonly why: string };

/**
 * Settled when every member answered, none is still in a transition, all hold the same layout
 * (version and digest), and its owning members (joining or valid) are exactly `owning`.
 * `layouts` maps each member to the layout it reported, undefined when it did not answer.
 */
export function layoutAgreement(
  layouts: ReadonlyMap<string, Layout | undefined>,
  owning: readonly string[],
): Agreement {
  if (layouts.size === 0) return { settled: false, why: "no member to ask" };
  const digests = new Map<string, string[]>();
  let version = 0;
  for (const [node, layout] of layouts) {
    if (layout === undefined) return { settled: false, why: `${node} did not answer` };
    if (layout.previousOwners !== undefined) {
      return { settled: false, why: `${node} still moves data (layout v${layout.version})` };
    }
    const key = `v${layout.version} ${layoutDigest(layout)}`;
    digests.set(key, [...(digests.get(key) ?? []), node]);
    version = layout.version;
  }
  if (digests.size > 1) {
    const seen = [...digests].map(([key, nodes]) => `${nodes.join(",")} at ${key.split(" ")[0]}`);
    return { settled: false, why: `members differ: ${seen.join("; ")}` };
  }
  const layout = [...layouts.values()][0] as Layout;
  const owners = layout.members
    .filter((member) => isOwning(member.state))
    .map((member) => member.node as string)
    .sort();
  const expected = [...owning].sort();
  if (owners.join(",") !== expected.join(",")) {
    return {
      settled: false,
      why: `v${version} has owning members ${owners.join(",")}, expected ${expected.join(",")}`,
    };
  }
  return { settled: true, version };
}

/** How many of the key's primaries hold a copy with every version the final r=all read saw. */
export function copiesOnPrimaries(final: FinalKey): number {
  const vtags = final.siblings.map((sibling) => sibling.vtag);
  return final.copies.filter(
    (copy) =>
      final.primaries.includes(copy.node) &&
      copy.found &&
      vtags.every((vtag) => copy.siblings.some((sibling) => sibling.vtag === vtag)),
  ).length;
}

/** Keys with fewer than n full copies on their primaries, as `key: copies/n`. */
export function keysShortOfCopies(finals: readonly FinalKey[], n: number): string[] {
  return finals
    .map((final) => ({ key: final.key, copies: copiesOnPrimaries(final) }))
    .filter(({ copies }) => copies < n)
    .map(({ key, copies }) => `${key}: ${copies}/${n}`);
}
