// Goal: `dkv cluster show` and `dkv cluster plan` print what an operator decides on: members with
// the partitions each owns, transition progress, staged changes, ownership and transfers per
// node, bytes in binary units, the ETA or why there is none, and every warning.
// Method: hand-built metadata and plan objects as the Membership service sends them as JSON;
// table rows are found by their first cell and compared cell by cell.

import { describe, expect, it } from "vitest";
import {
  commitSummary,
  etaText,
  formatBytes,
  formatDuration,
  metadataLines,
  movingPartitions,
  parseMetadataJson,
  parsePlanJson,
  planLines,
  type MetadataView,
  type PlanReportView,
} from "../../../cli/membership-output.js";

/** The cells of the table row whose first cell is `first`, trimmed; fails when there is none. */
function row(lines: readonly string[], first: string): string[] {
  const rows = lines
    .flatMap((line) => line.split("\n"))
    .map((line) =>
      line
        .split("│")
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
    .filter((cells) => cells[0] === first);
  expect(rows, `one row starting with ${first}`).toHaveLength(1);
  return rows[0]!;
}

function text(lines: readonly string[]): string {
  return lines.join("\n");
}

const members = [
  { node: "a", address: "10.0.0.1:7000", state: "valid" },
  { node: "b", address: "10.0.0.2:7000", state: "valid" },
  { node: "c", address: "10.0.0.3:7000", state: "leaving" },
  { node: "d", address: "10.0.0.4:7000", state: "joining" },
];

function metadata(overrides: Partial<MetadataView> = {}): MetadataView {
  return {
    layout: {
      version: 3,
      partitionCount: 8,
      targetN: 2,
      members,
      owners: ["a", "b", "d", "a", "b", "d", "a", "b"],
    },
    progress: { version: 3, done: [] },
    staged: { basedOn: 3, revision: 0, changes: [] },
    ...overrides,
  };
}

describe("metadataLines", () => {
  it("lists every member with its address, state and the partitions it owns", () => {
    const lines = metadataLines(metadata());
    expect(lines[0]).toBe("layout version 3: 8 partitions (Q), target n 2");
    // prettier-ignore
    const expected = [
      ["a", "10.0.0.1:7000", "valid",   "3"],
      ["b", "10.0.0.2:7000", "valid",   "3"],
      ["c", "10.0.0.3:7000", "leaving", "0"],
      ["d", "10.0.0.4:7000", "joining", "2"],
    ];
    for (const cells of expected) expect(row(lines, cells[0]!)).toEqual(cells);
    expect(lines).toContain("no transition under way");
    expect(lines).toContain("no staged changes");
    expect(text(lines)).not.toContain("dkv cluster plan");
  });

  it("counts done partitions against the partitions whose primaries move", () => {
    // c owned 2, 5 and 7 before; with n = 2 the primaries of 1, 2, 4, 5, 6 and 7 change.
    const layout = {
      ...metadata().layout,
      previousOwners: ["a", "b", "c", "a", "b", "c", "a", "c"],
    };
    const lines = metadataLines(metadata({ layout, progress: { version: 3, done: [1, 2, 4] } }));
    expect(lines).toContain("transition from version 2 under way: 3 of 6 moving partitions done");
    // c is leaving and has not handed off its hints yet; once it has, the line goes.
    expect(lines).toContain("hints still to hand off on: c");
    const drained = { version: 3, done: [1, 2, 4], drained: ["c"] };
    expect(text(metadataLines(metadata({ layout, progress: drained })))).not.toContain("hints");
  });

  it("ignores the progress of another layout version", () => {
    const layout = {
      ...metadata().layout,
      previousOwners: ["a", "b", "c", "a", "b", "c", "a", "c"],
    };
    const lines = metadataLines(metadata({ layout, progress: { version: 2, done: [1, 2] } }));
    expect(lines).toContain("transition from version 2 under way: 0 of 6 moving partitions done");
  });

  it("numbers the staged changes in order and names their base", () => {
    const staged = {
      basedOn: 3,
      revision: 4,
      changes: [
        { kind: "join", node: "e", address: "10.0.0.5:7000" },
        { kind: "leave", node: "a" },
        { kind: "replace", node: "b", by: "f", address: "10.0.0.6:7000" },
        { kind: "force-remove", node: "c" },
      ],
    };
    const lines = metadataLines(metadata({ staged }));
    const at = lines.indexOf("staged changes (on layout version 3, revision 4):");
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 6)).toEqual([
      "  1. join e at 10.0.0.5:7000",
      "  2. leave a",
      "  3. replace b by f at 10.0.0.6:7000",
      "  4. force-remove c",
      "see what committing them does: dkv cluster plan",
    ]);
  });
});

describe("movingPartitions", () => {
  it("is the partitions whose first n distinct owners clockwise differ as sets", () => {
    // prettier-ignore
    const rows: readonly (readonly [string, string, number, number[]])[] = [
      // before      after        n  moving
      ["abcabcab",  "abcabcab",   3, []],
      ["abab",      "abcb",       1, [2]],
      ["abab",      "abcb",       2, [1, 2]],
      ["aabc",      "abbc",       2, [1]],      // the walk skips repeats: 0 is {a,b} in both
      ["ab",        "ba",         2, []],       // same sets, other order
      ["aaaa",      "aaab",       2, [0, 1, 2, 3]], // too few owners: the set is what exists
    ];
    for (const [before, after, n, moving] of rows) {
      expect(movingPartitions([...before], [...after], n), `${before} → ${after}`).toEqual(moving);
    }
  });
});

function report(overrides: Partial<PlanReportView["plan"]> = {}, throttle = 0): PlanReportView {
  return {
    basedOn: 3,
    revision: 2,
    staged: [
      { kind: "join", node: "e", address: "10.0.0.5:7000" },
      { kind: "leave", node: "c" },
    ],
    current: { version: 3, partitionCount: 8, members, inTransition: false },
    next: {
      version: 4,
      partitionCount: 8,
      members: [
        ...members.filter((member) => member.node !== "c"),
        { node: "c", address: "10.0.0.3:7000", state: "removed" },
        { node: "e", address: "10.0.0.5:7000", state: "joining" },
      ],
      inTransition: true,
    },
    plan: {
      moves: [
        { partition: 1, source: "a", gaining: ["e"], losing: ["c"] },
        { partition: 2, source: "b", gaining: ["e"], losing: ["c"] },
        { partition: 4, source: "a", gaining: ["e"], losing: ["c"] },
        { partition: 6, gaining: ["e"], losing: ["c", "d"] },
      ],
      transfers: [
        { from: "a", to: "e", partitions: 2, keys: 1200, bytes: 1536 },
        { from: "b", to: "e", partitions: 1, keys: 40, bytes: 3 * 1024 ** 3 },
      ],
      warnings: [],
      ownership: [
        { node: "a", before: 3, after: 2 },
        { node: "c", before: 2, after: 0 },
        { node: "e", before: 0, after: 2 },
      ],
      ...overrides,
    },
    bytesPerSecondPerSender: throttle,
  };
}

describe("planLines", () => {
  it("shows the staged changes, the versions and ownership before and after per node", () => {
    const lines = planLines(report());
    expect(lines.slice(0, 3)).toEqual([
      "staged changes (on layout version 3, revision 2):",
      "  1. join e at 10.0.0.5:7000",
      "  2. leave c",
    ]);
    expect(lines).toContain("committing makes layout version 3 → 4 (8 partitions)");
    const ownership = lines.slice(
      0,
      lines.findIndex((line) => line.startsWith("transfers")),
    );
    expect(row(ownership, "a")).toEqual(["a", "valid", "3", "2", "-1"]);
    expect(row(ownership, "c")).toEqual(["c", "leaving → removed", "2", "0", "-2"]);
    expect(row(ownership, "e")).toEqual(["e", "joining", "0", "2", "+2"]);
  });

  it("shows each transfer with human-readable bytes, the move count and the total", () => {
    const lines = planLines(report());
    const transfers = lines.slice(lines.findIndex((line) => line.startsWith("transfers")));
    expect(row(transfers, "a")).toEqual(["a", "e", "2", "1200", "1.5 KiB"]);
    expect(row(transfers, "b")).toEqual(["b", "e", "1", "40", "3.0 GiB"]);
    expect(lines).toContain("4 partitions move, 3.0 GiB to send in all");
  });

  it("lists every partition that moves, grouped by sender, receivers and who drops a copy", () => {
    const lines = planLines(report());
    const at = lines.indexOf("moves (from → to: partitions):");
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 4)).toEqual([
      "  a → e (c drops its copy): 1, 4",
      "  b → e (c drops its copy): 2",
      "  no source up → e (c, d drop their copies): 6",
    ]);
  });

  it("says when no data moves", () => {
    const lines = planLines(report({ moves: [], transfers: [] }));
    expect(lines).toContain("transfers: none, no data moves");
    expect(lines).toContain("0 partitions move, 0 B to send in all");
  });

  it("gives the ETA at the throttle, or says that no throttle is set", () => {
    expect(planLines(report({ etaSeconds: 125.2 }, 10 * 1024 ** 2))).toContain(
      "ETA: 2m 6s at 10.0 MiB/s per sender",
    );
    expect(planLines(report())).toContain("ETA: unknown, no throttle set");
  });

  it("shows every warning in a block under a heading that counts them", () => {
    const warnings = [
      "only 2 nodes own partitions; n=3 needs 3 for distinct replicas",
      "partition 6 has no surviving copy: its old primaries c, d are all unavailable",
    ];
    const lines = planLines(report({ warnings }));
    const at = lines.indexOf("WARNINGS (2):");
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 3)).toEqual(warnings.map((warning) => `  ! ${warning}`));
    expect(text(planLines(report()))).not.toContain("WARNINGS");
  });

  it("ends with how to commit, and how to commit exactly this plan", () => {
    const lines = planLines(report());
    expect(lines.slice(-2)).toEqual([
      "commit with: dkv cluster commit (refused if the staged changes change before it)",
      "(from elsewhere, this plan by its numbers: dkv cluster commit --based-on 3 --revision 2)",
    ]);
  });
});

describe("commitSummary", () => {
  it("names the changes committed, the new version and the moves in one line", () => {
    const after = metadata({ layout: { ...metadata().layout, version: 4 } });
    expect(commitSummary(report({ warnings: ["w"] }), after)).toBe(
      "committed join e at 10.0.0.5:7000, leave c → layout version 4: 4 partitions move, 1 warning",
    );
  });
});

describe("units", () => {
  it("formats bytes in binary units with one decimal", () => {
    // prettier-ignore
    const rows: readonly (readonly [number, string])[] = [
      [0,                  "0 B"],
      [1023,               "1023 B"],
      [1024,               "1.0 KiB"],
      [1536,               "1.5 KiB"],
      [5 * 1024 ** 2,      "5.0 MiB"],
      [1024 ** 4 * 2.25,   "2.3 TiB"],
    ];
    for (const [bytes, expected] of rows) expect(formatBytes(bytes)).toBe(expected);
  });

  it("formats durations rounded up to whole seconds", () => {
    // prettier-ignore
    const rows: readonly (readonly [number, string])[] = [
      [0,       "0s"],
      [0.2,     "1s"],
      [59,      "59s"],
      [60,      "1m 0s"],
      [3599,    "59m 59s"],
      [12_000,  "3h 20m"],
    ];
    for (const [seconds, expected] of rows) expect(formatDuration(seconds)).toBe(expected);
  });

  it("has no ETA without a size estimate even with a throttle", () => {
    expect(etaText(undefined, 1024)).toBe("unknown, no size estimate");
    expect(etaText(30, 0)).toBe("unknown, no throttle set");
  });
});

describe("parsing the replies", () => {
  it("reads metadata and plan JSON as the service sends them", () => {
    expect(parseMetadataJson(JSON.stringify(metadata())).layout.version).toBe(3);
    expect(parsePlanJson(JSON.stringify(report())).plan.transfers).toHaveLength(2);
  });

  it("names the missing field of a reply it cannot read", () => {
    const { staged: _, ...noStaged } = metadata();
    expect(() => parseMetadataJson(JSON.stringify(noStaged))).toThrow("no metadata.staged");
    const broken = { ...report(), plan: { ...report().plan, warnings: "none" } };
    expect(() => parsePlanJson(JSON.stringify(broken))).toThrow("plan.plan.warnings is not a list");
  });
});
