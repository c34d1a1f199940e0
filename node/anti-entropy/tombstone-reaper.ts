// Coordinated tombstone reaping (DESIGN §4 "Delete"; Riak's delete_mode and reaper, without
// its fire-and-forget reaps). Each node indexes its tombstone-only keys as they are written.
// The first live primary of a partition reaps its keys: once the grace period has passed, every
// member is up and no node holds hints, it checks that every primary holds the very same
// tombstone, then asks each to remove it only if unchanged (AntiEntropy.Reap), and removes its
// own. The rules and the round's plan live in node/core/tombstones.ts; this file gathers the
// facts and talks to peers through a ReapPort (gRPC in production: reap-client.ts). All time
// comes from the injected clock.

import type { NodeId } from "../core/node-id.js";
import type { Ring } from "../core/ring.js";
import { dvvEquals, type DvvSet } from "../core/dvv.js";
import { encodeObject } from "../core/object-codec.js";
import { decodeObject } from "../core/object-decode.js";
import { partitionOfKey } from "../core/key-hash.js";
import { KvError } from "../core/errors.js";
import { DEFAULT_LIMITS, writeLifeMs } from "../core/limits.js";
import {
  agreedKeys,
  heldLongEnough,
  planReapRound,
  reapBlocker,
  tombstoneSince,
} from "../core/tombstones.js";
import { parseStorageKeyString, storageKeyString } from "../storage/storage-key.js";
import type { Clock } from "../clock.js";
import type { Replica } from "../replica.js";
import type { HintStore } from "../hints/hint-store.js";
import type { Logger } from "../logger.js";
import type { Counters } from "./aae-stats.js";
import type { PrimariesOf } from "./exchange-schedule.js";

/** Keys per Reap message. */
export const REAP_KEYS_PER_MESSAGE_MAX = 256;

/** How reaping runs. */
export interface ReapOptions {
  /** A tombstone is reaped no sooner than this after its delete (DESIGN §4: 3 s). */
  readonly graceMs: number;
  /** How often a node looks for tombstones to reap. */
  readonly intervalMs: number;
  /** Keys one round reaps at most; the rest wait for the next round. */
  readonly keysPerRoundMax: number;
  /**
   * How long a node ignores stale copies of a key it reaped: longer than any request can stay
   * in flight (Limits.requestTimeoutMsMax), so a late replica write cannot bring it back.
   */
  readonly guardMs: number;
  /**
   * How long every primary, the leader of a key's reaping first, must have held its tombstone,
   * on its own monotonic clock: a write's life (limits.ts writeLifeMs, 65 s by default), so
   * that no copy of a write the tombstone supersedes is still on its way to a spare, where no
   * guard would answer it and the reaper's check of hints could not see it yet (simulation seed
   * 26934), nor a repair that carries one to a primary.
   */
  readonly heldMsMin: number;
  /** Deadline of each Reap and Status call to a peer. */
  readonly callTimeoutMs: number;
  /**
   * Test-only breakage, never set in production: the simulation's `reap-while-down` mutation,
   * which leaves the members this node believes down (and their hints) out of the rule of
   * reaping, to show that the simulation catches the deleted writes that come back.
   */
  readonly reapWhileDown: boolean;
}

export const DEFAULT_REAP_OPTIONS: ReapOptions = Object.freeze({
  graceMs: 3_000,
  intervalMs: 5_000,
  keysPerRoundMax: 4_096,
  guardMs: 120_000,
  heldMsMin: writeLifeMs(DEFAULT_LIMITS),
  callTimeoutMs: 5_000,
  reapWhileDown: false,
});

/** What the reaper needs of the cluster view (ClusterView in production). */
export interface ReaperView {
  readonly self: NodeId;
  readonly ring: Pick<Ring, "nodes" | "partitionCount">;
  /** During a membership change, the layout version moving data; nothing is reaped then. */
  transitionOf?(): number | undefined;
  /** The layout version this node follows; a round needs every member to follow the same. */
  layoutVersion?(): number;
  /** Nodes of the current ring and, during a membership change, the previous; sorted. */
  ringNodes?(): readonly NodeId[];
  /** The members this node believes up, itself included. */
  upNodes(): ReadonlySet<NodeId>;
  /** Peers whose traffic is dropped by fault injection. */
  droppedPeers(): readonly NodeId[];
}

/** A tombstone as a Reap call names it: the object every primary must hold unchanged. */
export interface ReapKey {
  readonly bucket: string;
  readonly key: Uint8Array;
  /** The encoded object (object-codec.ts). */
  readonly object: Uint8Array;
}

/** One Reap call (AntiEntropy.Reap): check the keys' copies, or with `remove` reap them. */
export interface ReapRequest {
  readonly remove: boolean;
  readonly keys: readonly ReapKey[];
}

/** The answer to a Reap call: per key, in order, whether the copy equals (and was reaped). */
export interface ReapAnswer {
  readonly equal: boolean[];
}

/**
 * How the reaper reaches its peers: Admin.Status and AntiEntropy.Reap in production
 * (reap-client.ts). Deadlines are this node's wall-clock times, as gRPC deadlines are.
 */
export interface ReapPort {
  /**
   * What `node`'s Status reports: the hints it holds, summed over all its targets, plus the
   * partitions it handed over in a membership change and has not dropped yet; and the layout
   * version it follows. Rejects when it cannot be reached or does not answer by `deadlineMs`.
   */
  standing(node: NodeId, deadlineMs: number): Promise<PeerStanding>;
  /**
   * Asks `peer` which of its copies equal `keys`, one answer per key in order; with `remove`
   * it also removes those (TombstoneReaper.answer on the peer). Rejects when it cannot be
   * reached or does not answer by `deadlineMs`.
   */
  reap(peer: NodeId, request: ReapRequest, deadlineMs: number): Promise<readonly boolean[]>;
}

/** A peer's answer to the reaper's question before a round (ReapPort.standing). */
export interface PeerStanding {
  readonly hintsPending: number;
  readonly layoutVersion: number;
}

/** What the reaper needs from the node. */
export interface ReaperDeps {
  readonly view: ReaperView;
  readonly replica: Replica;
  readonly primariesOf: PrimariesOf;
  /** This node's hints; none may be pending for a round to reap. */
  readonly hints: Pick<HintStore, "targets" | "totals">;
  readonly port: ReapPort;
  /** Wall time for the grace period and call deadlines. */
  readonly clock: Clock;
  readonly counters: Counters;
  readonly logger: Logger;
  readonly options: ReapOptions;
}

interface Tombstone {
  readonly bucket: string;
  readonly key: Uint8Array;
  readonly partition: number;
  readonly sinceMs: number;
  readonly heldSinceMs: number;
}

/** What one round did. */
export interface ReapRound {
  /** Why nothing was reaped; empty when the round ran (or had nothing to do). */
  readonly blocked: string;
  readonly candidates: number;
  readonly reaped: number;
  readonly declined: number;
}

/** The tombstone index of one node, the reaping rounds it leads and the Reap calls it answers. */
export class TombstoneReaper {
  readonly #deps: ReaperDeps;
  readonly options: ReapOptions;
  readonly #tombstones = new Map<string, Tombstone>();
  #blocked = "";

  constructor(deps: ReaperDeps) {
    this.#deps = deps;
    this.options = deps.options;
  }

  /** Tombstone-only keys held here. */
  get count(): number {
    return this.#tombstones.size;
  }

  /** Why the last round could not reap; empty when it could. */
  get blocked(): string {
    return this.#blocked;
  }

  /** Every tombstone held, for a snapshot of the trees (tree-snapshot.ts). */
  forEachTombstone(visit: (id: string, partition: number, sinceMs: number) => void): void {
    for (const [id, tombstone] of this.#tombstones)
      visit(id, tombstone.partition, tombstone.sinceMs);
  }

  /** Holds a tombstone as a snapshot recorded it (`id` is storageKeyString's), held from now. */
  restore(id: string, partition: number, sinceMs: number): void {
    const { bucket, key } = parseStorageKeyString(id);
    const heldSinceMs = this.#deps.clock.monotonicMs();
    this.#tombstones.set(id, { bucket, key, partition, sinceMs, heldSinceMs });
  }

  /** Records the object now stored under a key (undefined: removed). O(1) for live objects. */
  observe(
    bucket: string,
    key: Uint8Array,
    object: DvvSet | undefined,
    id: string = storageKeyString(bucket, key),
  ): void {
    const sinceMs = object === undefined ? undefined : tombstoneSince(object);
    if (sinceMs === undefined) {
      // The common case, a live write with no tombstones held, allocates nothing.
      if (this.#tombstones.size > 0) this.#tombstones.delete(id);
      return;
    }
    // Held since it was stored as it is now: a replica stores a key only when it changed, and
    // a changed tombstone may supersede writes that began after this node got the one before
    // (a newer delete; a concurrent one, whatever its time), so the wait starts again.
    const partition = partitionOfKey(bucket, key, this.#deps.view.ring.partitionCount);
    // A copy: the key a replica put brings is a view into its whole stream message (up to
    // CALL_BATCH_BYTES_MAX), which a held tombstone would otherwise keep alive for its grace.
    const held = Uint8Array.prototype.slice.call(key);
    const heldSinceMs = this.#deps.clock.monotonicMs();
    this.#tombstones.set(id, { bucket, key: held, partition, sinceMs, heldSinceMs });
  }

  /**
   * One round: the tombstones this node leads whose grace has passed, checked on every primary
   * and removed where unchanged. Never throws for a peer's failure: the keys wait.
   */
  async round(): Promise<ReapRound> {
    const { view, primariesOf, options } = this.#deps;
    const plan = planReapRound(this.#tombstones.values(), {
      self: view.self,
      up: view.upNodes(),
      primariesOf,
      nowMs: this.#deps.clock.nowMs(),
      graceMs: options.graceMs,
      monotonicMs: this.#deps.clock.monotonicMs(),
      heldMsMin: options.heldMsMin,
      keysPerRoundMax: options.keysPerRoundMax,
    });
    const { candidates } = plan;
    if (candidates === 0) {
      this.#blocked = "";
      return { blocked: "", candidates: 0, reaped: 0, declined: 0 };
    }
    // The rule of reaping: nothing is removed while any member is down or cut off, or any
    // node holds hints: such a node may hold a copy of an older write the tombstone
    // supersedes, which would come back once the tombstone is gone. Decided once the facts
    // are in, before the first Reap call.
    const up = view.upNodes();
    const standings = await this.#standings();
    const blocked = reapBlocker({
      members: options.reapWhileDown
        ? view.ring.nodes.filter((node) => up.has(node))
        : view.ring.nodes,
      up: view.upNodes(),
      dropped: view.droppedPeers(),
      hintsPending: standings.hints,
      transitionOf: view.transitionOf?.(),
      layoutVersion: view.layoutVersion?.(),
      layoutVersions: standings.versions,
    });
    this.#setBlocked(blocked ?? "");
    if (blocked !== undefined) return { blocked, candidates, reaped: 0, declined: 0 };

    let [reaped, declined] = [0, 0];
    for (const { peers, keys } of plan.groups) {
      // The test-only breakage asks (and removes on) only the primaries it believes up.
      const asked = options.reapWhileDown ? peers.filter((peer) => up.has(peer)) : peers;
      for (let at = 0; at < keys.length; at += REAP_KEYS_PER_MESSAGE_MAX) {
        const chunk = keys.slice(at, at + REAP_KEYS_PER_MESSAGE_MAX);
        const outcome = await this.#reapChunk(asked, chunk);
        reaped += outcome.reaped;
        declined += outcome.declined;
      }
    }
    this.#deps.counters.reapsDeclined += declined;
    if (reaped > 0 || declined > 0) {
      this.#deps.logger.info({ candidates, reaped, declined }, "tombstones reaped");
    }
    return { blocked: "", candidates, reaped, declined };
  }

  /** Checks one chunk on every other primary, then removes it there and here. */
  async #reapChunk(
    peers: readonly NodeId[],
    chunk: readonly Tombstone[],
  ): Promise<{ reaped: number; declined: number }> {
    const { replica, options } = this.#deps;
    // What this node holds now; a key written since it was indexed is no candidate any more.
    const expected: { tombstone: Tombstone; object: DvvSet; wire: ReapKey }[] = [];
    for (const tombstone of chunk) {
      const object = await replica.get(tombstone.bucket, tombstone.key);
      if (object === undefined || tombstoneSince(object) === undefined) continue;
      // Changed since the plan (another delete came): held too short again.
      if (!this.#heldLongEnough(storageKeyString(tombstone.bucket, tombstone.key))) continue;
      const wire = { bucket: tombstone.bucket, key: tombstone.key, object: encodeObject(object) };
      expected.push({ tombstone, object, wire });
    }
    let agreed = expected;
    try {
      for (const peer of peers) {
        const answer = await this.#call(
          peer,
          false,
          agreed.map((entry) => entry.wire),
        );
        agreed = agreedKeys(agreed, answer);
        if (agreed.length === 0) break;
      }
      for (const peer of peers) {
        if (agreed.length === 0) break;
        // A peer whose copy changed between the check and now keeps it; the newer write it
        // carries reaches the others through anti-entropy. Removing ours regardless is safe.
        await this.#call(
          peer,
          true,
          agreed.map((entry) => entry.wire),
        );
      }
    } catch (error) {
      this.#deps.logger.info(
        { reason: error instanceof Error ? error.message : String(error) },
        "tombstone reaping stopped for this round",
      );
      return { reaped: 0, declined: 0 };
    }
    let reaped = 0;
    for (const { tombstone, object } of agreed) {
      if (await replica.reapIfUnchanged(tombstone.bucket, tombstone.key, object, options.guardMs)) {
        reaped += 1;
      }
    }
    this.#deps.counters.tombstonesReaped += reaped;
    return { reaped, declined: chunk.length - agreed.length };
  }

  /** Answers a peer's Reap: which local copies equal the expected tombstones (and removes). */
  async answer(request: ReapRequest): Promise<ReapAnswer> {
    if (request.keys.length > REAP_KEYS_PER_MESSAGE_MAX) {
      throw new KvError(
        "invalid-argument",
        `reap: ${request.keys.length} keys in one message, at most ${REAP_KEYS_PER_MESSAGE_MAX}`,
      );
    }
    const objects = request.keys.map((entry, index) => {
      const decoded = decodeObject(entry.object);
      if (!decoded.ok) {
        throw new KvError(
          "invalid-argument",
          `reap: object ${index} is malformed: ${decoded.reason}`,
        );
      }
      if (tombstoneSince(decoded.object) === undefined) {
        throw new KvError("invalid-argument", `reap: object ${index} holds a live value`);
      }
      return decoded.object;
    });
    const { replica, options } = this.#deps;
    const equal: boolean[] = [];
    for (const [index, entry] of request.keys.entries()) {
      const expected = objects[index]!;
      if (request.remove) {
        const reaped = await replica.reapIfUnchanged(
          entry.bucket,
          entry.key,
          expected,
          options.guardMs,
        );
        if (reaped) this.#deps.counters.tombstonesReaped += 1;
        equal.push(reaped);
      } else {
        const local = await replica.get(entry.bucket, entry.key);
        const same = local !== undefined && dvvEquals(local, expected);
        equal.push(same && this.#heldLongEnough(storageKeyString(entry.bucket, entry.key)));
      }
    }
    return { equal };
  }

  /**
   * True when this node has held the tombstone of `id` for heldMsMin: as its leader must, so
   * must every primary. A repair sent while a primary still lacked the tombstone carries the
   * value it supersedes; sent within a request's life before this answer, it may still land
   * here, or on a node whose reap guard a crash wiped.
   */
  #heldLongEnough(id: string): boolean {
    const held = this.#tombstones.get(id);
    const { clock, options } = this.#deps;
    return (
      held !== undefined && heldLongEnough(held.heldSinceMs, clock.monotonicMs(), options.heldMsMin)
    );
  }

  /** Hints pending, and layout versions, of every member that answers: this node's and peers'. */
  async #standings(): Promise<{ hints: Map<string, number>; versions: Map<string, number> }> {
    const { view, hints, port } = this.#deps;
    const pending = new Map<string, number>();
    const versions = new Map<string, number>();
    pending.set(view.self, sumHints(hints));
    const deadlineMs = this.#deadlineMs();
    await Promise.all(
      view.ring.nodes
        .filter((node) => node !== view.self)
        .map(async (node) => {
          const standing = await port.standing(node, deadlineMs).catch(() => undefined);
          if (standing === undefined) return;
          pending.set(node, standing.hintsPending);
          versions.set(node, standing.layoutVersion);
        }),
    );
    return { hints: pending, versions };
  }

  /** One Reap call to `peer`; rejects unless it answers once for every key. */
  async #call(peer: NodeId, remove: boolean, keys: readonly ReapKey[]): Promise<boolean[]> {
    const answer = await this.#deps.port.reap(peer, { remove, keys }, this.#deadlineMs());
    if (answer.length !== keys.length) {
      throw new Error(`${peer} answered ${answer.length} of ${keys.length}`);
    }
    return [...answer];
  }

  #deadlineMs(): number {
    return this.#deps.clock.nowMs() + this.#deps.options.callTimeoutMs;
  }

  #setBlocked(reason: string): void {
    if (reason !== this.#blocked && reason !== "") {
      this.#deps.logger.info({ reason }, "tombstone reaping waits");
    }
    this.#blocked = reason;
  }
}

function sumHints(hints: Pick<HintStore, "targets" | "totals">): number {
  let count = 0;
  for (const target of hints.targets()) count += hints.totals(target).count;
  return count;
}
