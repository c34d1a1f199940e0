// Goal: `dkv cluster transfers` lists what a receiver that does not answer still has to get:
// exactly the moving partitions it gains and that are not marked transferred.

import { describe, expect, it } from "vitest";
import { silentTransfers } from "../../../cli/silent-receivers.js";
import { movingPartitions, ringsOf } from "../../../node/core/layout.js";
import { markTransferred } from "../../../node/core/layout-progress.js";
import { commitStaged } from "../../../node/core/layout-merge.js";
import { primarySet } from "../../../node/core/cluster-plan.js";
import { cluster, id, join, stage } from "../node/core/layout-fixtures.js";

describe("silentTransfers", () => {
  const committed = commitStaged(stage(cluster("abc"), join("d")));
  const moving = movingPartitions(committed.layout);

  it("lists every moving partition a silent joiner gains, and nothing for answering nodes", () => {
    expect(moving.length).toBeGreaterThan(0);
    const rows = silentTransfers(committed, new Set([id("d")]));
    const { current } = ringsOf(committed.layout);
    const gained = moving.filter((p) => primarySet(current, p, 3).includes(id("d")));
    expect(rows).toEqual(gained.map((partition) => ({ to: "d", partition })));
    expect(silentTransfers(committed, new Set())).toEqual([]);
    // a, b and c were primaries of every partition before (n = 3 of 3): they gain none.
    expect(silentTransfers(committed, new Set([id("a"), id("b"), id("c")]))).toEqual([]);
  });

  it("leaves out what is marked transferred, and everything once no change is under way", () => {
    const [first, ...rest] = moving;
    const partly = markTransferred(committed, [first!]);
    const rows = silentTransfers(partly, new Set([id("d")]));
    expect(rows.map((row) => row.partition)).not.toContain(first);
    expect(rows.length).toBe(rest.length);
    expect(silentTransfers(cluster("abcd"), new Set([id("d")]))).toEqual([]);
  });
});
