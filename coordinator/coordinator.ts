// The request shell (Riak's put/get FSMs): computes the preference list, fans requests out to
// replicas with the client's deadline, feeds every reply to the pure quorum machines in
// coordinator/core/, answers as soon as they decide, and fires read repair afterwards
// without holding up the reply.

import type { NodeId } from "../node/core/node-id.js";
import type { Dot } from "../node/core/causal-context.js";
import {
  type DvvSet,
  EMPTY_DVV_SET,
  sync,
  dvvEquals,
  liveValues,
  retract,
} from "../node/core/dvv.js";
import { growthExcess, limitRefusal, objectSize } from "../node/core/object-limit.js";
import { versionDigest } from "../node/core/version-digest.js";
import { KvError } from "../node/core/errors.js";
import type { Limits } from "../node/core/limits.js";
import type { Replica } from "../node/replica.js";
import type { Logger } from "../node/logger.js";
import { PreferenceLists, type KeyPreferenceList, type ListView } from "./preference-lists.js";
import { widenQuorum } from "./core/quorum-options.js";
import { PutQuorum, type PutVerdict, type QuorumTarget } from "./core/put-quorum.js";
import { mustSync, type TransitionGroups } from "./core/transition-groups.js";
import { GetQuorum, type GetVerdict, type ReadReply } from "./core/get-quorum.js";
import { planReadRepair } from "./core/read-repair.js";
import { sendToSlot, type WriteSlotDeps } from "./write-slot.js";
import type { OwnCopy, ReplicaTransport } from "./replica-transport.js";
import { SYSTEM_CLOCK, monotonicDeadline, wallDeadline, type Clock } from "../node/clock.js";
import { DeadlineTimers } from "../node/deadline-timers.js";
import { WriteCopies } from "./write-copies.js";
import { holdBytes, holdCopy } from "./read-budget.js";
import {
  failure,
  hintsFullMessage,
  isEmptyContext,
  overLimitMayApply,
  tooFewMessage,
} from "./coordinator-errors.js";
import type { GetCommand, PutCommand, PutOutcome } from "./coordinator-commands.js";
import type { HintStore } from "../node/hints/hint-store.js";

/**
 * What the coordinator needs to know about the cluster: who it is, the rings, and which nodes
 * are believed up. node/cluster-view.ts provides it in production; the simulation its own.
 */
export interface CoordinatorView extends ListView {
  readonly self: NodeId;
}

/** Counters for status and tests. */
export interface CoordinatorStats {
  readRepairs: number;
  readRepairsSkipped: number;
}

/** The fallbacks of a list that has none, shared (never written to). */
const NO_FALLBACKS: ReadonlyMap<string, NodeId> = new Map();

/** Coordinates puts and gets for the node it runs on. */
export class Coordinator {
  readonly #view: CoordinatorView;
  readonly #replica: Replica;
  readonly #transport: ReplicaTransport;
  readonly #limits: Limits;
  readonly #logger: Logger;
  readonly #clock: Clock;
  /** Every quorum's deadline, on the monotonic clock, under one timer. */
  readonly #deadlines: DeadlineTimers;
  #readRepairsInFlight = 0;
  readonly #readRepairEnabled: boolean;
  readonly #hints: HintStore | undefined;
  readonly #lists: PreferenceLists;
  readonly #sloppyAllowed: boolean;
  readonly #slotDeps: WriteSlotDeps;
  readonly stats: CoordinatorStats = { readRepairs: 0, readRepairsSkipped: 0 };

  constructor(options: {
    readonly view: CoordinatorView;
    readonly replica: Replica;
    readonly transport: ReplicaTransport;
    readonly limits: Limits;
    readonly logger: Logger;
    /** Time and timers; the system clock unless a simulation supplies one. */
    readonly clock?: Clock;
    /** Read repair after gets (default on); off to test and measure anti-entropy alone. */
    readonly readRepair?: boolean;
    /** The hint store; without it this node cannot stand in for a primary. */
    readonly hints?: HintStore;
    /** Hinted handoff and sloppy quorum (default on); off to test anti-entropy alone. */
    readonly hintedHandoff?: boolean;
  }) {
    this.#sloppyAllowed = options.hintedHandoff ?? true;
    this.#lists = new PreferenceLists(options.view, this.#sloppyAllowed);
    this.#hints = options.hints;
    this.#readRepairEnabled = options.readRepair ?? true;
    this.#view = options.view;
    this.#replica = options.replica;
    this.#transport = options.transport;
    this.#limits = options.limits;
    this.#logger = options.logger;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#deadlines = new DeadlineTimers(this.#clock, "monotonic");
    this.#slotDeps = {
      transport: this.#transport,
      clock: this.#clock,
      limits: this.#limits,
      logger: this.#logger,
      sloppyAllowed: this.#sloppyAllowed,
    };
  }

  /** The key's preference list (coordinator/preference-lists.ts); writes' by default. */
  preferenceList(
    bucket: string,
    key: Uint8Array,
    n: number,
    sloppy = true,
    use: "read" | "write" = "write",
  ): KeyPreferenceList {
    return this.#lists.of(bucket, key, n, sloppy, use);
  }

  /** True when this node is one of the key's n primaries (its copy is not a fallback copy). */
  isPrimaryOf(bucket: string, key: Uint8Array, n: number): boolean {
    return this.preferenceList(bucket, key, n).primaries.includes(this.#view.self);
  }

  /** Reads a key at quorum r/pr; resolves with the merged object (undefined: not found). */
  async get(command: GetCommand): Promise<DvvSet | undefined> {
    const { targets } = this.#targets(command, "read");
    if (targets.length < command.quorum.r) {
      const message = tooFewMessage("read", targets, command.quorum.n, "r", command.quorum.r);
      throw new KvError("unavailable", message);
    }
    const { bucket, key } = command;
    // On the monotonic clock from here: a wall-clock step must not move it (node/clock.ts).
    const deadlineMs = monotonicDeadline(this.#clock, command.deadlineMs);
    const toWall = (): number => wallDeadline(this.#clock, deadlineMs);
    const self = this.#view.self;
    // A digest read when this node holds a copy: read it first, then send its digest, so that a
    // replica holding the same version answers "same" instead of sending the object back.
    // The local copy is held before any replica is asked: refused, the read ends here, and the
    // copy is dropped before the next read makes another. Its digest is in hand before any
    // replica is asked, so no promise per target waits for it (issue 16: fewer promise turns).
    let localRead: Promise<ReadReply<DvvSet>> | undefined;
    let own: OwnCopy | undefined;
    if (targets.some((target) => target.node === self)) {
      // Its stored size is held before it is read, so a burst of gets of a large object is
      // refused without reading a copy for each (240 gets of 8 MiB grew a node by 1.2 GiB).
      const estimate = this.#replica.storedBytes(bucket, key) ?? 0;
      const early = holdBytes(command, estimate);
      if (early !== undefined) throw new KvError("overloaded", early);
      const reply = await this.#transport.get(self, bucket, key, toWall());
      const refused = holdCopy(command, reply, undefined, estimate);
      if (refused !== undefined) throw new KvError("overloaded", refused);
      localRead = Promise.resolve(reply);
      if (reply.ok && reply.object !== undefined) {
        own = { object: reply.object, digest: versionDigest(bucket, key, reply.object) };
      }
    }
    const quorum = new GetQuorum<DvvSet>({ config: command.quorum, targets, merge: sync });
    const verdict = await this.#drive(quorum, targets, deadlineMs, {
      send: (target) => {
        const node = target.node as NodeId;
        const read =
          node === self && localRead !== undefined
            ? localRead
            : this.#transport.get(node, bucket, key, toWall(), own);
        return read.then((reply) => {
          // A reply after the deadline fired is too late to count.
          if (quorum.complete) return;
          const refused = node === self ? undefined : holdCopy(command, reply, own);
          quorum.onReply(node, refused === undefined ? reply : { ok: false, error: refused });
        });
      },
      whenComplete: () => {
        if (this.#readRepairEnabled) this.#readRepair(command, quorum);
      },
    });
    if (verdict.status === "ok") return verdict.object;
    throw failure(verdict);
  }

  /** Coordinates a write: update locally, replicate to the other targets, answer at w/dw/pw. */
  async put(command: PutCommand): Promise<PutOutcome> {
    const widened = this.#targets(command, "write");
    const { targets, standsInFor, spares, groups } = widened;
    // On the monotonic clock from here: a wall-clock step must not move it (node/clock.ts), or a
    // silent primary's copy could reach a spare after a delete and the reap of its tombstone.
    const deadlineMs = monotonicDeadline(this.#clock, command.deadlineMs);
    // During a membership change the quorum counts old and new primaries alike: w + widenBy.
    command = widened.quorum === command.quorum ? command : { ...command, quorum: widened.quorum };
    const self = this.#view.self;
    if (!targets.some((target) => target.node === self)) {
      throw new KvError(
        "unavailable",
        `node ${self} is not a replica of this key; retry elsewhere`,
        { notApplied: true },
      );
    }
    const { n, w } = command.quorum;
    // During a change, w acks from the old primaries' and the new ones' own members also do.
    if (targets.length < (groups?.asked.w ?? w)) {
      throw new KvError("unavailable", tooFewMessage("write", targets, n, "w", w), {
        notApplied: true,
      });
    }
    const quorum = new PutQuorum({ config: command.quorum, targets, groups });
    if (quorum.verdict.status === "failed") throw failure(quorum.verdict, { notApplied: true });
    if (command.ifNoneMatch) await this.#checkAbsent(command);
    const durable = command.quorum.dw > 0;
    const local = await this.#coordinateLocally(command, standsInFor.get(self), durable);
    quorum.onReply(self, { ok: true, durable: local.durable });
    // The others sync before answering only when dw still needs durable acks from them (per
    // primary set during a change: mustSync). With dw = 1 and the local copy durable, their ack
    // after the append counts for w; their write queue syncs it within its interval.
    const others = targets.filter((target) => target.node !== self);
    const syncs = mustSync(groups, command.quorum.dw, self, local.durable, targets);
    const copies = new WriteCopies();
    const verdict = await this.#drive(quorum, others, deadlineMs, {
      send: (target) =>
        sendToSlot(
          this.#slotDeps,
          command,
          target.node as NodeId,
          standsInFor.get(target.node),
          spares,
          {
            object: local.object,
            durable: syncs(target.node),
            copies,
            deadlineMs,
          },
        ).then((reply) => {
          if (!quorum.complete) quorum.onReply(target.node, reply);
        }),
      whenComplete: () => undefined,
    });
    if (verdict.status === "ok") return { object: local.object, dot: local.dot };
    if (verdict.status === "failed" && verdict.reason === "over-limit") {
      // Only a blind write can be taken back exactly: one with a context also superseded what
      // its context covered, here and at every node that stored it, and removing its sibling
      // would leave those superseded, turning "replace" into "delete". So it stands, and the
      // client hears that it may have been applied.
      if (!isEmptyContext(command.context)) throw overLimitMayApply(verdict.message);
      await this.#retract(command, local.dot, copies);
    }
    throw failure(verdict);
  }

  /**
   * Takes back a write refused at its limit (docs/ARCHITECTURE.md, "The sibling limit"): the
   * local copy first and durably, before the client hears "not applied", so the retraction
   * survives a crash of this node; then every other node that stored the write, now or when
   * its late ack arrives, best effort (anti-entropy and read repair carry the retraction from
   * this node's copy to any it misses). The message is the smallest object that carries the
   * retraction: no siblings and a context of the one dot, so merging it removes that write
   * and adds nothing. If the local retraction fails, the write is not known to be gone, so the
   * client is told the outcome is unknown instead.
   */
  async #retract(command: PutCommand, dot: Dot, copies: WriteCopies): Promise<void> {
    const { bucket, key } = command;
    let stored: DvvSet | undefined;
    try {
      stored = await this.#replica.retract(bucket, key, dot, { durable: true });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new KvError(
        "storage-failed",
        `write refused over the limit, but taking it back failed, so it may still appear: ${reason}`,
        { cause: error },
      );
    }
    const retraction = retract(EMPTY_DVV_SET, dot);
    const send = (node: NodeId, hintFor: string): void => {
      const deadlineMs = this.#clock.nowMs() + this.#limits.requestTimeoutMsDefault;
      // Not a coordinated write (which a replica over its limit would refuse): a repair.
      void this.#transport
        .put(node, bucket, key, retraction, {
          durable: false,
          reason: "REPLICA_PUT_REASON_READ_REPAIR",
          deadlineMs,
          hintFor,
        })
        .then((reply) => {
          if (!reply.ok) this.#logger.info({ node, error: reply.error }, "retraction not stored");
        });
    };
    copies.retractWith((copy) => send(copy.node, copy.hintFor ?? ""));
    if (stored === undefined) {
      // The local copy went while the put ran: a fallback's, handed off to its primary, which
      // may now hold the write. Best effort, as for the other copies.
      const self = this.#view.self;
      const { primaries } = this.preferenceList(bucket, key, command.quorum.n, command.sloppy);
      for (const node of primaries) if (node !== self) send(node, "");
    }
  }

  /**
   * The local write of a coordinator; a fallback coordinator records its hint first, in the
   * key's turn (Replica.merge's `first`: hint delivery never sees the hint without its copy).
   */
  async #coordinateLocally(
    command: PutCommand,
    hintFor: NodeId | undefined,
    durable: boolean,
  ): Promise<{ object: DvvSet; dot: Dot; durable: boolean }> {
    const check = (object: DvvSet, before: DvvSet | undefined): void =>
      this.#checkLimits(object, before);
    let first: (() => Promise<void>) | undefined;
    if (hintFor !== undefined) {
      const hints = this.#hints;
      if (hints === undefined) {
        throw new KvError("unavailable", `node ${this.#view.self} keeps no hints`);
      }
      const bytes = command.version.value.length;
      if (!hints.hasRoom(hintFor, bytes)) {
        throw new KvError("too-large", hintsFullMessage(this.#view.self, hintFor, hints));
      }
      first = () => hints.add(hintFor, command.bucket, command.key, bytes);
    }
    const { bucket, key, context, version } = command;
    return this.#replica.coordinate(bucket, key, context, version, { durable, check, first });
  }

  #targets(
    command: GetCommand,
    use: "read" | "write",
  ): {
    targets: QuorumTarget[];
    standsInFor: ReadonlyMap<string, NodeId>;
    spares: NodeId[];
    quorum: GetCommand["quorum"];
    /** During a membership change, the old and new primaries for the put quorum. */
    groups: TransitionGroups | undefined;
  } {
    const { bucket, key, quorum: asked, sloppy } = command;
    const list = this.preferenceList(bucket, key, asked.n, sloppy, use);
    if (list.primaries.length < command.quorum.n) {
      const nodes = this.#view.ring.nodes.length;
      throw new KvError(
        "unavailable",
        `n=${command.quorum.n} needs ${command.quorum.n} nodes but the cluster has ${nodes}; ` +
          `ask for n=${nodes} or add nodes`,
      );
    }
    const quorum = widenQuorum(command.quorum, list.widenBy ?? 0, list.primaries.length);
    const groups =
      list.primarySets === undefined || quorum === command.quorum
        ? undefined
        : { sets: list.primarySets, asked: command.quorum };
    // Most lists have no fallback: no map for them (a read never uses it). The spares are a
    // new array each time, since a write's slots take from it.
    let fallbacks: Map<string, NodeId> | undefined;
    const targets: QuorumTarget[] = [];
    for (const target of list.targets) {
      if (target.role === "fallback") {
        (fallbacks ??= new Map()).set(target.node, target.standsInFor);
      }
      targets.push({ node: target.node, primary: target.role === "primary" });
    }
    const spares = list.spares.length === 0 ? [] : [...list.spares];
    return { targets, standsInFor: fallbacks ?? NO_FALLBACKS, spares, quorum, groups };
  }

  /**
   * Sends one request per target and resolves with the first decided verdict, or the timeout
   * verdict at the deadline (on the monotonic clock). `whenComplete` runs once every reply is in
   * or the deadline has passed: the quorum machine keeps counting replies after it has answered.
   */
  #drive<V extends PutVerdict | GetVerdict<DvvSet>>(
    quorum: { readonly verdict: V; readonly complete: boolean; onTimeout(): V },
    targets: readonly QuorumTarget[],
    deadlineMs: number,
    steps: { send: (target: QuorumTarget) => Promise<void>; whenComplete: () => void },
  ): Promise<V> {
    return new Promise<V>((resolve) => {
      let answered = false;
      let finished = false;
      const check = (): void => {
        const verdict = quorum.verdict;
        if (!answered && verdict.status !== "pending") {
          answered = true;
          resolve(verdict);
        }
        if (!finished && quorum.complete) {
          finished = true;
          this.#deadlines.delete(deadline);
          steps.whenComplete();
        }
      };
      const deadline = this.#deadlines.add(deadlineMs, () => {
        if (!quorum.complete) quorum.onTimeout();
        check();
      });
      for (const target of targets) {
        steps.send(target).then(check, (error: unknown) => {
          // Transports resolve with failure replies; a rejection here is a bug in this process.
          this.#logger.error({ err: error, node: target.node }, "replica call failed unexpectedly");
        });
      }
      check();
    });
  }

  /** if_none_match: refuse the write when a read at r finds a live value (as Riak does). */
  async #checkAbsent(command: PutCommand): Promise<void> {
    const existing = await this.get(command);
    if (existing !== undefined && liveValues(existing).length > 0) {
      throw new KvError("precondition-failed", "if_none_match failed: the key already has a value");
    }
  }

  /**
   * Sibling and size limits of DESIGN section 7, applied before a coordinated write lands here
   * (each replica applies them again to its own merge: node/replica-server.ts).
   */
  #checkLimits(object: DvvSet, before: DvvSet | undefined): void {
    const size = objectSize(object);
    const limits = this.#limits;
    const excess = growthExcess(object, before, limits);
    if (excess !== undefined) throw limitRefusal(excess, this.#view.self);
    if (size.siblings > limits.siblingsWarn || size.bytes > limits.objectBytesWarn) {
      this.#logger.warn({ siblings: size.siblings, bytes: size.bytes }, "object near its limits");
    }
  }

  /** Read repair (DESIGN section 4): send the merge to every stale or missing primary. */
  #readRepair(command: GetCommand, quorum: GetQuorum<DvvSet>): void {
    const plan = planReadRepair({ replies: quorum.replies(), merge: sync, same: dvvEquals });
    if (plan.object === undefined || plan.targets.length === 0) return;
    for (const node of plan.targets) {
      if (this.#readRepairsInFlight >= this.#limits.readRepairsInFlightMax) {
        this.stats.readRepairsSkipped += 1;
        continue;
      }
      this.#readRepairsInFlight += 1;
      this.stats.readRepairs += 1;
      const deadlineMs = this.#clock.nowMs() + this.#limits.requestTimeoutMsDefault;
      this.#transport
        .put(node as NodeId, command.bucket, command.key, plan.object, {
          durable: false,
          reason: "REPLICA_PUT_REASON_READ_REPAIR",
          deadlineMs,
        })
        .then((reply) => {
          if (!reply.ok) this.#logger.info({ node, error: reply.error }, "read repair failed");
        })
        .finally(() => {
          this.#readRepairsInFlight -= 1;
        });
    }
  }
}
