// Applying and healing the scheduled faults on a local cluster: kill -9 and restart, SIGSTOP
// and SIGCONT, node-level partitions (Admin.SetDroppedPeers: each node drops traffic to and
// from the peers of its grudge) and node-level delay or loss on every link of one node, both
// ways (Admin.SetLinkFaults).

import { say, setDroppedPeers, setLinkFaults } from "../lib/fault-cluster.js";
import type { NemesisCluster } from "./nemesis-cluster.js";
import { describeFault, isLiveFault, type ScheduledFault } from "./core/schedule.js";

/** What the delay and loss faults do to every link of their node, both ways. */
export const LINK_FAULTS = {
  delay: { delayMs: 100, jitterMs: 100, loss: 0 },
  loss: { delayMs: 0, jitterMs: 0, loss: 0.25 },
} as const;

/** One link fault: a delay plus 0..jitter ms per message, and a loss probability. */
export interface LinkFault {
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly loss: number;
}

/** Starts one fault; `linkFaults` replaces LINK_FAULTS (e.g. longer delays from the CLI). */
export async function applyFault(
  cluster: NemesisCluster,
  fault: ScheduledFault,
  linkFaults: { readonly delay: LinkFault; readonly loss: LinkFault } = LINK_FAULTS,
): Promise<void> {
  if (!isLiveFault(fault)) throw simulationOnly(fault);
  switch (fault.kind) {
    case "kill":
      await cluster.kill(fault.node);
      break;
    case "pause":
      cluster.pause(fault.node);
      break;
    case "delay":
    case "loss":
      await shapeLinks(cluster, fault.node, linkFaults[fault.kind]);
      break;
    default:
      await setGrudges(cluster, fault.grudges);
  }
  say(`nemesis: start ${describeFault(fault)}`);
}

/** Ends one fault: restart, resume, or heal the partition. */
export async function healFault(cluster: NemesisCluster, fault: ScheduledFault): Promise<void> {
  if (!isLiveFault(fault)) throw simulationOnly(fault);
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
      await Promise.all(cluster.ids.map((id) => setLinkFaults(cluster.address(id), [])));
      say(`nemesis: healed ${describeFault(fault)}`);
      break;
    default:
      await setGrudges(cluster, new Map());
      say(`nemesis: healed ${describeFault(fault)}`);
  }
}

function simulationOnly(fault: ScheduledFault): Error {
  return new Error(`${fault.kind} is a simulation-only fault; a live cluster cannot take it`);
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
  await Promise.all(cluster.ids.map((id) => setLinkFaults(cluster.address(id), [])));
  say("heal: every node runs, none paused, no partition, no link fault");
}

/** Delays or drops the messages between `node` and every other node, both ways. */
async function shapeLinks(cluster: NemesisCluster, node: string, fault: LinkFault): Promise<void> {
  const others = cluster.ids.filter((id) => id !== node);
  await setLinkFaults(
    cluster.address(node),
    others.map((peer) => ({ peer, ...fault })),
  );
  await Promise.all(
    others.map((id) => setLinkFaults(cluster.address(id), [{ peer: node, ...fault }])),
  );
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
