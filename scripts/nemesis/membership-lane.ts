// The membership lane of a `--membership` nemesis run: makes the planned steps one after the
// other while the workload (and the fault lane, when asked for) runs, as an operator would with
// `dkv cluster`: start new nodes with --join, stage, plan, commit once every member holds the
// same metadata, wait until every member follows one settled layout with the expected owners,
// then kill the nodes the cluster dropped, by pid. Steps and their times go to the report.

import { SeededRandom } from "../../node/core/seeded-random.js";
import type { ClusterMetadata, Layout, StagedChange } from "../../node/core/layout.js";
import type { StageRequest } from "../../proto/generated/dkv/v1/StageRequest.js";
import { say, sleep } from "../lib/fault-cluster.js";
import {
  describeStep,
  layoutAgreement,
  pickTargets,
  targetCount,
  type MembershipStep,
} from "./core/membership-steps.js";
import { callErrorText, commitAt, metadataAt, planAt, stageAt } from "./membership-calls.js";
import type { NemesisCluster } from "./nemesis-cluster.js";
import type { Recorder } from "./recorder.js";
import type { RunningWorkload } from "./workload.js";

/** A step that has not settled by then has failed (a transfer stuck, a commit refused). */
const STEP_TIMEOUT_MS = 300_000;
/** How long a node started with --join gets to stage its own join before we stage it. */
const OWN_JOIN_WAIT_MS = 5_000;
const POLL_MS = 250;
/** How often a wait says what it waits for. */
const WAIT_REPORT_MS = 10_000;

/** One step as it went, in run time (ms since the workload started). */
export interface MembershipStepReport {
  readonly kind: MembershipStep["kind"];
  readonly description: string;
  readonly startMs: number;
  /** When the commit was accepted (undefined when the step failed before it). */
  readonly committedMs: number | undefined;
  /** When every member followed the settled layout (undefined when it never did). */
  readonly settledMs: number | undefined;
  readonly durationMs: number;
  /** The layout version every member settled on. */
  readonly version: number | undefined;
  /** The members owning partitions after the step. */
  readonly members: readonly string[];
  readonly error: string | undefined;
}

/** What the lane did. */
export interface MembershipLaneReport {
  readonly steps: readonly MembershipStepReport[];
  /** Every step settled. */
  readonly completed: boolean;
  /** Nodes killed -9 and force-removed: their disks count as lost for good. */
  readonly forceRemoved: readonly string[];
}

/** What the lane acts on. */
export interface MembershipLaneOptions {
  readonly cluster: NemesisCluster;
  readonly workload: RunningWorkload;
  readonly recorder: Recorder;
  readonly steps: readonly MembershipStep[];
  readonly seed: number;
  /** Run time of the first step. */
  readonly firstAtMs: number;
  /** Quiet time between one step settling and the next starting. */
  readonly gapMs: number;
}

/** Makes every step in turn; stops at the first that fails. Never throws for a step. */
export async function runMembershipLane(
  options: MembershipLaneOptions,
): Promise<MembershipLaneReport> {
  const lane = new MembershipLane(options);
  const reports: MembershipStepReport[] = [];
  await sleep(Math.max(0, options.firstAtMs - options.recorder.now()));
  for (const [index, step] of options.steps.entries()) {
    if (index > 0) await sleep(options.gapMs);
    const report = await lane.make(step, `${index + 1}/${options.steps.length}`);
    reports.push(report);
    if (report.error !== undefined) break;
  }
  const completed =
    reports.length === options.steps.length && reports.every((r) => r.error === undefined);
  return { steps: reports, completed, forceRemoved: lane.forceRemoved };
}

class MembershipLane {
  readonly forceRemoved: string[] = [];
  readonly #cluster: NemesisCluster;
  readonly #workload: RunningWorkload;
  readonly #recorder: Recorder;
  readonly #random: SeededRandom;
  /** The members owning partitions, as the last settled step left them. */
  #members: string[];
  #deadlineMs = 0;
  #lastReportMs = 0;

  constructor(options: MembershipLaneOptions) {
    this.#cluster = options.cluster;
    this.#workload = options.workload;
    this.#recorder = options.recorder;
    this.#random = new SeededRandom(options.seed * 31 + 17);
    this.#members = [...options.cluster.ids];
  }

  /** Makes one step and reports it; a failure is reported, not thrown. */
  async make(step: MembershipStep, ordinal: string): Promise<MembershipStepReport> {
    const startMs = this.#recorder.now();
    this.#deadlineMs = performance.now() + STEP_TIMEOUT_MS;
    const before = this.#members.length;
    let description = describeStep(step, before, []);
    let committedMs: number | undefined;
    let version: number | undefined;
    let error: string | undefined;
    try {
      const targets = await this.#pickTargets(targetCount(step));
      description = describeStep(step, before, targets);
      say(`membership ${ordinal}: ${description}`);
      const committed = await this.#run(step, targets);
      committedMs = this.#recorder.now();
      say(`membership ${ordinal}: committed layout v${committed.layout.version}`);
      version = await this.#settle(step, targets);
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
      say(`membership ${ordinal}: FAILED: ${error}`);
    } finally {
      this.#cluster.reserved.clear();
    }
    const settledMs = error === undefined ? this.#recorder.now() : undefined;
    const durationMs = Math.round((settledMs ?? this.#recorder.now()) - startMs);
    if (error === undefined) {
      say(
        `membership ${ordinal}: every member follows layout v${version} ` +
          `(${this.#members.join(",")}) after ${(durationMs / 1000).toFixed(1)} s`,
      );
    }
    return {
      kind: step.kind,
      description,
      startMs,
      committedMs,
      settledMs,
      durationMs,
      version,
      members: [...this.#members],
      error,
    };
  }

  /** Members to act on, none the fault lane holds; waits while too few are free. */
  async #pickTargets(count: number): Promise<string[]> {
    for (;;) {
      const busy = new Set([...this.#cluster.underFault, ...this.#cluster.reserved]);
      const targets = pickTargets(this.#members, busy, count, this.#random);
      if (targets !== undefined) {
        for (const target of targets) this.#cluster.reserved.add(target);
        return targets;
      }
      await this.#pause("members free of faults to act on");
    }
  }

  /** Starts new nodes, stages and commits the step; resolves with the committed metadata. */
  async #run(step: MembershipStep, targets: readonly string[]): Promise<ClusterMetadata> {
    const contact = this.#contact(targets);
    switch (step.kind) {
      case "join": {
        await this.#addNodes(step.nodes, contact);
        for (const node of step.nodes) {
          await this.#ensureStaged(contact, change("join", node, this.#address(node)));
        }
        return this.#commit(contact, this.#members);
      }
      case "leave":
        for (const node of targets) await this.#ensureStaged(contact, change("leave", node));
        return this.#commit(contact, this.#members);
      case "replace": {
        const [node] = targets as [string];
        await this.#addNodes([step.by], contact);
        const by = step.by;
        await this.#ensureStaged(contact, change("replace", node, this.#address(by), by));
        return this.#commit(contact, this.#members);
      }
      case "force-remove": {
        const [node] = targets as [string];
        this.#workload.useAddresses(
          this.#cluster.addresses.filter((a) => a !== this.#address(node)),
        );
        await this.#cluster.exclusive(() => this.#cluster.drop(node));
        say(`membership: killed ${node} (-9)`);
        this.forceRemoved.push(node);
        await this.#ensureStaged(contact, change("force-remove", node));
        return this.#commit(
          contact,
          this.#members.filter((member) => member !== node),
        );
      }
    }
  }

  /** Waits until every member follows the settled layout; drops the nodes that left. */
  async #settle(step: MembershipStep, targets: readonly string[]): Promise<number> {
    const added = step.kind === "join" ? step.nodes : step.kind === "replace" ? [step.by] : [];
    this.#members = [...this.#members.filter((member) => !targets.includes(member)), ...added];
    this.#members.sort();
    this.#workload.useAddresses(this.#cluster.addresses);
    const version = await this.#waitSettled();
    const leaving = targets.filter((node) => this.#cluster.ids.includes(node));
    if (leaving.length > 0) {
      const kept = this.#cluster.specs.filter((spec) => !leaving.includes(spec.id));
      this.#workload.useAddresses(kept.map((spec) => spec.address));
      for (const node of leaving) await this.#cluster.exclusive(() => this.#cluster.drop(node));
      say(`membership: killed ${leaving.join(", ")}, removed from the cluster`);
    }
    return version;
  }

  async #addNodes(nodes: readonly string[], contact: string): Promise<void> {
    for (const node of nodes) this.#cluster.reserved.add(node);
    const specs = await this.#cluster.addNodes(nodes, contact);
    for (const spec of specs) {
      say(`membership: started ${spec.id} at ${spec.address} with --join ${contact}`);
    }
  }

  /**
   * Stages `change` on `contact` unless it is staged there already (a node started with --join
   * stages its own join; a replace supersedes that join): waits for that first, then stages.
   */
  async #ensureStaged(contact: string, wanted: LaneChange): Promise<void> {
    const joiner = wanted.kind === "join" ? wanted.node : wanted.by;
    const ownJoinUntilMs = performance.now() + OWN_JOIN_WAIT_MS;
    let lastError = "";
    for (;;) {
      const read = await attempt(() => metadataAt(contact), "metadata");
      if (read.ok) {
        const staged = read.value.metadata.staged.changes;
        if (staged.some((other) => sameChange(other, wanted))) return;
        const ownJoin = staged.some((other) => other.kind === "join" && other.node === joiner);
        const mayStage = ownJoin || joiner === "" || performance.now() > ownJoinUntilMs;
        if (mayStage) {
          const staging = await attempt(() => stageAt(contact, wanted), "stage");
          if (staging.ok) return;
          lastError = `: ${staging.error}`;
        }
      }
      await this.#pause(`${wanted.kind} ${wanted.node} staged on ${contact}${lastError}`);
    }
  }

  /**
   * Plans and commits on `contact` once every member in `members` holds the same metadata (a
   * commit on a member that has not heard of the staged changes would commit fewer of them).
   */
  async #commit(contact: string, members: readonly string[]): Promise<ClusterMetadata> {
    for (;;) {
      const digests = await Promise.all(
        members.map((node) =>
          metadataAt(this.#address(node)).then(
            (m) => m.digest,
            () => "",
          ),
        ),
      );
      if (digests.every((digest) => digest !== "" && digest === digests[0])) {
        const plan = await attempt(() => planAt(contact), "plan");
        if (!plan.ok) {
          await this.#pause(plan.error);
          continue;
        }
        const committed = await attempt(() => commitAt(contact, plan.value), "commit");
        if (committed.ok) return committed.value;
        // A commit that timed out may have been made: the layout version tells.
        const read = await attempt(() => metadataAt(contact), "metadata");
        if (read.ok && read.value.metadata.layout.version > plan.value.based_on) {
          return read.value.metadata;
        }
        await this.#pause(committed.error);
        continue;
      }
      await this.#pause(`every member holding the staged changes (${members.join(",")})`);
    }
  }

  /** Waits until every member reports the same settled layout, owned by this.#members. */
  async #waitSettled(): Promise<number> {
    for (;;) {
      const layouts = new Map<string, Layout | undefined>();
      await Promise.all(
        this.#members.map(async (node) => {
          const layout = await metadataAt(this.#address(node)).then(
            ({ metadata }) => metadata.layout,
            () => undefined,
          );
          layouts.set(node, layout);
        }),
      );
      const agreement = layoutAgreement(layouts, this.#members);
      if (agreement.settled) return agreement.version;
      await this.#pause(agreement.why);
    }
  }

  /** A member to talk to: not acted on, not under a fault; the first such, sorted. */
  #contact(targets: readonly string[]): string {
    const free = this.#members.filter(
      (node) => !targets.includes(node) && !this.#cluster.underFault.has(node),
    );
    const node = free[0] ?? this.#members.find((member) => !targets.includes(member));
    if (node === undefined) throw new Error("no member left to talk to");
    return this.#address(node);
  }

  #address(node: string): string {
    return this.#cluster.address(node);
  }

  /** Sleeps one poll; throws when the step's time is up; says what it waits for now and then. */
  async #pause(waitingFor: string): Promise<void> {
    const nowMs = performance.now();
    if (nowMs > this.#deadlineMs) {
      throw new Error(`no progress within ${STEP_TIMEOUT_MS / 1000} s: waiting for ${waitingFor}`);
    }
    if (nowMs - this.#lastReportMs >= WAIT_REPORT_MS) {
      this.#lastReportMs = nowMs;
      say(`membership: waiting for ${waitingFor}`);
    }
    await sleep(POLL_MS);
  }
}

/** A change as the Stage call takes it: `address` for join and replace, `by` for replace. */
type LaneChange = Required<StageRequest> & { readonly kind: StagedChange["kind"] };

function change(kind: StagedChange["kind"], node: string, address = "", by = ""): LaneChange {
  return { kind, node, address, by };
}

function sameChange(staged: StagedChange, wanted: LaneChange): boolean {
  const by = staged.kind === "replace" ? staged.by : "";
  return staged.kind === wanted.kind && staged.node === wanted.node && by === wanted.by;
}

/** One call; its failure as text instead of a throw. */
async function attempt<T>(
  call: () => Promise<T>,
  what: string,
): Promise<
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string }
> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error: `${what}: ${callErrorText(error)}` };
  }
}
