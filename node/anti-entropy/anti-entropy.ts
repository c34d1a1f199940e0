// Active anti-entropy of one node (DESIGN §5, Riak Tictac AAE): owns the partition trees (kept
// current by the replica's write listener, rebuilt from storage at start-up in the background),
// serves the AntiEntropy service, and opens an exchange with each of its peers in turn so that
// every pair of replicas of a partition is compared once per interval. Peers are reached only
// through ports (an ExchangeOpener for exchanges, a ReapPort for reaping) and time only through
// the injected clock, so it runs without sockets (the deterministic simulation, unit tests).

import type * as grpc from "@grpc/grpc-js";
import type { AaeStatusResponse } from "../../proto/generated/dkv/v1/AaeStatusResponse.js";
import type { NodeId } from "../core/node-id.js";
import type { ClusterView } from "../cluster-view.js";
import { yieldTo, type Clock } from "../clock.js";
import type { RemoveListener, Replica, WriteListener } from "../replica.js";
import type { Logger } from "../logger.js";
import { KvError, isKvError } from "../core/errors.js";
import { toServiceError } from "../wire/grpc-status.js";
import { PartitionTrees } from "./partition-trees.js";
import {
  AAE_MESSAGE_LIMITS,
  DEFAULT_AAE_OPTIONS,
  checkAntiEntropyOptions,
  type AntiEntropyOptions,
} from "./aae-options.js";
import { AaeStats } from "./aae-stats.js";
import { ExchangeAnswerer } from "./exchange-answerer.js";
import { antiEntropyHandlers, countedServiceDefinition } from "./exchange-server.js";
import { runExchange, type ExchangeReport } from "./exchange.js";
import type { ExchangeOpener } from "./exchange-tally.js";
import {
  exchangePeers,
  exchangeSpacingMs,
  partitionsReplicatedBy,
  type PrimariesOf,
} from "./exchange-schedule.js";
import { TokenBucket } from "./token-bucket.js";
import { SnapshotBuilder, openSnapshot } from "./tree-snapshot.js";
import type { TreeSnapshotPort } from "./tree-snapshot-file.js";
import type { HintStore } from "../hints/hint-store.js";
import {
  DEFAULT_REAP_OPTIONS,
  TombstoneReaper,
  type ReapOptions,
  type ReapPort,
  type ReaperView,
} from "./tombstone-reaper.js";

/** What anti-entropy needs from the node. */
export interface AntiEntropyDeps {
  /** Who this node is, the ring, who is up (ClusterView in production). */
  readonly view: ReaperView;
  readonly replica: Replica;
  /** The primaries of a partition: the preference list's first n (the bucket default). */
  readonly primariesOf: PrimariesOf;
  readonly logger: Logger;
  /** Opens exchanges with peers (grpcExchangeOpener in production). */
  readonly exchanges: ExchangeOpener;
  /** The reaper's calls to peers (GrpcReapPort in production). */
  readonly reaps: ReapPort;
  /** Every timer, sleep and timestamp of the schedule, the exchanges and the reaper. */
  readonly clock: Clock;
  readonly options?: Partial<AntiEntropyOptions>;
  /** This node's hints: tombstones are reaped only while no node holds any. */
  readonly hints: Pick<HintStore, "targets" | "totals">;
  readonly reap?: Partial<ReapOptions>;
  /**
   * True for a partition that the scheduled exchanges with `peer` leave alone: one that moves
   * in the membership change under way to this node or to `peer`, which ownership transfer
   * streams and then confirms with exchanges of its own (node/membership/transfer-loop.ts).
   */
  readonly leftToTransfer?: (partition: number, peer: NodeId) => boolean;
  /**
   * Where the trees are kept between a clean stop and the next start (treeSnapshotFile in
   * production); without it, a start always rebuilds them from storage.
   */
  readonly snapshots?: TreeSnapshotPort;
}

/** The anti-entropy component of one node. */
export class AntiEntropy {
  readonly trees: PartitionTrees;
  readonly stats = new AaeStats();
  readonly options: AntiEntropyOptions;
  readonly #deps: AntiEntropyDeps;
  readonly #clock: Clock;
  readonly #limiter: TokenBucket;
  /** Answers the exchanges peers open (behind the Exchange stream, or a simulated network). */
  readonly answerer: ExchangeAnswerer;
  /** Indexes tombstones, leads reaping rounds and answers peers' Reap calls. */
  readonly reaper: TombstoneReaper;
  #cancelReapTimer: (() => void) | undefined;
  readonly #abort = new AbortController();
  readonly #calls = new Set<grpc.ServerDuplexStream<never, never>>();
  #cancelTimer: (() => void) | undefined;
  #work: Promise<unknown> = Promise.resolve();
  /** Wall time the trees were last built by reading every object (kept across restarts). */
  #builtAtMs = 0;
  #turn = 0;

  constructor(deps: AntiEntropyDeps) {
    this.options = { ...DEFAULT_AAE_OPTIONS, ...deps.options };
    checkAntiEntropyOptions(this.options);
    this.#deps = deps;
    this.#clock = deps.clock;
    this.trees = new PartitionTrees(deps.view.ring.partitionCount, this.options.shape);
    this.#limiter = new TokenBucket(
      this.options.repairKeysPerSecond,
      AAE_MESSAGE_LIMITS.objectsPerMessageMax,
      this.#clock,
    );
    this.answerer = new ExchangeAnswerer({
      self: deps.view.self,
      trees: this.trees,
      replica: deps.replica,
      primariesOf: deps.primariesOf,
    });
    const reap = { ...DEFAULT_REAP_OPTIONS, ...deps.reap };
    if (!(Number.isFinite(reap.graceMs) && reap.graceMs >= 0)) {
      throw new Error(`tombstone grace must be >= 0 ms, got ${reap.graceMs}`);
    }
    this.reaper = new TombstoneReaper({
      view: deps.view,
      replica: deps.replica,
      primariesOf: deps.primariesOf,
      hints: deps.hints,
      port: deps.reaps,
      clock: deps.clock,
      counters: this.stats.counters,
      logger: deps.logger,
      options: reap,
    });
  }

  /** Hook this on Replica.onWrite before the node takes requests: O(1) tree maintenance. */
  readonly writeListener: WriteListener = (bucket, key, _before, after, id) => {
    const startedMs = this.#clock.monotonicMs();
    this.trees.apply(bucket, key, after, id);
    this.reaper.observe(bucket, key, after, id);
    this.stats.counters.treeMaintenanceUs += (this.#clock.monotonicMs() - startedMs) * 1000;
  };

  /** Hook this on Replica.onRemove: a removed copy (a handed-off fallback's) leaves the trees. */
  readonly removeListener: RemoveListener = (bucket, key, _before, id) => {
    this.trees.apply(bucket, key, undefined, id);
    this.reaper.observe(bucket, key, undefined, id);
  };

  /**
   * Registers the AntiEntropy service (Exchange, Status, Reap) on the node's server; `view`
   * refuses calls from dropped peers and non-members.
   */
  addToServer(server: grpc.Server, view: ClusterView): void {
    const handlers = antiEntropyHandlers({
      answerer: this.answerer,
      view,
      logger: this.#deps.logger,
      status: () => this.status(),
      reap: (request) => this.reaper.answer(request),
      calls: this.#calls as Set<never>,
    });
    server.addService(countedServiceDefinition(this.stats.counters), handlers);
  }

  /**
   * Rebuilds the trees from storage in the background, then starts the exchange schedule with
   * an exchange at once: a node that just started is the one most likely to have missed writes,
   * and an exchange between replicas in sync costs only their roots.
   */
  start(): void {
    this.#work = this.#rebuild().then(() => {
      this.#schedule(0);
      this.#scheduleReap();
    });
  }

  async #rebuild(): Promise<void> {
    const { replica, logger } = this.#deps;
    const signal = this.#abort.signal;
    if (await this.#restore()) return;
    while (!signal.aborted && !this.trees.ready) {
      const startedMs = this.#clock.monotonicMs();
      try {
        const report = await this.trees.rebuild(replica.storage.entries(), {
          chunkEntries: this.options.rebuildChunkEntries,
          pause: () => yieldTo(this.#clock),
          stopped: () => signal.aborted,
          observe: (bucket, key, object, id) => this.reaper.observe(bucket, key, object, id),
        });
        const elapsedMs = Math.round(this.#clock.monotonicMs() - startedMs);
        this.#builtAtMs = this.#clock.nowMs();
        logger.info(
          { ...report, keys: this.trees.keyCount, elapsedMs },
          "anti-entropy trees built",
        );
      } catch (error) {
        logger.error({ err: error }, "anti-entropy tree rebuild failed; retrying");
        await this.#clock.sleep(this.#spacingMs(), signal).catch(() => undefined);
      }
    }
  }

  /**
   * Loads the trees from the snapshot the last clean stop left, when there is one and the
   * storage is as that stop left it; true when the trees are ready then. Writes made since the
   * start win over the snapshot's entries, as over a rebuild's. Any doubt means a rebuild.
   */
  async #restore(): Promise<boolean> {
    const { snapshots, replica, logger } = this.#deps;
    if (snapshots === undefined) return false;
    const startedMs = this.#clock.monotonicMs();
    let bytes: Buffer | undefined;
    try {
      bytes = await snapshots.take();
    } catch (error) {
      logger.warn({ err: error }, "anti-entropy snapshot unreadable; rebuilding from storage");
      return false;
    }
    if (bytes === undefined) return false;
    const state = replica.storage.stateToken?.("opened");
    const opened =
      state === undefined
        ? ({ ok: false, reason: "the storage engine keeps no state token" } as const)
        : openSnapshot(bytes, {
            partitionCount: this.trees.partitionCount,
            shape: this.trees.shape,
            state,
          });
    if (!opened.ok) {
      logger.info({ reason: opened.reason }, "anti-entropy snapshot not used; rebuilding");
      return false;
    }
    const { reader } = opened;
    // Past the expiry (or from a clock far ahead) the rebuild reads every object again, which
    // also checks every record: a snapshot must not keep a node from ever doing that.
    const ageMs = this.#clock.nowMs() - reader.builtAtMs;
    if (Math.abs(ageMs) > this.options.treeExpiryMs) {
      const reason = `trees built ${Math.round(ageMs / 3_600_000)} h ago, expiry ${this.options.treeExpiryMs / 3_600_000} h`;
      logger.info({ reason }, "anti-entropy snapshot not used; rebuilding");
      return false;
    }
    let superseded = 0;
    const visitor = {
      key: (id: string, high: number, low: number, partition: number, leaf: number): void => {
        if (!this.trees.restoreKey(id, high, low, partition, leaf)) superseded += 1;
      },
      tombstone: (id: string, partition: number, sinceMs: number): void => {
        if (!this.trees.writtenBeforeReady(id)) this.reaper.restore(id, partition, sinceMs);
      },
    };
    // In chunks, as a rebuild: requests keep being served while a large snapshot loads.
    while (reader.next(this.options.rebuildChunkEntries, visitor)) {
      await yieldTo(this.#clock);
      if (this.#abort.signal.aborted) return true;
    }
    this.trees.markReady();
    this.#builtAtMs = reader.builtAtMs;
    logger.info(
      {
        entries: reader.keys,
        tombstones: reader.tombstones,
        superseded,
        keys: this.trees.keyCount,
        elapsedMs: Math.round(this.#clock.monotonicMs() - startedMs),
      },
      "anti-entropy trees loaded from the snapshot of the last stop",
    );
    return true;
  }

  /**
   * Keeps the trees and the tombstone index for the next start: call after the storage closed
   * cleanly (its "closed" state token names what they describe). Does nothing when the trees
   * were not ready, there is nowhere to keep them, or the storage cannot tell its state.
   */
  async saveSnapshot(): Promise<void> {
    const { snapshots, replica, logger } = this.#deps;
    const state = replica.storage.stateToken?.("closed");
    if (snapshots === undefined || state === undefined || !this.trees.ready) return;
    const startedMs = this.#clock.monotonicMs();
    const builder = new SnapshotBuilder({
      partitionCount: this.trees.partitionCount,
      shape: this.trees.shape,
      state,
      builtAtMs: this.#builtAtMs,
    });
    this.trees.forEachKey((id, high, low, partition, leaf) =>
      builder.key(id, high, low, partition, leaf),
    );
    this.reaper.forEachTombstone((id, partition, sinceMs) =>
      builder.tombstone(id, partition, sinceMs),
    );
    try {
      await snapshots.save(builder.finish());
      const elapsedMs = Math.round(this.#clock.monotonicMs() - startedMs);
      logger.info(
        { keys: this.trees.keyCount, elapsedMs },
        "anti-entropy trees kept for the next start",
      );
    } catch (error) {
      // The next start rebuilds them, as after a crash.
      logger.warn({ err: error }, "anti-entropy trees not kept for the next start");
    }
  }

  #spacingMs(): number {
    const { view } = this.#deps;
    return exchangeSpacingMs(
      this.options.intervalMs,
      exchangePeers(view.self, view.ringNodes?.() ?? view.ring.nodes).length,
    );
  }

  #schedule(delayMs: number): void {
    if (this.#abort.signal.aborted) return;
    this.#cancelTimer = this.#clock.setTimer(delayMs, () => {
      this.#work = this.#tick();
    });
  }

  /** Runs a reaping round every reap interval, one at a time. */
  #scheduleReap(): void {
    if (this.#abort.signal.aborted) return;
    const { intervalMs } = this.reaper.options;
    this.#cancelReapTimer = this.#clock.setTimer(intervalMs, () => {
      this.reaper
        .round()
        .catch((error: unknown) =>
          this.#deps.logger.warn({ err: error }, "tombstone reaping round failed"),
        )
        .finally(() => this.#scheduleReap());
    });
  }

  /** Opens the next exchange in turn, then schedules the one after. */
  async #tick(): Promise<void> {
    const startedMs = this.#clock.monotonicMs();
    const { view } = this.#deps;
    const peers = exchangePeers(view.self, view.ringNodes?.() ?? view.ring.nodes);
    const peer = peers[this.#turn % Math.max(1, peers.length)];
    this.#turn += 1;
    if (peer !== undefined) {
      try {
        await this.exchangeWith(peer);
      } catch (error) {
        this.stats.counters.exchangesFailed += 1;
        if (!this.#abort.signal.aborted) {
          const reason = error instanceof Error ? error.message : String(error);
          // A peer that cannot be reached (not started yet, just died) is routine; anything
          // else is worth a warning.
          const routine = isKvError(error) && error.code === "unavailable";
          const log = this.#deps.logger;
          const message = "anti-entropy exchange failed; retried next round";
          if (routine) log.info({ peer, reason }, message);
          else log.warn({ peer, reason }, message);
        }
      }
    }
    const spacingMs = this.#spacingMs();
    this.#schedule(Math.max(0, startedMs + spacingMs - this.#clock.monotonicMs()));
  }

  /**
   * Opens one exchange with `peer` now, over every partition both replicate (but those left to
   * ownership transfer), or over those of `only`. Resolves undefined (counted as skipped) when
   * this node's trees are not built yet, the peer is down or dropped, or the peer's trees are
   * not built; rejects when the exchange fails.
   */
  async exchangeWith(peer: NodeId, only?: readonly number[]): Promise<ExchangeReport | undefined> {
    const { view, primariesOf, replica, logger, leftToTransfer } = this.#deps;
    const shared = partitionsReplicatedBy(view.ring.partitionCount, primariesOf, [view.self, peer]);
    const wanted = only === undefined ? undefined : new Set(only);
    const partitions = shared.filter((partition) =>
      wanted === undefined ? leftToTransfer?.(partition, peer) !== true : wanted.has(partition),
    );
    const port =
      this.trees.ready && view.upNodes().has(peer) && partitions.length > 0
        ? this.#deps.exchanges.open(peer, {
            replyTimeoutMs: this.options.replyTimeoutMs,
            sink: this.stats.counters,
            signal: this.#abort.signal,
          })
        : undefined;
    if (port === undefined) {
      this.stats.counters.exchangesSkipped += 1;
      return undefined;
    }
    try {
      const context = {
        trees: this.trees,
        replica,
        options: this.options,
        limiter: this.#limiter,
        clock: this.#clock,
        signal: this.#abort.signal,
      };
      const report = await runExchange(port, context, peer, partitions);
      if (report.partitions.length === 0) {
        this.stats.counters.exchangesSkipped += 1;
        return undefined;
      }
      this.stats.recordExchange(report, this.#clock.nowMs());
      if (report.differences > 0) {
        const { differences, repaired, truncated, bytesSent, bytesReceived } = report;
        logger.info(
          { peer, differences, repaired, truncated, bytesSent, bytesReceived },
          "anti-entropy repaired",
        );
      }
      return report;
    } finally {
      port.close();
    }
  }

  /** The AntiEntropy.Status reply. */
  status(): AaeStatusResponse {
    const { view, primariesOf } = this.#deps;
    const replicated = partitionsReplicatedBy(view.ring.partitionCount, primariesOf, [view.self]);
    return {
      node_id: view.self,
      interval_ms: this.options.intervalMs,
      trees_ready: this.trees.ready,
      tree_keys: this.trees.keyCount,
      counters: this.stats.countersWire(),
      partitions: replicated.map((p) =>
        this.stats.partitionWire(p, this.trees.partitionKeyCount(p)),
      ),
      repair_keys_per_second: this.options.repairKeysPerSecond,
      tombstones: this.reaper.count,
      tombstone_grace_ms: this.reaper.options.graceMs,
      reap_blocked: this.reaper.blocked,
      process_cpu_us: processCpuUs(),
    };
  }

  /** Stops the schedule, cancels open exchanges both ways and waits for them to stop. */
  async close(): Promise<void> {
    this.#abort.abort(new KvError("unavailable", "anti-entropy is shutting down"));
    this.#cancelTimer?.();
    this.#cancelReapTimer?.();
    for (const call of this.#calls) {
      call.emit("error", toServiceError(new KvError("unavailable", "node is shutting down")));
    }
    this.#calls.clear();
    await this.#work.catch(() => undefined);
  }
}

function processCpuUs(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}
