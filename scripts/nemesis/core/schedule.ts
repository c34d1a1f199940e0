// The fault schedule drawn from a seed, shared by the live nemesis (scripts/nemesis/) and the
// deterministic simulation (scripts/sim/): which fault starts when, on which nodes, and when it
// heals (Jepsen's cycle: quiet, start, hold, stop). Partitions are grudges: for every node, the
// peers it drops (Jepsen's nemesis.clj: halves, one node, bridge, majorities ring). Some kinds
// only the simulation can apply (a one-way cut, duplication, reordering, a clock jump).
// Pure: the seeded generator is the only source of choices, so a seed names a schedule.

import { SeededRandom } from "../../../node/core/seeded-random.js";

/**
 * The faults a live cluster can be given; `delay` and `loss` shape one node's links at node
 * level (Admin.SetLinkFaults).
 */
export const LIVE_FAULT_KINDS = [
  "kill",
  "pause",
  "partition-halves",
  "partition-isolate",
  "partition-bridge",
  "partition-ring",
  "delay",
  "loss",
] as const;

/**
 * Every fault kind: the live ones, and those only the simulation applies — a one-way cut (one
 * node cannot send to some peers, who can still send to it), duplicated and reordered messages
 * on one node's links, and a jump of one node's wall clock.
 */
export const FAULT_KINDS = [
  ...LIVE_FAULT_KINDS,
  "partition-one-way",
  "duplicate",
  "reorder",
  "clock-jump",
] as const;

export type LiveFaultKind = (typeof LIVE_FAULT_KINDS)[number];
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A clock jump moves a node's wall clock by at least this much, either way... */
const CLOCK_JUMP_MS_MIN = 1_000;
/** ...and at most this much: past tombstone grace periods and request deadlines. */
const CLOCK_JUMP_MS_MAX = 120_000;

/** One scheduled fault. Times are ms since the workload started. */
export type ScheduledFault =
  | {
      readonly kind: "kill" | "pause" | "delay" | "loss" | "duplicate" | "reorder";
      readonly startMs: number;
      readonly endMs: number;
      readonly node: string;
    }
  | {
      readonly kind:
        | "partition-halves"
        | "partition-isolate"
        | "partition-bridge"
        | "partition-ring"
        | "partition-one-way";
      readonly startMs: number;
      readonly endMs: number;
      /**
       * node → the peers it drops. Symmetric, except for partition-one-way, where it names
       * only the direction cut: the node's messages to those peers are lost.
       */
      readonly grudges: ReadonlyMap<string, readonly string[]>;
      /** Who sees whom, e.g. `{n1,n3} | {n2,n4,n5}`. */
      readonly label: string;
    }
  | {
      readonly kind: "clock-jump";
      readonly startMs: number;
      readonly endMs: number;
      readonly node: string;
      /** How far the node's wall clock jumps at the start (it jumps back at the end). */
      readonly jumpMs: number;
    };

/** A fault a live cluster can take. */
export type LiveFault = ScheduledFault & { readonly kind: LiveFaultKind };

/** True when a live cluster can take `fault` (the simulation takes every kind). */
export function isLiveFault(fault: ScheduledFault): fault is LiveFault {
  return (LIVE_FAULT_KINDS as readonly string[]).includes(fault.kind);
}

/** What shapes a schedule. */
export interface ScheduleOptions {
  readonly seed: number;
  readonly nodes: readonly string[];
  readonly kinds: readonly FaultKind[];
  /** The workload's length; every fault heals before it ends. */
  readonly durationMs: number;
  /** One fault starts per interval (Jepsen: every 10 s). */
  readonly intervalMs: number;
  /** Share of the interval a fault holds; the rest is quiet (before) and recovery (after). */
  readonly holdShare?: number;
  /**
   * How many faults may hold at once (default 1: the live nemesis's one fault per interval).
   * Each lane runs its own cycle, offset by interval/lanes from the one before.
   */
  readonly lanes?: number;
}

/**
 * Draws the schedule: fault k starts at k·interval + 20% of an interval and holds for
 * holdShare (default 60%) of it; kinds are drawn from a shuffled bag, so within the first
 * `kinds.length` faults every kind occurs once. Faults that would not heal before the end are
 * dropped. With several lanes the cycles overlap; the faults come out ordered by start.
 */
export function drawSchedule(options: ScheduleOptions): ScheduledFault[] {
  return [...scheduleFaults(options)];
}

/**
 * The faults of {@link drawSchedule} one at a time, in start order, drawn as they are taken:
 * with `durationMs` Infinity it never ends, for runs whose length is not known in advance.
 */
export function* scheduleFaults(options: ScheduleOptions): Generator<ScheduledFault> {
  const { nodes, kinds, durationMs, intervalMs } = options;
  if (nodes.length < 2) throw new Error("a schedule needs at least two nodes");
  if (kinds.length === 0) throw new Error("a schedule needs at least one fault kind");
  if (!(intervalMs > 0)) throw new Error(`interval must be > 0 ms, got ${intervalMs}`);
  const random = new SeededRandom(options.seed);
  const lanes = options.lanes ?? 1;
  if (!(Number.isInteger(lanes) && lanes >= 1)) throw new Error(`lanes must be ≥ 1, got ${lanes}`);
  const holdMs = Math.round(intervalMs * (options.holdShare ?? 0.6));
  let bag: FaultKind[] = [];
  for (let k = 0; ; k++) {
    const cycleMs = k * intervalMs + Math.round(intervalMs * 0.2);
    if (cycleMs + holdMs > durationMs) return;
    // Lane offsets stay below one interval, so starts come out in order.
    for (let lane = 0; lane < lanes; lane++) {
      const startMs = cycleMs + Math.round((lane * intervalMs) / lanes);
      const endMs = startMs + holdMs;
      if (endMs > durationMs) return;
      if (bag.length === 0) bag = random.shuffle(kinds);
      const kind = bag.pop() as FaultKind;
      yield drawFault(kind, startMs, endMs, nodes, random);
    }
  }
}

/**
 * One fault of `kind` over `nodes`, its nodes drawn from `random`: the draw of every scheduled
 * fault, and of a fault retargeted at the members of the moment (a --membership run).
 */
export function drawFault(
  kind: FaultKind,
  startMs: number,
  endMs: number,
  nodes: readonly string[],
  random: SeededRandom,
): ScheduledFault {
  const shuffled = random.shuffle(nodes);
  const one = shuffled[0] as string;
  switch (kind) {
    case "kill":
    case "pause":
    case "delay":
    case "loss":
    case "duplicate":
    case "reorder":
      return { kind, startMs, endMs, node: one };
    case "clock-jump": {
      const size = CLOCK_JUMP_MS_MIN + random.int(CLOCK_JUMP_MS_MAX - CLOCK_JUMP_MS_MIN + 1);
      return { kind, startMs, endMs, node: one, jumpMs: random.chance(0.5) ? size : -size };
    }
    case "partition-one-way": {
      // The node cannot send to 1..n-1 peers; they can still send to it.
      const deaf = shuffled.slice(1, 2 + random.int(nodes.length - 1));
      const label = `${one} cannot send to {${[...deaf].sort().join(",")}}`;
      return { kind, startMs, endMs, grudges: new Map([[one, deaf]]), label };
    }
    case "partition-halves": {
      const half = Math.floor(nodes.length / 2);
      const groups = [shuffled.slice(0, half), shuffled.slice(half)];
      return { kind, startMs, endMs, grudges: groupGrudges(groups), label: groupsLabel(groups) };
    }
    case "partition-isolate": {
      const groups = [[one], shuffled.slice(1)];
      return { kind, startMs, endMs, grudges: groupGrudges(groups), label: groupsLabel(groups) };
    }
    case "partition-bridge": {
      const rest = shuffled.slice(1);
      const half = Math.floor(rest.length / 2);
      const label = `${groupsLabel([rest.slice(0, half), rest.slice(half)])}, bridged by ${one}`;
      return { kind, startMs, endMs, grudges: bridgeGrudges(shuffled), label };
    }
    case "partition-ring":
      return {
        kind,
        startMs,
        endMs,
        grudges: ringGrudges(shuffled),
        label: `ring ${shuffled.join("-")}-${one}, each sees its neighbours`,
      };
  }
}

/** Each group is cut off from every other group. */
export function groupGrudges(groups: readonly (readonly string[])[]): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const group of groups) {
    const others = groups.filter((other) => other !== group).flat();
    for (const node of group) result.set(node, [...others]);
  }
  return result;
}

/**
 * Two halves and one node (the first) that sees both; the halves do not see each other.
 * Jepsen's `bridge`.
 */
export function bridgeGrudges(nodes: readonly string[]): Map<string, string[]> {
  const [bridge, ...rest] = nodes;
  if (bridge === undefined || rest.length < 2) throw new Error("a bridge needs at least 3 nodes");
  const half = Math.floor(rest.length / 2);
  const result = groupGrudges([rest.slice(0, half), rest.slice(half)]);
  result.set(bridge, []);
  return result;
}

/**
 * Nodes on a ring (in the given order), each seeing itself and its nearest neighbours on both
 * sides, so that each sees a majority and no two see the same one (Jepsen's `majorities-ring`,
 * exact up to 5 nodes). Symmetric: distance on a ring is.
 */
export function ringGrudges(nodes: readonly string[]): Map<string, string[]> {
  const count = nodes.length;
  const majority = Math.floor(count / 2) + 1;
  const reach = Math.ceil((majority - 1) / 2);
  const result = new Map<string, string[]>();
  nodes.forEach((node, index) => {
    const dropped = nodes.filter((_, other) => {
      const apart = Math.abs(index - other);
      return Math.min(apart, count - apart) > reach;
    });
    result.set(node, dropped);
  });
  return result;
}

/** A one-line description of a fault, for the output and the report. */
export function describeFault(fault: ScheduledFault): string {
  if (fault.kind === "clock-jump") {
    const sign = fault.jumpMs >= 0 ? "+" : "";
    return `clock-jump ${fault.node} ${sign}${fault.jumpMs} ms`;
  }
  if ("node" in fault) {
    const verb = {
      kill: "kill -9",
      pause: "SIGSTOP",
      delay: "delay",
      loss: "loss",
      duplicate: "duplicate",
      reorder: "reorder",
    }[fault.kind];
    return `${verb} ${fault.node}`;
  }
  return `${fault.kind} ${fault.label}`;
}

function groupsLabel(groups: readonly (readonly string[])[]): string {
  return groups.map((group) => `{${[...group].sort().join(",")}}`).join(" | ");
}
