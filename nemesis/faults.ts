// Applying and healing the scheduled faults on a local cluster: kill -9 and restart, SIGSTOP
// and SIGCONT, and node-level partitions (Admin.SetDroppedPeers: each node drops traffic to
// and from the peers of its grudge). Delay and loss need a netns cluster and are refused here.

import { say, setDroppedPeers } from "../scripts/fault-cluster.js";
import type { NemesisCluster } from "./nemesis-cluster.js";
import { describeFault, type FaultKind, type ScheduledFault } from "./core/schedule.js";

/** Faults this runner can inject on a 127.0.0.1 cluster. */
export const LOCAL_FAULT_KINDS: readonly FaultKind[] = [
  "kill",
  "pause",
  "partition-halves",
  "partition-isolate",
  "partition-bridge",
  "partition-ring",
];

/** Why delay/loss are not offered: said in --help and in every run's output. */
export const NETEM_UNAVAILABLE =
  "delay and loss need real packets to shape: tc netem (absent from this kernel) or iptables " +
  "random drop inside a netns cluster (root); this runner starts a 127.0.0.1 cluster, so it " +
  "does not inject them";

/** Starts one fault. */
export async function applyFault(cluster: NemesisCluster, fault: ScheduledFault): Promise<void> {
  switch (fault.kind) {
    case "kill":
      await cluster.kill(fault.node);
      break;
    case "pause":
      cluster.pause(fault.node);
      break;
    case "delay":
    case "loss":
      throw new Error(NETEM_UNAVAILABLE);
    default:
      await setGrudges(cluster, fault.grudges);
  }
  say(`nemesis: start ${describeFault(fault)}`);
}

/** Ends one fault: restart, resume, or heal the partition. */
export async function healFault(cluster: NemesisCluster, fault: ScheduledFault): Promise<void> {
  switch (fault.kind) {
    case "kill": {
      const pid = await cluster.restart(fault.node);
      say(`nemesis: restarted ${fault.node} (pid ${pid})`);
      break;
    }
    case "pause":
      cluster.resume(fault.node);
      say(`nemesis: SIGCONT ${fault.node}`);
      break;
    case "delay":
    case "loss":
      break;
    default:
      await setGrudges(cluster, new Map());
      say(`nemesis: healed ${describeFault(fault)}`);
  }
}

/** Heals everything whatever state it is in: resumes, restarts the dead, clears partitions. */
export async function healEverything(cluster: NemesisCluster): Promise<void> {
  for (const id of cluster.ids) cluster.resume(id);
  for (const id of cluster.ids) {
    if (!cluster.isRunning(id)) {
      const pid = await cluster.restart(id);
      say(`heal: restarted ${id} (pid ${pid})`);
    }
  }
  await setGrudges(cluster, new Map());
  say("heal: every node runs, none paused, no partition");
}

/** Gives every node its drop list (an empty one for nodes not in `grudges`). */
async function setGrudges(
  cluster: NemesisCluster,
  grudges: ReadonlyMap<string, readonly string[]>,
): Promise<void> {
  await Promise.all(
    cluster.ids.map((id) => setDroppedPeers(cluster.address(id), grudges.get(id) ?? [])),
  );
}
