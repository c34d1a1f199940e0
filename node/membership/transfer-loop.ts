// Ownership transfer after a committed membership change, on the nodes that gain partitions.
// During a change a partition's old and new primaries compare trees (start-node.ts's
// primariesOf), so anti-entropy exchanges copy what a gaining node lacks. Each moving partition
// has one responsible node, the first of its gaining nodes by id: it exchanges with every
// surviving old primary until one exchange with each finds the partition in sync, then with every
// other gaining node (which so receives all it had), and then records the partition transferred
// in the cluster metadata, which gossip spreads. Once every moving partition is, any node
// retires the change (the new layout alone stays; leaving nodes become removed). Idempotent and
// restartable: a crash only costs the exchanges again, which send nothing for keys in sync.
//
// Why every surviving old primary: a write acknowledged before the change may be on any w of
// them and on no other, so a new primary must have compared with each to be sure it holds it.
// Writes during the change reach w old and w new primaries (transitionPreferenceList).

import type { Clock } from "../clock.js";
import type { NodeId } from "../core/node-id.js";
import type { Logger } from "../logger.js";
import type { MembershipView } from "./membership-view.js";
import type { ExchangeReport } from "../anti-entropy/exchange.js";
import { markTransferred, retireIfComplete, type ClusterMetadata } from "../core/layout.js";
import { planTransition, type PartitionMove } from "../core/cluster-plan.js";
import type { MetadataStore } from "./metadata-store.js";

/** How often the loop looks for work while a change is under way. */
const TRANSFER_TICK_MS = 1_000;

/** What one partition this node gains waits for. */
export interface IncomingTransfer {
  readonly partition: number;
  /** Old primaries still to confirm against. */
  readonly waitingFor: readonly NodeId[];
  /** Why it waits, when it does (a source down, no exchange yet). */
  readonly why: string;
}

/** Runs the transfers of the partitions this node gains. */
export class TransferLoop {
  readonly #view: MembershipView;
  readonly #metadata: MetadataStore;
  readonly #exchange: (peer: NodeId) => Promise<ExchangeReport | undefined>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** Per layout version: partition → old primaries it was confirmed in sync with. */
  #confirmed = new Map<number, Set<NodeId>>();
  #confirmedVersion = 0;
  #cancel: (() => void) | undefined;
  #closed = false;
  #work: Promise<void> = Promise.resolve();
  #incoming: readonly IncomingTransfer[] = [];

  constructor(options: {
    readonly view: MembershipView;
    readonly metadata: MetadataStore;
    /** One anti-entropy exchange with a peer over every partition both replicate. */
    readonly exchange: (peer: NodeId) => Promise<ExchangeReport | undefined>;
    readonly clock: Clock;
    readonly logger: Logger;
  }) {
    this.#view = options.view;
    this.#metadata = options.metadata;
    this.#exchange = options.exchange;
    this.#clock = options.clock;
    this.#logger = options.logger;
  }

  /** The partitions this node gains and still waits for (for status). */
  get incoming(): readonly IncomingTransfer[] {
    return this.#incoming;
  }

  start(): void {
    this.#schedule(0);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cancel?.();
    await this.#work.catch(() => undefined);
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
    const { layout } = this.#metadata.current;
    if (layout.previousOwners === undefined) {
      this.#incoming = [];
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
    const mine = this.#movesConfirmedBySelf().filter(
      (move) => !transferDone(this.#metadata.current, move.partition),
    );
    const up = this.#view.upNodes();
    // First every surviving old primary, then the other gaining nodes (so they receive it all).
    const waiting = (move: PartitionMove): NodeId[] => {
      const confirmed = this.#confirmed.get(move.partition) ?? new Set<NodeId>();
      const sources = move.from.filter((node) => node !== self && !removed.has(node));
      const left = sources.filter((node) => !confirmed.has(node));
      if (left.length > 0) return left;
      return move.gaining.filter((node) => node !== self && !confirmed.has(node));
    };
    const describe = (): IncomingTransfer[] =>
      mine
        .filter((move) => waiting(move).length > 0)
        .map((move) => {
          const left = waiting(move);
          const down = left.filter((node) => !up.has(node));
          const why = down.length > 0 ? `source down: ${down.join(", ")}` : "comparing";
          return { partition: move.partition, waitingFor: left, why };
        });
    // Shown while the exchanges of this round run, then updated with what they confirmed.
    this.#incoming = describe();
    const peers = [...new Set(mine.flatMap(waiting))].sort();
    for (const peer of peers) {
      if (this.#closed || !up.has(peer)) continue;
      const report = await this.#exchange(peer).catch((error: unknown) => {
        this.#logger.info(
          { peer, reason: error instanceof Error ? error.message : String(error) },
          "transfer exchange failed; retried",
        );
        return undefined;
      });
      if (report === undefined || report.truncated) continue;
      for (const partition of report.partitions) {
        if ((report.perPartition.get(partition)?.differences ?? 0) > 0) continue;
        const move = mine.find((candidate) => candidate.partition === partition);
        // A gaining peer counts only once the old primaries are done: it then holds it all.
        if (move === undefined || !waiting(move).includes(peer)) continue;
        let confirmed = this.#confirmed.get(partition);
        if (confirmed === undefined) this.#confirmed.set(partition, (confirmed = new Set()));
        confirmed.add(peer);
      }
    }
    const complete = mine.filter((move) => waiting(move).length === 0);
    this.#incoming = describe();
    if (complete.length > 0) {
      const partitions = complete.map((move) => move.partition);
      await this.#metadata.update((current) => markTransferred(current, partitions));
      this.#logger.info({ partitions, version: layout.version }, "partitions transferred here");
    }
    const before = this.#metadata.current.layout.version;
    const after = await this.#metadata.update(retireIfComplete);
    if (after.layout.version !== before) {
      this.#logger.info({ version: after.layout.version }, "membership change complete");
    }
  }

  /** The moving partitions of the current change whose first gaining node is this one. */
  #movesConfirmedBySelf(): PartitionMove[] {
    const previous = this.#view.previousRing;
    if (previous === undefined) return [];
    const plan = planTransition({
      previous,
      next: this.#view.ring,
      n: this.#view.layout.targetN,
    });
    const self = this.#view.self;
    return plan.moves.filter((move) => [...move.gaining].sort()[0] === self);
  }
}

/** True when `partition` is recorded transferred for the current layout. */
function transferDone(metadata: ClusterMetadata, partition: number): boolean {
  const { layout, progress } = metadata;
  return progress.version === layout.version && progress.done.includes(partition);
}
