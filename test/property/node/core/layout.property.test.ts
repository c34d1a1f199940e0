// Property tests of the cluster metadata core (node/core/layout*.ts) over metadata from random
// histories: three nodes start from one cluster, stage, clear, commit (concurrently, different
// changes), mark transfers, retire, change users and grants, and gossip. Checked: the merge laws, the codec round trip,
// the primaries and moving partitions of every ring against preferenceList, and the bounds on
// what a join moves and on the balance after a leave and a join of the same node.

import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";

import { preferenceList } from "../../../../coordinator/core/preference-list.js";
import {
  type ClusterMetadata,
  type Layout,
  type StagedChange,
  LayoutError,
  initialMetadata,
  isOwning,
  movingPartitions,
  ringsOf,
} from "../../../../node/core/layout.js";
import {
  leavingMembers,
  markDrained,
  markTransferred,
  retireIfComplete,
} from "../../../../node/core/layout-progress.js";
import { finished } from "../../../unit/node/core/layout-fixtures.js";
import { decodeMetadata, encodeMetadata } from "../../../../node/core/layout-codec.js";
import {
  clearStaged,
  commitStaged,
  mergeMetadata,
  stageChange,
} from "../../../../node/core/layout-merge.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { claimViolations, type Ring } from "../../../../node/core/ring.js";
import { changeAccess } from "./access-history.js";

const RUNS = 100;
const REPLICAS = 3;
const POOL = ["a", "b", "c", "d", "e", "f", "g", "h"].map((letter) => nodeId(letter));

/** One step of a history: `replica` does `action`; x and y pick its arguments. */
interface Step {
  readonly replica: number;
  readonly action: "stage" | "commit" | "mark" | "retire" | "clear" | "gossip" | "access";
  readonly x: number;
  readonly y: number;
}

const step: fc.Arbitrary<Step> = fc.record({
  replica: fc.nat(REPLICAS - 1),
  // Repeats weight the actions: staging and gossip are the most common.
  action: fc.constantFrom(
    ...(["stage", "stage", "stage", "commit", "commit", "mark", "mark", "retire"] as const),
    ...(["retire", "clear", "gossip", "gossip", "gossip", "access", "access"] as const),
  ),
  x: fc.nat(),
  y: fc.nat(),
});

interface History {
  readonly size: number;
  readonly partitionCount: number;
  readonly targetN: number;
  readonly steps: readonly Step[];
}

const history: fc.Arbitrary<History> = fc.record({
  size: fc.integer({ min: 1, max: 5 }),
  // Q = 1 or 2 gives rings with fewer owners than targetN: primaries then include non-owners.
  partitionCount: fc.constantFrom(1, 2, 4, 8, 16, 32),
  targetN: fc.integer({ min: 1, max: 3 }),
  steps: fc.array(step, { maxLength: 60, size: "max" }),
});

function start(size: number, partitionCount: number, targetN: number): ClusterMetadata {
  const members = POOL.slice(0, size).map((node) => ({ node, address: `${node}.test:7070` }));
  return initialMetadata({ members, partitionCount, targetN });
}

/** A change that is usually valid on `layout`: joins of absent nodes, leaves of present ones. */
function change(layout: Layout, x: number, y: number): StagedChange {
  const present = owningMembers(layout);
  const absent = POOL.filter((node) => !present.includes(node));
  const [member, other] = [present[y % present.length]!, absent[y % absent.length] ?? POOL[0]!];
  const kind = (["join", "leave", "replace", "force-remove", "join"] as const)[x % 5]!;
  // Addresses vary, so that concurrent joins of one node can still make different layouts.
  const address = `${other}.test:${7000 + (Math.floor(x / 5) % 3)}`;
  if (kind === "join") return { kind, node: other, address };
  if (kind === "replace") return { kind, node: member, by: other, address };
  return { kind, node: member };
}

/** Applies one step; a refusal (LayoutError) leaves the replica as it was. */
function apply(replicas: ClusterMetadata[], { replica, action, x, y }: Step): void {
  const metadata = replicas[replica]!;
  try {
    if (action === "stage")
      replicas[replica] = stageChange(metadata, change(metadata.layout, x, y));
    if (action === "commit") replicas[replica] = commitStaged(metadata);
    if (action === "retire") replicas[replica] = retireIfComplete(metadata);
    if (action === "clear") replicas[replica] = clearStaged(metadata);
    if (action === "gossip") replicas[replica] = mergeMetadata(metadata, replicas[x % REPLICAS]!);
    if (action === "access") {
      replicas[replica] = { ...metadata, access: changeAccess(metadata.access, x, y) };
    }
    if (action === "mark") {
      // Some moving partitions, or all of them one time in three; and a leaving member drained.
      const moving = movingPartitions(metadata.layout);
      const some = moving.filter((_, i) => y % 3 === 0 || ((x >> (i % 30)) & 1) === 1);
      const leaving = leavingMembers(metadata.layout);
      const marked = markTransferred(metadata, some);
      const drained =
        leaving.length === 0 ? marked : markDrained(marked, leaving[x % leaving.length]!);
      replicas[replica] = y % 2 === 0 ? drained : marked;
    }
  } catch (error) {
    if (!(error instanceof LayoutError)) throw error;
  }
}

/** Every state the replicas went through, the start included, each once. */
function run(h: History): ClusterMetadata[] {
  const replicas = Array.from({ length: REPLICAS }, () =>
    start(h.size, h.partitionCount, h.targetN),
  );
  const seen = [replicas[0]!];
  for (const one of h.steps) {
    apply(replicas, one);
    if (replicas[one.replica] !== seen.at(-1)) seen.push(replicas[one.replica]!);
  }
  return seen;
}

function bytes(metadata: ClusterMetadata): string {
  return new TextDecoder().decode(encodeMetadata(metadata));
}

function pick(seen: ClusterMetadata[], index: number): ClusterMetadata {
  return seen[index % seen.length]!;
}

function primaries(ring: Ring, partition: number, n: number): NodeId[] {
  return [...preferenceList(ring, new Set(), partition, n).primaries].sort();
}

function owningMembers(layout: Layout): NodeId[] {
  return layout.members.filter((member) => isOwning(member.state)).map((member) => member.node);
}

function expectBalanced(layout: Layout): void {
  const owning = owningMembers(layout);
  const q = layout.partitionCount;
  for (const node of owning) {
    const count = layout.owners.filter((owner) => owner === node).length;
    expect([Math.floor(q / owning.length), Math.ceil(q / owning.length)]).toContain(count);
  }
  expect(layout.owners.every((owner) => owning.includes(owner))).toBe(true);
}

const indices = fc.tuple(fc.nat(), fc.nat(), fc.nat());

test.prop([history, indices], { numRuns: RUNS })(
  "mergeMetadata is commutative, associative and idempotent (as canonical bytes)",
  (h, [i, j, k]) => {
    const seen = run(h);
    const [a, b, c] = [pick(seen, i), pick(seen, j), pick(seen, k)];
    expect(bytes(mergeMetadata(a, b))).toBe(bytes(mergeMetadata(b, a)));
    expect(bytes(mergeMetadata(mergeMetadata(a, b), c))).toBe(
      bytes(mergeMetadata(a, mergeMetadata(b, c))),
    );
    expect(bytes(mergeMetadata(a, a))).toBe(bytes(a));
  },
);

test.prop([history], { numRuns: RUNS })(
  "gossip converges: replicas that merged everything hold the same bytes",
  (h) => {
    const seen = run(h);
    const all = seen.reduce(mergeMetadata);
    const reversed = [...seen].reverse().reduce(mergeMetadata);
    expect(bytes(all)).toBe(bytes(reversed));
    for (const state of seen) expect(bytes(mergeMetadata(state, all))).toBe(bytes(all));
  },
);

test.prop([history], { numRuns: RUNS })(
  "decodeMetadata(encodeMetadata(m)) equals m, and re-encodes to the same bytes",
  (h) => {
    for (const metadata of run(h)) {
      const encoded = encodeMetadata(metadata);
      const decoded = decodeMetadata(encoded);
      expect(decoded).toEqual(metadata);
      // Compared as text: toEqual on bytes is slow.
      expect(bytes(decoded)).toBe(new TextDecoder().decode(encoded));
    }
  },
);

test.prop([history, fc.integer({ min: 1, max: 5 })], { numRuns: RUNS })(
  "every partition has min(n, owning members) distinct primaries; moving partitions are " +
    "those whose primaries change",
  (h, n) => {
    for (const { layout } of run(h)) {
      const { current, previous } = ringsOf(layout);
      const owning = owningMembers(layout);
      expect(current.nodes).toEqual([...owning].sort());
      for (const size of [n, layout.targetN]) {
        for (let p = 0; p < layout.partitionCount; p++) {
          expect(new Set(primaries(current, p, size)).size).toBe(Math.min(size, owning.length));
        }
      }
      const changed = (p: number): boolean =>
        primaries(previous!, p, layout.targetN).join() !==
        primaries(current, p, layout.targetN).join();
      const want =
        previous === undefined ? [] : layout.owners.flatMap((_, p) => (changed(p) ? [p] : []));
      expect(movingPartitions(layout)).toEqual(want);
    }
  },
);

test.prop([history], { numRuns: RUNS })(
  "commitStaged starts a transition exactly when some partition's primaries change",
  (h) => {
    for (const metadata of run(h)) {
      let next: ClusterMetadata;
      try {
        next = commitStaged(metadata);
      } catch (error) {
        if (error instanceof LayoutError) continue;
        throw error;
      }
      // The oracle: the rings of the two layouts, through preferenceList.
      // Mid-transition (a force-remove), data still moves from the transition's old owners.
      const rings = ringsOf(metadata.layout);
      const [before, after] = [rings.previous ?? rings.current, ringsOf(next.layout).current];
      const moves = next.layout.owners.some(
        (_, p) =>
          primaries(before!, p, h.targetN).join() !== primaries(after!, p, h.targetN).join(),
      );
      expect(next.layout.previousOwners !== undefined).toBe(moves);
      const source = metadata.layout.previousOwners ?? metadata.layout.owners;
      expect(next.layout.previousOwners ?? source).toEqual(source);
    }
  },
);

test.prop(
  [
    fc.integer({ min: 1, max: 6 }),
    fc.constantFrom(8, 16, 32, 64, 128),
    fc.integer({ min: 1, max: 3 }),
    fc.boolean(),
  ],
  { numRuns: RUNS },
)(
  "a join into a ring without violations moves at most ceil(Q/S)+n partitions, and the joiner " +
    "gets its share",
  (size, partitionCount, targetN, afterLeave) => {
    // The ring is fresh, or what a leave of one more member left behind.
    let metadata = start(size + (afterLeave ? 1 : 0), partitionCount, targetN);
    if (afterLeave) metadata = completed(metadata, { kind: "leave", node: POOL[size]! });
    const before = metadata.layout;
    const ring = ringsOf(before).current;
    fc.pre(claimViolations(ring, targetN).length === 0);
    const joiner = POOL[7]!;
    const { layout } = commitStaged(stageChange(metadata, join(joiner)));
    const share = Math.ceil(partitionCount / (size + 1));
    const moved = layout.owners.filter((owner, p) => before.owners[p] !== owner);
    expect(moved.length).toBeLessThanOrEqual(share + targetN);
    expect(layout.owners.filter((owner) => owner === joiner).length).toBeLessThanOrEqual(share);
    expectBalanced(layout);
  },
);

test.prop(
  [
    fc.integer({ min: 2, max: 6 }),
    fc.constantFrom(4, 8, 16, 32, 64),
    fc.integer({ min: 1, max: 3 }),
    fc.nat(),
  ],
  { numRuns: RUNS },
)(
  "a leave then a join of the same node gives a balanced ring at every step",
  (size, partitionCount, targetN, pickLeaver) => {
    const leaver = POOL[pickLeaver % size]!;
    const left = completed(start(size, partitionCount, targetN), { kind: "leave", node: leaver });
    expect(left.layout.members.find((member) => member.node === leaver)?.state).toBe("removed");
    expectBalanced(left.layout);
    const joining = commitStaged(stageChange(left, join(leaver)));
    expectBalanced(joining.layout);
    const back = finished(joining);
    expect(back.layout.previousOwners).toBeUndefined();
    expect(owningMembers(back.layout)).toHaveLength(size);
    expectBalanced(back.layout);
  },
);

function join(node: NodeId): StagedChange {
  return { kind: "join", node, address: `${node}.test:7070` };
}

/** Commits `change`, marks every moving partition transferred and every leaver drained, retires. */
function completed(metadata: ClusterMetadata, change: StagedChange): ClusterMetadata {
  return finished(commitStaged(stageChange(metadata, change)));
}
