// How `dkv cluster show|plan|commit` print the cluster metadata and the plan of a commit. Pure:
// JSON objects in, lines out. The shapes are declared here, minimal, and read from the
// Membership service's JSON (node/core/layout.ts, node/membership/plan-report.ts) so that the CLI
// only displays and never depends on the layout code at run time.

import Table from "cli-table3";

/** One member of a layout, as the metadata JSON carries it. */
export interface MemberView {
  readonly node: string;
  readonly address: string;
  readonly state: string;
}

/** One staged change; `by` and `address` as the change kind has them. */
export interface StagedChangeView {
  readonly kind: string;
  readonly node: string;
  readonly by?: string;
  readonly address?: string;
}

/** The staged changes waiting for a commit. */
export interface StagedView {
  readonly basedOn: number;
  readonly revision: number;
  readonly changes: readonly StagedChangeView[];
}

/** The committed layout: its members, claim (owners) and, during a transition, the old claim. */
export interface LayoutView {
  readonly version: number;
  readonly partitionCount: number;
  readonly targetN: number;
  readonly members: readonly MemberView[];
  readonly owners: readonly string[];
  readonly previousOwners?: readonly string[];
}

/** What `Membership.Get` answers (MetadataReply.metadata_json). */
export interface MetadataView {
  readonly layout: LayoutView;
  readonly progress: {
    readonly version: number;
    readonly done: readonly number[];
    /** Leaving members that handed off every hint they held (absent: none yet). */
    readonly drained?: readonly string[];
  };
  readonly staged: StagedView;
}

/** A layout in a few fields, as the plan carries the current and the next one. */
export interface LayoutSummaryView {
  readonly version: number;
  readonly partitionCount: number;
  readonly members: readonly MemberView[];
  readonly inTransition: boolean;
}

/** The transition a commit starts (node/core/cluster-plan.ts, ClusterPlan). */
export interface ClusterPlanView {
  readonly moves: readonly {
    readonly partition: number;
    readonly source?: string;
    /** The new primaries that receive it, and the old ones that drop their copy after. */
    readonly gaining?: readonly string[];
    readonly losing?: readonly string[];
  }[];
  readonly transfers: readonly {
    readonly from: string;
    readonly to: string;
    readonly partitions: number;
    readonly keys: number;
    readonly bytes: number;
  }[];
  /** Absent without a throttle (JSON drops undefined). */
  readonly etaSeconds?: number;
  readonly warnings: readonly string[];
  readonly ownership: readonly {
    readonly node: string;
    readonly before: number;
    readonly after: number;
  }[];
}

/** What `Membership.Plan` answers (PlanReply.plan_json, node/membership/plan-report.ts). */
export interface PlanReportView {
  readonly basedOn: number;
  readonly revision: number;
  readonly staged: readonly StagedChangeView[];
  readonly current: LayoutSummaryView;
  readonly next: LayoutSummaryView;
  readonly plan: ClusterPlanView;
  readonly bytesPerSecondPerSender: number;
}

/** Reads MetadataReply.metadata_json; throws, naming the missing field, when it is not one. */
export function parseMetadataJson(text: string): MetadataView {
  const value = JSON.parse(text) as unknown;
  requireFields(value, "metadata", ["layout", "progress", "staged"]);
  requireFields(value.layout, "metadata.layout", ["version", "partitionCount", "targetN"]);
  requireArrays(value.layout, "metadata.layout", ["members", "owners"]);
  requireArrays(value.progress, "metadata.progress", ["done"]);
  requireArrays(value.staged, "metadata.staged", ["changes"]);
  return value as unknown as MetadataView;
}

/** Reads PlanReply.plan_json; throws, naming the missing field, when it is not one. */
export function parsePlanJson(text: string): PlanReportView {
  const value = JSON.parse(text) as unknown;
  requireFields(value, "plan", ["basedOn", "revision", "current", "next", "plan"]);
  requireArrays(value, "plan", ["staged"]);
  requireArrays(value.current, "plan.current", ["members"]);
  requireArrays(value.next, "plan.next", ["members"]);
  requireArrays(value.plan, "plan.plan", ["moves", "transfers", "warnings", "ownership"]);
  return value as unknown as PlanReportView;
}

type Fields<K extends string> = Record<K, unknown>;

function requireFields<K extends string>(
  value: unknown,
  where: string,
  keys: readonly K[],
): asserts value is Fields<K> {
  if (typeof value !== "object" || value === null) {
    throw new Error(`unreadable reply from the node: ${where} is not an object`);
  }
  for (const key of keys) {
    if (!(key in value)) throw new Error(`unreadable reply from the node: no ${where}.${key}`);
  }
}

function requireArrays<K extends string>(value: unknown, where: string, keys: readonly K[]): void {
  requireFields(value, where, keys);
  for (const key of keys) {
    if (!Array.isArray(value[key])) {
      throw new Error(`unreadable reply from the node: ${where}.${key} is not a list`);
    }
  }
}

/** One change in words: `join d at 10.0.0.4:7000`, `leave a`, `replace b by e at …`. */
export function changeText(change: StagedChangeView): string {
  switch (change.kind) {
    case "join":
      return `join ${change.node} at ${change.address ?? "?"}`;
    case "replace":
      return `replace ${change.node} by ${change.by ?? "?"} at ${change.address ?? "?"}`;
    default:
      return `${change.kind} ${change.node}`;
  }
}

/** The staged changes, numbered, under a heading that names their base; one line when none. */
export function stagedLines(staged: StagedView): string[] {
  if (staged.changes.length === 0) return ["no staged changes"];
  return [
    `staged changes (on layout version ${staged.basedOn}, revision ${staged.revision}):`,
    ...staged.changes.map((change, index) => `  ${index + 1}. ${changeText(change)}`),
  ];
}

/** `dkv cluster show`: the layout, its members, the transition under way and the staged changes. */
export function metadataLines(metadata: MetadataView): string[] {
  const { layout, progress, staged } = metadata;
  const lines = [
    `layout version ${layout.version}: ${layout.partitionCount} partitions (Q), target n ${layout.targetN}`,
  ];
  const table = newTable(["node", "address", "state", "partitions"]);
  for (const member of layout.members) {
    const owned = layout.owners.filter((owner) => owner === member.node).length;
    table.push([member.node, member.address, member.state, String(owned)]);
  }
  lines.push(table.toString());
  if (layout.previousOwners === undefined) lines.push("no transition under way");
  else {
    // A progress of another version is stale: the node resets it when it merges (design notes).
    const done = progress.version === layout.version ? progress.done : [];
    const moving = new Set([
      ...movingPartitions(layout.previousOwners, layout.owners, layout.targetN),
      ...done,
    ]);
    lines.push(
      `transition from version ${layout.version - 1} under way: ${done.length} of ` +
        `${moving.size} moving partitions done`,
    );
    // A leaving node hands off the copies it keeps for down primaries before it is removed.
    const drained = progress.version === layout.version ? (progress.drained ?? []) : [];
    const leaving = layout.members.filter((member) => member.state === "leaving");
    const holding = leaving.map((member) => member.node).filter((node) => !drained.includes(node));
    if (holding.length > 0) lines.push(`hints still to hand off on: ${holding.join(", ")}`);
  }
  lines.push(...stagedLines(staged));
  if (staged.changes.length > 0) lines.push("see what committing them does: dkv cluster plan");
  return lines;
}

/**
 * The partitions whose primaries for n differ, as sets, between two claims: the first n distinct
 * owners met walking clockwise from the partition (node/core/cluster-plan.ts, primarySet). The
 * node's walk also adds members that own nothing, which exist only when members outnumber
 * partitions; this count leaves them out, so it is exact whenever members ≤ Q.
 */
export function movingPartitions(
  before: readonly string[],
  after: readonly string[],
  n: number,
): number[] {
  const moving: number[] = [];
  for (let partition = 0; partition < after.length; partition++) {
    const old = primaries(before, partition, n);
    const next = primaries(after, partition, n);
    if (old.size !== next.size || [...old].some((node) => !next.has(node))) moving.push(partition);
  }
  return moving;
}

function primaries(owners: readonly string[], partition: number, n: number): Set<string> {
  const seen = new Set<string>();
  for (let step = 0; step < owners.length && seen.size < n; step++) {
    seen.add(owners[(partition + step) % owners.length]!);
  }
  return seen;
}

/** `dkv cluster plan`: the changes, the versions, ownership and transfers, ETA and warnings. */
export function planLines(report: PlanReportView): string[] {
  const { plan, current, next } = report;
  const lines = stagedLines({
    basedOn: report.basedOn,
    revision: report.revision,
    changes: report.staged,
  });
  lines.push(
    `committing makes layout version ${current.version} → ${next.version} ` +
      `(${next.partitionCount} partitions)`,
  );
  const states = new Map(current.members.map((member) => [member.node, member.state]));
  const nextStates = new Map(next.members.map((member) => [member.node, member.state]));
  const ownership = newTable(["node", "state", "partitions before", "after", "change"]);
  for (const row of plan.ownership) {
    const change = row.after - row.before;
    ownership.push([
      row.node,
      stateChange(states.get(row.node), nextStates.get(row.node)),
      String(row.before),
      String(row.after),
      change > 0 ? `+${change}` : String(change),
    ]);
  }
  lines.push("ownership:", ownership.toString());
  if (plan.transfers.length === 0) lines.push("transfers: none, no data moves");
  else {
    const transfers = newTable(["from", "to", "partitions", "keys", "bytes"]);
    for (const transfer of plan.transfers) {
      transfers.push([
        transfer.from,
        transfer.to,
        String(transfer.partitions),
        String(transfer.keys),
        formatBytes(transfer.bytes),
      ]);
    }
    lines.push("transfers (keys and bytes estimated from one node's store):", transfers.toString());
  }
  lines.push(...moveLines(plan.moves));
  const bytes = plan.transfers.reduce((sum, transfer) => sum + transfer.bytes, 0);
  lines.push(`${movesText(plan.moves.length)}, ${formatBytes(bytes)} to send in all`);
  lines.push(`ETA: ${etaText(plan.etaSeconds, report.bytesPerSecondPerSender)}`);
  if (plan.warnings.length > 0) {
    lines.push(
      `WARNINGS (${plan.warnings.length}):`,
      ...plan.warnings.map((warning) => `  ! ${warning}`),
    );
  }
  lines.push(
    "commit with: dkv cluster commit (refused if the staged changes change before it)",
    `(from elsewhere, this plan by its numbers: dkv cluster commit ` +
      `--based-on ${report.basedOn} --revision ${report.revision})`,
  );
  return lines;
}

function stateChange(before: string | undefined, after: string | undefined): string {
  if (before === undefined) return after ?? "-";
  if (after === undefined || after === before) return before;
  return `${before} → ${after}`;
}

/** The ETA in words; the busiest sender sets it, at the throttle of every sender. */
export function etaText(etaSeconds: number | undefined, bytesPerSecondPerSender: number): string {
  if (!(bytesPerSecondPerSender > 0)) return "unknown, no throttle set";
  if (etaSeconds === undefined) return "unknown, no size estimate";
  return `${formatDuration(etaSeconds)} at ${formatBytes(bytesPerSecondPerSender)}/s per sender`;
}

/** Whole seconds rounded up, then minutes and hours: `0s`, `45s`, `2m 5s`, `3h 20m`. */
export function formatDuration(seconds: number): string {
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${whole % 60}s`;
  return `${Math.floor(whole / 3600)}h ${Math.floor((whole % 3600) / 60)}m`;
}

const byteUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

/** Bytes in binary units with one decimal: `512 B`, `1.5 KiB`, `3.0 GiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < byteUnits.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${byteUnits[unit]}`;
}

/** The one line `dkv cluster commit` prints after committing what `plan` showed. */
export function commitSummary(report: PlanReportView, after: MetadataView): string {
  const changes = report.staged.map(changeText).join(", ");
  const warnings = report.plan.warnings.length;
  return (
    `committed ${changes} → layout version ${after.layout.version}: ` +
    movesText(report.plan.moves.length) +
    (warnings > 0 ? `, ${warnings} ${warnings === 1 ? "warning" : "warnings"}` : "")
  );
}

/**
 * Every partition that moves, grouped by where it goes: `a → e (c drops its copy): 1, 4`, the
 * sending old primary first ("no source up" when none is), sorted.
 */
export function moveLines(moves: ClusterPlanView["moves"]): string[] {
  if (moves.length === 0) return [];
  const groups = new Map<string, number[]>();
  for (const move of moves) {
    const losing = move.losing ?? [];
    const drops =
      losing.length === 0
        ? ""
        : ` (${losing.join(", ")} ${losing.length === 1 ? "drops its copy" : "drop their copies"})`;
    const route = `${move.source ?? "no source up"} → ${(move.gaining ?? []).join(", ") || "-"}${drops}`;
    groups.set(route, [...(groups.get(route) ?? []), move.partition]);
  }
  return [
    "moves (from → to: partitions):",
    ...[...groups]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([route, partitions]) => `  ${route}: ${partitions.join(", ")}`),
  ];
}

function movesText(count: number): string {
  return `${count} ${count === 1 ? "partition moves" : "partitions move"}`;
}

function newTable(head: string[]): Table.Table {
  return new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
}
