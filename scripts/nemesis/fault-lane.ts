// The fault lane of a nemesis run: applies the seeded schedule, each fault at its time, healed at
// its end. In a --membership run the members change under it, so each fault is drawn again at its
// start over the nodes running then that no membership step holds, and faults and steps take
// turns on the cluster (a fault never hits a node a step is adding or dropping, nor the reverse).

import type { SeededRandom } from "../../node/core/seeded-random.js";
import { say } from "../lib/fault-cluster.js";
import type { FaultWindow } from "./core/history.js";
import { describeFault, drawFault, type ScheduledFault } from "./core/schedule.js";
import { applyFault, healFault, type LinkFault } from "./faults.js";
import type { NemesisCluster } from "./nemesis-cluster.js";
import type { Recorder } from "./recorder.js";

/** What the lane applies, and where. */
export interface FaultLaneOptions {
  readonly cluster: NemesisCluster;
  readonly schedule: readonly ScheduledFault[];
  readonly recorder: Recorder;
  readonly linkFaults: { readonly delay: LinkFault; readonly loss: LinkFault };
  /** Draws each fault's nodes again at its start (membership changes); absent: as scheduled. */
  readonly retarget?: SeededRandom | undefined;
}

/** Applies and heals every fault in turn; resolves with the windows as they happened. */
export async function runFaultLane(options: FaultLaneOptions): Promise<FaultWindow[]> {
  const { cluster, recorder } = options;
  const windows: FaultWindow[] = [];
  for (const planned of options.schedule) {
    await sleepUntil(recorder, planned.startMs);
    const startMs = recorder.now();
    const fault = await cluster.exclusive(async () => {
      const fault = faultNow(planned, cluster, options.retarget);
      if (fault === undefined) return undefined;
      // Marked before any await: a membership step picking its nodes sees it at once.
      for (const node of nodesOf(fault)) cluster.underFault.add(node);
      await applyFault(cluster, fault, options.linkFaults);
      return fault;
    });
    if (fault === undefined) {
      say(`nemesis: skipped ${planned.kind}: too few nodes free of membership changes`);
      continue;
    }
    await sleepUntil(recorder, planned.endMs);
    await cluster.exclusive(async () => {
      await healFault(cluster, fault);
      for (const node of nodesOf(fault)) cluster.underFault.delete(node);
    });
    windows.push({
      kind: fault.kind,
      description: describeFault(fault),
      startMs,
      endMs: recorder.now(),
    });
  }
  return windows;
}

/** Sleeps until `atMs` of run time (at once when it has passed). */
export async function sleepUntil(recorder: Recorder, atMs: number): Promise<void> {
  const waitMs = atMs - recorder.now();
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
}

/** The fault to apply now: as planned, or drawn again over the nodes free to take it. */
function faultNow(
  planned: ScheduledFault,
  cluster: NemesisCluster,
  retarget: SeededRandom | undefined,
): ScheduledFault | undefined {
  if (retarget === undefined) return planned;
  const free = cluster.ids.filter((id) => !cluster.reserved.has(id));
  // A bridge needs three nodes; every other kind two.
  if (free.length < (planned.kind === "partition-bridge" ? 3 : 2)) return undefined;
  return drawFault(planned.kind, planned.startMs, planned.endMs, free, retarget);
}

/** The nodes a fault acts on by name (a partition acts on links, healed on every node). */
function nodesOf(fault: ScheduledFault): string[] {
  return "node" in fault ? [fault.node] : [];
}
