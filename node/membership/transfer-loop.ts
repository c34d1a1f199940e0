// Ownership transfer after a committed membership change, on the nodes that gain partitions.
// Every gaining node streams each partition it gains from an old primary (partition-puller.ts:
// resumable, throttled, at most two at once). Each moving partition then has one responsible
// node, the first of its gaining nodes by id: once its own stream is done, it exchanges the
// partition with every surviving old primary until one exchange with each finds it in sync,
// then with every other gaining node (which so receives all it had), and then records the
// partition transferred in the cluster metadata, which gossip spreads. Once every moving
// partition is (and every leaving node handed off its hints), the claimant retires the change
// (the new layout alone stays; leaving nodes become removed). Restartable: a crash costs the
// stream from its last cursor, and the exchanges again.
//
// Why every surviving old primary: a write acknowledged before the change may be on any w of
// them and on no other, so a new primary must have compared with each to be sure it holds it.
// Writes during the change reach w old and w new primaries (transitionPreferenceList).

import type { Clock } from "../clock.js";
import type { NodeId } from "../core/node-id.js";
import type { Logger } from "../logger.js";
import type { MembershipView } from "./membership-view.js";
import type { ExchangeReport } from "../anti-entropy/exchange.js";
import type { ClusterMetadata, MemberState } from "../core/layout.js";
import {
  markDrained,
  markTransferred,
  retireIfComplete,
  undrained,
} from "../core/layout-progress.js";
import { planTransition, type PartitionMove } from "../core/cluster-plan.js";
import { claimantOf } from "../core/claimant.js";
import type { MetadataStore } from "./metadata-store.js";
import type { PartitionPuller, PullProgress, PullWanted } from "./partition-puller.js";

/** How often the loop looks for work while a change is under way. */
const TRANSFER_TICK_MS = 1_000;

/** One partition this node gains, and where its transfer stands. */
export interface IncomingTransfer {
  readonly partition: number;
  /**
   * queued or streaming (the stream from an old primary), confirming (this node compares it
   * with the nodes of `waitingFor`), or received (streamed; another gaining node confirms it).
   */
  readonly state: "queued" | "streaming" | "confirming" | "received";
  /** Nodes still to confirm against (old primaries first, then the other gaining nodes). */
  readonly waitingFor: readonly NodeId[];
  /** Why it waits, empty while it moves. */
  readonly why: string;
  /** The stream's source, its progress and rate (zero without a stream). */
  readonly stream: Omit<PullProgress, "partition" | "state" | "why"> | undefined;
}

/** The hint store, as a leaving node hands off what it holds before its change can retire. */
export interface LeavingHints {
  refuseStandIns(reason: string | undefined): void;
  isEmpty(): boolean;
  pendingCount(): number;
}

/** Runs the transfers of the partitions this node gains. */
export class TransferLoop {
  readonly #view: MembershipView;
  readonly #metadata: MetadataStore;
  readonly #exchange: Exchange;
  readonly #puller: PartitionPuller | undefined;
  readonly #hints: LeavingHints | undefined;
  /** The layout version this node last logged waiting to hand off its hints for. */
  #drainLogged = 0;
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** Per layout version: partition → nodes it was confirmed in sync with. */
  #confirmed = new Map<number, Set<NodeId>>();
  #confirmedVersion = 0;
  #plan: { version: number; moves: readonly PartitionMove[] } | undefined;
  #cancel: (() => void) | undefined;
  #closed = false;
  #work: Promise<void> = Promise.resolve();
  #incoming: readonly IncomingTransfer[] = [];

  constructor(options: {
    readonly view: MembershipView;
    readonly metadata: MetadataStore;
    /** One anti-entropy exchange with a peer over the partitions named. */
    readonly exchange: Exchange;
    /** Streams the partitions this node gains; without one, the exchanges carry the data. */
    readonly puller?: PartitionPuller;
    /** This node's hints; without them it holds none. */
    readonly hints?: LeavingHints;
    readonly clock: Clock;
    readonly logger: Logger;
  }) {
    this.#view = options.view;
    this.#metadata = options.metadata;
    this.#exchange = options.exchange;
    this.#puller = options.puller;
    this.#hints = options.hints;
    // At once, before the node serves: one marked drained before a restart must refuse from
    // its first request, not from its first tick.
    this.#refuseStandInsIfLeaving();
    this.#clock = options.clock;
    this.#logger = options.logger;
  }

  /** The partitions this node gains and still waits for (for status). */
  get incoming(): readonly IncomingTransfer[] {
    return this.#incoming;
  }

  /**
   * True while `partition` moves to this node or to `peer` in the change under way and is not
   * recorded transferred: anti-entropy's scheduled exchanges leave it to the transfer.
   */
  leftToTransfer(partition: number, peer: NodeId): boolean {
    const move = this.#moves().find((candidate) => candidate.partition === partition);
    if (move === undefined || transferDone(this.#metadata.current, partition)) return false;
    return move.gaining.includes(this.#view.self) || move.gaining.includes(peer);
  }

  start(): void {
    this.#schedule(0);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cancel?.();
    await this.#work.catch(() => undefined);
    await this.#puller?.close();
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#cancel = this.#clock.setTimer(delayMs, () => {
      this.#work = this.#tick()
        .catch((error: unknown) =>
          this.#logger.warn({ err: error }, "ownership transfer round failed; retried"),
        )
        .finally(() => this.#schedule(TRANSFER_TICK_MS));
    });
  }

  async #tick(): Promise<void> {
    await this.#drain();
    const { layout } = this.#metadata.current;
    if (layout.previousOwners === undefined) {
      this.#incoming = [];
      this.#puller?.want(layout.version, []);
      return;
    }
    if (layout.version !== this.#confirmedVersion) {
      this.#confirmed = new Map();
      this.#confirmedVersion = layout.version;
    }
    const self = this.#view.self;
    const removed = new Set(
      layout.members.filter((member) => member.state === "removed").map((member) => member.node),
    );
    const gained = this.#moves().filter(
      (move) =>
        move.gaining.includes(self) && !transferDone(this.#metadata.current, move.partition),
    );
    this.#puller?.want(
      layout.version,
      gained.map((move) => ({
        partition: move.partition,
        sources: sourcesOf(move, self, removed),
      })),
    );
    const streamed = (move: PartitionMove): boolean => this.#puller?.isDone(move.partition) ?? true;
    const mine = gained.filter((move) => [...move.gaining].sort()[0] === self);
    const up = this.#view.upNodes();
    // First every surviving old primary, then the other gaining nodes (so they receive it all).
    const waiting = (move: PartitionMove): NodeId[] => {
      const confirmed = this.#confirmed.get(move.partition) ?? new Set<NodeId>();
      const left = sourcesOf(move, self, removed).filter((node) => !confirmed.has(node));
      if (left.length > 0) return left;
      return move.gaining.filter((node) => node !== self && !confirmed.has(node));
    };
    const describe = (): IncomingTransfer[] =>
      describeIncoming(gained, this.#puller?.progress() ?? [], mine, waiting, up);
    // Shown while the exchanges of this round run, then updated with what they confirmed.
    this.#incoming = describe();
    const ready = mine.filter(streamed);
    const byPeer = new Map<NodeId, number[]>();
    for (const move of ready) {
      for (const peer of waiting(move)) {
        byPeer.set(peer, [...(byPeer.get(peer) ?? []), move.partition]);
      }
    }
    for (const [peer, partitions] of [...byPeer].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (this.#closed || !up.has(peer)) continue;
      const report = await this.#exchange(peer, partitions).catch((error: unknown) => {
        this.#logger.info(
          { peer, reason: error instanceof Error ? error.message : String(error) },
          "transfer exchange failed; retried",
        );
        return undefined;
      });
      if (report === undefined || report.truncated) continue;
      for (const partition of report.partitions) {
        if ((report.perPartition.get(partition)?.differences ?? 0) > 0) continue;
        const move = ready.find((candidate) => candidate.partition === partition);
        // A gaining peer counts only once the old primaries are done: it then holds it all.
        if (move === undefined || !waiting(move).includes(peer)) continue;
        let confirmed = this.#confirmed.get(partition);
        if (confirmed === undefined) this.#confirmed.set(partition, (confirmed = new Set()));
        confirmed.add(peer);
      }
    }
    const complete = ready.filter((move) => waiting(move).length === 0);
    this.#incoming = describe();
    if (complete.length > 0) {
      const partitions = complete.map((move) => move.partition);
      await this.#metadata.update((current) => markTransferred(current, partitions));
      this.#logger.info({ partitions, version: layout.version }, "partitions transferred here");
    }
    await this.#retire();
  }

  /**
   * Retires the change once it is complete, on the claimant only (claimant.ts), as Riak's
   * claimant alone moves the ring on: a retirement makes layout version N+1 as a commit does,
   * and a force-remove committed on the claimant while another node retired would make a second
   * N+1, of which the merge keeps one; the other node's retirement won in simulation seed 31713,
   * and the force-removed node, stopped for good, stayed a member. On the claimant the two are
   * made one after the other, each on the other's result.
   */
  async #retire(): Promise<void> {
    const self = this.#view.self;
    const retire = (current: ClusterMetadata): ClusterMetadata =>
      claimantOf(current.layout, this.#view.upNodes()) === self
        ? retireIfComplete(current)
        : current;
    const before = this.#metadata.current.layout.version;
    const after = await this.#metadata.update(retire);
    if (after.layout.version !== before) {
      this.#logger.info({ version: after.layout.version }, "membership change complete");
    }
  }

  /**
   * A leaving (or removed) node stands in for no primary, and once it holds no hint, marks
   * itself drained in the change under way (layout-progress.ts): the change retires only then,
   * so a copy it took in a down primary's place reaches that primary before the node may stop.
   * The refusal comes first and the store is found empty after it, so no hint can come later.
   */
  async #drain(): Promise<void> {
    const { layout } = this.#metadata.current;
    const self = this.#view.self;
    const state = this.#refuseStandInsIfLeaving();
    if (state !== "leaving" || !undrained(this.#metadata.current).includes(self)) return;
    if (this.#hints !== undefined && !this.#hints.isEmpty()) {
      if (this.#drainLogged !== layout.version) {
        this.#drainLogged = layout.version;
        const hints = this.#hints.pendingCount();
        this.#logger.info({ hints }, "leaving: handing off hints before the change can complete");
      }
      return;
    }
    await this.#metadata.update((current) => markDrained(current, self));
    this.#logger.info({ version: layout.version }, "leaving: no hint left here");
  }

  /** Refuses new stand-ins while this node is leaving or removed; returns its state. */
  #refuseStandInsIfLeaving(): MemberState | undefined {
    const self = this.#view.self;
    const state = this.#metadata.current.layout.members.find((m) => m.node === self)?.state;
    const leaving = state === "leaving" || state === "removed";
    this.#hints?.refuseStandIns(
      leaving ? `node ${self} is leaving the cluster and stands in for no other node` : undefined,
    );
    return state;
  }

  /** The moving partitions of the change under way (none without one), cached per version. */
  #moves(): readonly PartitionMove[] {
    const previous = this.#view.previousRing;
    if (previous === undefined) return [];
    const version = this.#view.layout.version;
    if (this.#plan?.version !== version) {
      const plan = planTransition({
        previous,
        next: this.#view.ring,
        n: this.#view.layout.targetN,
      });
      this.#plan = { version, moves: plan.moves };
    }
    return this.#plan.moves;
  }
}

/** One anti-entropy exchange with a peer over the partitions named. */
export type Exchange = (
  peer: NodeId,
  partitions: readonly number[],
) => Promise<ExchangeReport | undefined>;

/** The old primaries a gaining node streams from and confirms with: the planned source first. */
function sourcesOf(move: PartitionMove, self: NodeId, removed: ReadonlySet<NodeId>): NodeId[] {
  const usable = (node: NodeId): boolean => node !== self && !removed.has(node);
  const rest = move.from.filter((node) => node !== move.source);
  return [...(move.source === undefined ? [] : [move.source]), ...rest].filter(usable);
}

/** The status rows of the partitions this node gains. */
function describeIncoming(
  gained: readonly PartitionMove[],
  pulls: readonly PullProgress[],
  mine: readonly PartitionMove[],
  waiting: (move: PartitionMove) => NodeId[],
  up: ReadonlySet<NodeId>,
): IncomingTransfer[] {
  const pullOf = new Map(pulls.map((pull) => [pull.partition, pull]));
  return gained.map((move) => {
    const pull = pullOf.get(move.partition);
    const stream =
      pull === undefined
        ? undefined
        : (({ partition: _p, state: _s, why: _w, ...rest }) => rest)(pull);
    const streamed = pull === undefined || pull.state === "done";
    const responsible = mine.includes(move);
    const left = responsible ? waiting(move) : [];
    if (!streamed) {
      return {
        partition: move.partition,
        state: pull.state,
        waitingFor: left,
        why: pull.why,
        stream,
      };
    }
    if (!responsible) {
      const by = [...move.gaining].sort()[0]!;
      return {
        partition: move.partition,
        state: "received",
        waitingFor: [],
        why: `${by} confirms it`,
        stream,
      };
    }
    const down = left.filter((node) => !up.has(node));
    const why = down.length > 0 ? `source down: ${down.join(", ")}` : "";
    return { partition: move.partition, state: "confirming", waitingFor: left, why, stream };
  });
}

/** True when `partition` is recorded transferred for the current layout. */
function transferDone(metadata: ClusterMetadata, partition: number): boolean {
  const { layout, progress } = metadata;
  return progress.version === layout.version && progress.done.includes(partition);
}
