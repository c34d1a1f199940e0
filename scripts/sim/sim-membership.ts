// Membership changes during a simulation run's fault phase, drawn from the seed: a new node
// joins, a node leaves, a node is replaced by a new one, or a crashed node is force-removed. A
// change is what the Membership service does: stageChange, then commitStaged, on one live
// member's MetadataStore; gossip, TransferLoop and DropLoop (production code) do the rest. At
// least `n` members keep owning partitions.

import { claimantOf } from "../../node/core/claimant.js";
import type { NodeId } from "../../node/core/node-id.js";
import { isOwning, type StagedChange, type ClusterMetadata } from "../../node/core/layout.js";
import { commitStaged, stageChange } from "../../node/core/layout-merge.js";
import type { SeededRandom } from "../../node/core/seeded-random.js";
import { simAddress, type SimCluster } from "./sim-cluster.js";
import type { SimProcess } from "./sim-process.js";
import type { SimScheduler } from "./sim-scheduler.js";
import type { SimTrace } from "./sim-trace.js";

/** The kinds of change, as `dkv cluster` names them. */
export const MEMBERSHIP_CHANGES = ["join", "leave", "replace", "force-remove"] as const;
export type MembershipChangeKind = (typeof MEMBERSHIP_CHANGES)[number];

/** How long a commit may take on its member (a few fsyncs) before it counts as lost. */
const COMMIT_WAIT_MS = 2_000;
/** How long to wait before trying again when a change cannot be made now. */
const RETRY_MS = 1_000;

/** What the seed drew. */
export interface MembershipConfig {
  /** Changes to make (0 for most seeds' half). */
  readonly changes: number;
  /** Virtual ms from the start of the fault phase to the first change. */
  readonly firstAtMs: number;
  /** Virtual ms between one change and the next attempt. */
  readonly gapMs: number;
  /** Members that must keep owning partitions (the bucket's n). */
  readonly owningMin: number;
}

/** Draws the membership changes of a run: one or two in half of the seeds. */
export function drawMembership(random: SeededRandom, owningMin: number): MembershipConfig {
  const changes = random.chance(0.5) ? random.range(1, 2) : 0;
  return {
    changes,
    firstAtMs: random.range(300, 4_000),
    gapMs: random.range(500, 3_000),
    owningMin,
  };
}

/** Makes the drawn changes during the fault phase. */
export class SimMembership {
  readonly #cluster: SimCluster;
  readonly #scheduler: SimScheduler;
  readonly #random: SeededRandom;
  readonly #trace: SimTrace;
  readonly #config: MembershipConfig;
  /** Changes committed, by kind. */
  readonly made = new Map<MembershipChangeKind, number>();
  /** Nodes force-removed: their disks count as lost for good (the checker's lostNodes). */
  readonly forceRemoved: NodeId[] = [];
  /** The layout version the last commit made; the next waits for a contact that has it. */
  #lastCommittedVersion = 0;
  /** True while a change is being made (a node started, its commit not yet written). */
  #busy = false;

  constructor(options: {
    readonly cluster: SimCluster;
    readonly scheduler: SimScheduler;
    readonly random: SeededRandom;
    readonly trace: SimTrace;
    readonly config: MembershipConfig;
  }) {
    this.#cluster = options.cluster;
    this.#scheduler = options.scheduler;
    this.#random = options.random;
    this.#trace = options.trace;
    this.#config = options.config;
  }

  /**
   * True while an attempt is under way: the fault phase must not end then, or the convergence
   * phase would take the node it started for a replace or join, not a member yet, for a removed
   * one and stop it, and the commit landing next would make a dead node an owner (sim seed 3531).
   */
  get busy(): boolean {
    return this.#busy;
  }

  /** Changes committed. */
  get count(): number {
    return [...this.made.values()].reduce((sum, count) => sum + count, 0);
  }

  /** Makes the changes, one after the other, until they are made or `stop()` holds. */
  async run(stop: () => boolean): Promise<void> {
    await this.#scheduler.sleep(this.#config.firstAtMs);
    for (let made = 0; made < this.#config.changes; made++) {
      if (made > 0) await this.#scheduler.sleep(this.#config.gapMs);
      const kind = this.#random.pick(MEMBERSHIP_CHANGES);
      while (!stop() && !(await this.#attemptOnce(kind))) await this.#scheduler.sleep(RETRY_MS);
      if (stop()) return;
    }
  }

  /** One attempt at a change of `kind`, marked busy while it runs. */
  async #attemptOnce(kind: MembershipChangeKind): Promise<boolean> {
    this.#busy = true;
    try {
      return await this.#attempt(kind);
    } finally {
      this.#busy = false;
    }
  }

  /** One attempt at a change of `kind`; false when it cannot be made now. */
  async #attempt(kind: MembershipChangeKind): Promise<boolean> {
    const cluster = this.#cluster;
    // As an operator checks `dkv cluster show` first: a commit on a member that has not heard
    // of the last one makes a second version N+1, and the merge keeps only one of them.
    const live = cluster.processes();
    if (new Set(live.map((process) => process.metadata.digest)).size > 1) return false;
    const contacts = live.filter((process) => process.isMember(process.self));
    if (contacts.length === 0) return false;
    // The member asked forwards the change to the claimant in its view, which makes it
    // (claimant.ts routeMembershipCall), as `dkv cluster ...` does.
    const asked = this.#random.pick(contacts);
    const claimant = claimantOf(asked.metadata.current.layout, asked.upNodes());
    const contact = live.find((process) => process.self === claimant);
    if (contact === undefined) return false;
    const metadata = contact.metadata.current;
    // Nor on a member that has not heard of the last commit, even when every live member agrees:
    // the one that made it may be down, its commit on its disk only (sim seed 327, where a join
    // committed meanwhile made a second version N+1 and the force-remove was lost).
    if (metadata.layout.version < this.#lastCommittedVersion) return false;
    const owning = metadata.layout.members
      .filter((member) => isOwning(member.state) && member.node !== contact.self)
      .map((member) => member.node);
    // Leave and force-remove target another member; the contact keeps serving the commit.
    const target = owning.length === 0 ? undefined : this.#random.pick(owning);
    const newId = `n${cluster.allIds().length + 1}` as NodeId;
    const change = changeOf(kind, target, newId);
    if (change === undefined || !this.#allowed(metadata, change)) return false;
    if (kind === "force-remove") cluster.hold(change.node);
    if (kind === "join" || kind === "replace") {
      const added = await cluster.addNode(contact);
      if (added !== newId) throw new Error(`added ${added}, expected ${newId}`);
    }
    const committed = await this.#commit(contact, change);
    if (committed) {
      this.#lastCommittedVersion = contact.metadata.current.layout.version;
      this.made.set(kind, (this.made.get(kind) ?? 0) + 1);
      if (kind === "force-remove") {
        cluster.stopForGood(change.node);
        this.forceRemoved.push(change.node);
      }
      return true;
    }
    if (kind === "force-remove") await cluster.release(change.node);
    if (kind === "join" || kind === "replace") cluster.stopForGood(newId);
    return false;
  }

  /** The change would commit now and leave at least owningMin owning members. */
  #allowed(metadata: ClusterMetadata, change: StagedChange): boolean {
    try {
      const next = commitStaged(stageChange(metadata, change));
      const owning = next.layout.members.filter((member) => isOwning(member.state));
      return owning.length >= this.#config.owningMin;
    } catch {
      return false;
    }
  }

  /** stageChange and commitStaged on `contact`'s store; true once written there. */
  async #commit(contact: SimProcess, change: StagedChange): Promise<boolean> {
    const described = JSON.stringify(change);
    const update = contact.metadata.update((current) => commitStaged(stageChange(current, change)));
    const outcome = await Promise.race([
      update.then(
        (after) => `committed v${after.layout.version}`,
        (error: unknown) => `refused: ${error instanceof Error ? error.message : String(error)}`,
      ),
      this.#scheduler.sleep(COMMIT_WAIT_MS).then(() => "lost with its member"),
    ]);
    this.#trace.record(`membership ${described} on ${contact.self}: ${outcome}`);
    return outcome.startsWith("committed");
  }
}

function changeOf(
  kind: MembershipChangeKind,
  target: NodeId | undefined,
  newId: NodeId,
): StagedChange | undefined {
  if (kind === "join") return { kind, node: newId, address: simAddress(newId) };
  if (target === undefined) return undefined;
  if (kind === "replace") return { kind, node: target, by: newId, address: simAddress(newId) };
  return { kind, node: target };
}
