// Coordinated tombstone reaping (DESIGN §4 "Delete"; Riak's delete_mode and reaper, without
// its fire-and-forget reaps). Each node indexes its tombstone-only keys as they are written.
// The first live primary of a partition reaps its keys: once the grace period has passed, every
// member is up and no node holds hints, it checks that every primary holds the very same
// tombstone, then asks each to remove it only if unchanged (AntiEntropy.Reap), and removes its
// own. The rules live in node/core/tombstones.ts; this file gathers the facts and talks.

import * as grpc from "@grpc/grpc-js";
import type { AaeReapRequest__Output } from "../../proto/generated/dkv/v1/AaeReapRequest.js";
import type { AaeReapResponse } from "../../proto/generated/dkv/v1/AaeReapResponse.js";
import type { AaeReapKey } from "../../proto/generated/dkv/v1/AaeReapKey.js";
import type { AntiEntropyClient } from "../../proto/generated/dkv/v1/AntiEntropy.js";
import type { StatusResponse__Output } from "../../proto/generated/dkv/v1/StatusResponse.js";
import { loadProto } from "../../proto/load-proto.js";
import type { NodeId } from "../core/node-id.js";
import { dvvEquals, type DvvSet } from "../core/dvv.js";
import { encodeObject } from "../core/object-codec.js";
import { decodeObject } from "../core/object-decode.js";
import { partitionOfKey } from "../core/key-hash.js";
import { KvError } from "../core/errors.js";
import { graceElapsed, reapBlocker, tombstoneSince } from "../core/tombstones.js";
import { storageKeyString } from "../storage/storage-key.js";
import type { ClusterView } from "../cluster-view.js";
import type { Replica } from "../replica.js";
import type { HintStore } from "../hints/hint-store.js";
import type { Logger } from "../logger.js";
import { FROM_HEADER } from "../peer-clients.js";
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
  /** Deadline of each Reap and Status call to a peer. */
  readonly callTimeoutMs: number;
}

export const DEFAULT_REAP_OPTIONS: ReapOptions = Object.freeze({
  graceMs: 3_000,
  intervalMs: 5_000,
  keysPerRoundMax: 4_096,
  guardMs: 120_000,
  callTimeoutMs: 5_000,
});

/** What the reaper needs from the node. */
export interface ReaperDeps {
  readonly view: ClusterView;
  readonly replica: Replica;
  readonly primariesOf: PrimariesOf;
  /** This node's hints; none may be pending for a round to reap. */
  readonly hints: Pick<HintStore, "targets" | "totals">;
  readonly counters: Counters;
  readonly logger: Logger;
  readonly options: ReapOptions;
  readonly now?: () => number;
}

interface Tombstone {
  readonly bucket: string;
  readonly key: Uint8Array;
  readonly partition: number;
  readonly sinceMs: number;
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
  readonly #now: () => number;
  readonly #tombstones = new Map<string, Tombstone>();
  readonly #clients = new Map<NodeId, AntiEntropyClient>();
  #blocked = "";

  constructor(deps: ReaperDeps) {
    this.#deps = deps;
    this.options = deps.options;
    this.#now = deps.now ?? Date.now;
  }

  /** Tombstone-only keys held here. */
  get count(): number {
    return this.#tombstones.size;
  }

  /** Why the last round could not reap; empty when it could. */
  get blocked(): string {
    return this.#blocked;
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
    const partition = partitionOfKey(bucket, key, this.#deps.view.ring.partitionCount);
    this.#tombstones.set(id, { bucket, key, partition, sinceMs });
  }

  /**
   * One round: the tombstones this node leads whose grace has passed, checked on every primary
   * and removed where unchanged. Never throws for a peer's failure: the keys wait.
   */
  async round(): Promise<ReapRound> {
    const { view, primariesOf, options } = this.#deps;
    const nowMs = this.#now();
    const up = view.upNodes();
    const groups = new Map<string, { peers: NodeId[]; keys: Tombstone[] }>();
    let candidates = 0;
    for (const tombstone of this.#tombstones.values()) {
      if (candidates >= options.keysPerRoundMax) break;
      if (!graceElapsed(tombstone.sinceMs, nowMs, options.graceMs)) continue;
      // The first primary this node believes up leads; while one is down nothing is reaped
      // anyway, but the leader says why. Two nodes both leading is harmless: reaps are
      // conditional.
      const primaries = primariesOf(tombstone.partition);
      if (primaries.find((node) => up.has(node)) !== view.self) continue;
      const peers = primaries.filter((node) => node !== view.self);
      const name = peers.join(",");
      let group = groups.get(name);
      if (group === undefined) groups.set(name, (group = { peers, keys: [] }));
      group.keys.push(tombstone);
      candidates += 1;
    }
    if (candidates === 0) {
      this.#blocked = "";
      return { blocked: "", candidates: 0, reaped: 0, declined: 0 };
    }
    const blocked = reapBlocker({
      members: view.ring.nodes,
      up: view.upNodes(),
      dropped: view.droppedPeers(),
      hintsPending: await this.#hintsPending(),
    });
    this.#setBlocked(blocked ?? "");
    if (blocked !== undefined) return { blocked, candidates, reaped: 0, declined: 0 };

    let [reaped, declined] = [0, 0];
    for (const { peers, keys } of groups.values()) {
      for (let at = 0; at < keys.length; at += REAP_KEYS_PER_MESSAGE_MAX) {
        const chunk = keys.slice(at, at + REAP_KEYS_PER_MESSAGE_MAX);
        const outcome = await this.#reapChunk(peers, chunk);
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
    const expected: { tombstone: Tombstone; object: DvvSet; wire: AaeReapKey }[] = [];
    for (const tombstone of chunk) {
      const object = await replica.get(tombstone.bucket, tombstone.key);
      if (object === undefined || tombstoneSince(object) === undefined) continue;
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
        agreed = agreed.filter((_, index) => answer[index] === true);
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
  async answer(request: AaeReapRequest__Output): Promise<AaeReapResponse> {
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
        equal.push(local !== undefined && dvvEquals(local, expected));
      }
    }
    return { equal };
  }

  /** Hints pending on every member that answers: this node's own and each peer's Status. */
  async #hintsPending(): Promise<Map<string, number>> {
    const { view, hints } = this.#deps;
    const pending = new Map<string, number>();
    pending.set(view.self, sumHints(hints));
    await Promise.all(
      view.ring.nodes
        .filter((node) => node !== view.self)
        .map(async (node) => {
          const status = await this.#status(node).catch(() => undefined);
          if (status === undefined) return;
          let count = 0;
          for (const member of status.members) count += Number(member.hints_pending);
          pending.set(node, count);
        }),
    );
    return pending;
  }

  #status(node: NodeId): Promise<StatusResponse__Output> {
    const clients = this.#deps.view.peer(node);
    if (clients === undefined) return Promise.reject(new Error(`${node} cannot be called`));
    return new Promise((resolve, reject) => {
      clients.admin.Status(
        {},
        this.#metadata(),
        { deadline: Date.now() + this.#deps.options.callTimeoutMs },
        (error, reply) => (error || reply === undefined ? reject(error) : resolve(reply)),
      );
    });
  }

  #call(peer: NodeId, remove: boolean, keys: AaeReapKey[]): Promise<boolean[]> {
    const client = this.#client(peer);
    if (client === undefined) {
      return Promise.reject(new Error(this.#deps.view.unreachableReason(peer)));
    }
    return new Promise((resolve, reject) => {
      client.Reap(
        { remove, keys },
        this.#metadata(),
        { deadline: Date.now() + this.#deps.options.callTimeoutMs },
        (error, reply) => {
          if (error || reply === undefined) return reject(error ?? new Error("no reply"));
          if (reply.equal.length !== keys.length) {
            return reject(new Error(`${peer} answered ${reply.equal.length} of ${keys.length}`));
          }
          resolve(reply.equal);
        },
      );
    });
  }

  #client(peer: NodeId): AntiEntropyClient | undefined {
    const clients = this.#deps.view.peer(peer);
    if (clients === undefined) return undefined;
    let client = this.#clients.get(peer);
    if (client === undefined) {
      const v1 = loadProto().grpcObject.dkv.v1;
      client = new v1.AntiEntropy(clients.address, grpc.credentials.createInsecure(), {
        channelOverride: clients.replica.getChannel(),
      });
      this.#clients.set(peer, client);
    }
    return client;
  }

  #metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set(FROM_HEADER, this.#deps.view.self);
    return metadata;
  }

  #setBlocked(reason: string): void {
    if (reason !== this.#blocked && reason !== "") {
      this.#deps.logger.info({ reason }, "tombstone reaping waits");
    }
    this.#blocked = reason;
  }

  /**
   * Forgets the Reap clients. They are not closed: they ride on the peers' channels, which the
   * cluster view owns and closes (closing a client closes its channel).
   */
  close(): void {
    this.#clients.clear();
  }
}

function sumHints(hints: Pick<HintStore, "targets" | "totals">): number {
  let count = 0;
  for (const target of hints.targets()) count += hints.totals(target).count;
  return count;
}
