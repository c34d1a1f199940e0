// One node's replica of the data: reads and merges DVV objects over a Storage engine, one
// key at a time. Every write path (coordinated puts, replica merges, read repair, and later
// hint delivery and anti-entropy) goes through here, so per-key ordering and the write
// listeners (Merkle-tree maintenance, issue #5) live in one place.

import { SYSTEM_CLOCK, type Clock } from "./clock.js";
import type { Storage, StorageKey } from "./storage/storage.js";
import { storageKeyString } from "./storage/storage-key.js";
import { KeyQueue } from "./key-queue.js";
import type { CausalContext, Dot } from "./core/causal-context.js";
import {
  type DvvSet,
  type Version,
  EMPTY_DVV_SET,
  update,
  sync,
  dvvEquals,
  join,
  retract,
  values,
  liveValues,
} from "./core/dvv.js";
import { encodeObject, encodeObjectShared } from "./core/object-codec.js";
import { decodeObject } from "./core/object-decode.js";
import { contextCovers, contextMaxCounter } from "./core/causal-context.js";
import { VERSION_DIGEST_BYTES, digestMatches } from "./core/version-digest.js";

/** Keys whose removed-copy counters a replica remembers before it renews its actor id. */
const REMOVED_COUNTERS_MAX = 100_000;
/** Reaped keys a replica guards against stale copies at once; the oldest go first. */
const REAPED_GUARDS_MAX = 100_000;
import { KvError } from "./core/errors.js";

/**
 * Told about every change of a stored object; for tree maintenance and metrics. `id` is
 * storageKeyString(bucket, key), built once per operation by the replica. `before` is undefined
 * when there was none, or when unknown (what a key holds again after a storage rollback).
 */
export type WriteListener = (
  bucket: string,
  key: Uint8Array,
  before: DvvSet | undefined,
  after: DvvSet,
  id: string,
) => void;

/**
 * Told about a local copy that was removed; `id` as for {@link WriteListener}. `before` is
 * undefined when unknown (a key a storage rollback left absent).
 */
export type RemoveListener = (
  bucket: string,
  key: Uint8Array,
  before: DvvSet | undefined,
  id: string,
) => void;

/** Called when a stored object cannot be decoded; the key is then served as missing. */
export type CorruptionListener = (bucket: string, key: Uint8Array, reason: string) => void;

/** Outcome of a local write. */
export interface LocalWrite {
  readonly object: DvvSet;
  readonly durable: boolean;
}

/**
 * What a replica remembers of a copy it removed: the highest counter its actor gave the key,
 * and, for a reaped copy, the context of the reaped tombstones.
 */
export interface RemovedCopy {
  readonly counter: number;
  readonly reaped?: CausalContext;
}

/** Checks a would-be object before it is stored; throws a KvError to refuse it. */
export type ObjectCheck = (object: DvvSet, before: DvvSet | undefined) => void;

/** The local replica: DVV logic over a byte store, serialised per key. */
export class Replica {
  readonly #storage: Storage;
  #actor: string;
  readonly #newActor: () => string;
  #actorRenewals = 0;
  readonly #removedCounters = new Map<string, RemovedCopy>();
  readonly #locks = new KeyQueue();
  readonly #writeListeners: WriteListener[] = [];
  readonly #corruptionListeners: CorruptionListener[] = [];
  readonly #removeListeners: RemoveListener[] = [];
  readonly #clock: Clock;
  /** Reaped keys → the reaped tombstone and its context, until a time; in insertion order. */
  readonly #reaped = new Map<
    string,
    { readonly object: DvvSet; readonly context: CausalContext; readonly untilMs: number }
  >();

  /**
   * @param storage an opened engine
   * @param actor the actor id for dots this node creates; unique per node incarnation, so
   *   that a node that lost its data never reuses a dot (Riak kv679)
   */
  constructor(
    storage: Storage,
    actor: string,
    newActor?: () => string,
    options: {
      /** Times the reap guards (monotonic); the system clock unless a simulation supplies one. */
      readonly clock?: Clock;
      /**
       * What the last incarnation of `actor` remembered of the copies it removed (persisted by
       * node/actor-lease.ts at a clean stop), so a reused actor keeps its counter floors.
       */
      readonly removed?: Iterable<readonly [string, RemovedCopy]>;
    } = {},
  ) {
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    for (const [id, copy] of options.removed ?? []) this.#removedCounters.set(id, copy);
    this.#storage = storage;
    this.#actor = actor;
    this.#newActor = newActor ?? (() => `${actor}.${(this.#actorRenewals += 1)}`);
    storage.onRollback?.((keys) => this.#afterRollback(keys));
  }

  /**
   * After the engine undid writes that had already resolved (a failed fsync). Dots this actor
   * gave in them may live on at other replicas, so the actor is renewed and no later write here
   * can reuse one (Riak kv679); and the listeners learn what each key holds now, so the
   * anti-entropy trees and the tombstone index match storage again.
   */
  #afterRollback(keys: readonly StorageKey[]): void {
    this.#actor = this.#newActor();
    this.#removedCounters.clear();
    for (const { bucket, key } of keys) {
      const id = storageKeyString(bucket, key);
      this.#withKey(id, async () => {
        const object = await this.get(bucket, key);
        if (object === undefined) {
          for (const listener of this.#removeListeners) listener(bucket, key, undefined, id);
        } else {
          for (const listener of this.#writeListeners) listener(bucket, key, undefined, object, id);
        }
      }).catch(() => undefined); // an unreadable copy was reported to the corruption listeners
    }
  }

  get actor(): string {
    return this.#actor;
  }

  /**
   * What the current actor remembers of the copies it removed, by storageKeyString: to persist
   * at a clean stop, so the next incarnation can keep the actor (node/actor-lease.ts).
   */
  removedCopies(): ReadonlyMap<string, RemovedCopy> {
    return this.#removedCounters;
  }

  get storage(): Storage {
    return this.#storage;
  }

  onWrite(listener: WriteListener): void {
    this.#writeListeners.push(listener);
  }

  onCorruption(listener: CorruptionListener): void {
    this.#corruptionListeners.push(listener);
  }

  /**
   * The stored object, or undefined when absent (or unreadable, which is reported). Its values
   * are views into the bytes the engine handed out, which no one changes (Storage.get): a
   * write's read of the key before it, and every local read, copied each value out for nothing.
   */
  async get(bucket: string, key: Uint8Array): Promise<DvvSet | undefined> {
    const bytes = await this.#storage.get(bucket, key);
    return bytes === undefined ? undefined : this.#decode(bucket, key, bytes);
  }

  /**
   * The stored object once every operation on the key already under way has finished: what a
   * reader that must not mistake a write in progress for an absent copy reads (hint delivery
   * dropping the hint of a copy it cannot find).
   */
  getSettled(bucket: string, key: Uint8Array): Promise<DvvSet | undefined> {
    return this.#withKey(storageKeyString(bucket, key), () => this.get(bucket, key));
  }

  /** The stored object's size, known without reading it, when the engine can tell (Storage). */
  storedBytes(bucket: string, key: Uint8Array): number | undefined {
    return this.#storage.storedBytes?.(bucket, key);
  }

  /**
   * The stored object's bytes as they are (the object codec's), without decoding them into a
   * copy: for senders that pass objects on whole (ownership transfer). A copy that does not
   * decode is reported and reads as absent, as with `get`.
   */
  async getEncoded(bucket: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    const bytes = await this.#storage.get(bucket, key);
    if (bytes === undefined) return undefined;
    return this.#decode(bucket, key, bytes) === undefined ? undefined : bytes;
  }

  /**
   * The stored bytes decoded, values as views into them; a copy that cannot be decoded is
   * reported and reads as absent.
   */
  #decode(bucket: string, key: Uint8Array, bytes: Uint8Array): DvvSet | undefined {
    const decoded = decodeObject(bytes, false);
    if (decoded.ok) return decoded.object;
    for (const listener of this.#corruptionListeners) listener(bucket, key, decoded.reason);
    return undefined;
  }

  /**
   * A digest read: "same" when the stored copy's version digest (core/version-digest.ts) is
   * `digest`, so the caller, which holds that version, needs no copy of it; otherwise the stored
   * object's bytes, as `getEncoded` returns them (undefined when absent or unreadable). A digest
   * of the wrong length is refused (invalid-argument).
   */
  async getUnlessSame(
    bucket: string,
    key: Uint8Array,
    digest: Uint8Array,
  ): Promise<{ readonly same: true } | { readonly same: false; readonly encoded?: Uint8Array }> {
    if (digest.length !== VERSION_DIGEST_BYTES) {
      throw new KvError(
        "invalid-argument",
        `digest must be ${VERSION_DIGEST_BYTES} bytes, got ${digest.length}`,
      );
    }
    const bytes = await this.#storage.get(bucket, key);
    if (bytes === undefined) return { same: false };
    // The digest covers the context and the dots, not the values: checked on views into the
    // stored bytes, which are what is sent when the versions differ (no value is copied, and
    // nothing is encoded again: decoding accepts only bytes that encode back byte for byte).
    const skeleton = this.#decode(bucket, key, bytes);
    if (skeleton === undefined) return { same: false };
    if (digestMatches(digest, bucket, key, skeleton)) return { same: true };
    return { same: false, encoded: bytes };
  }

  /**
   * A new write coordinated here: DVV `update` of the stored object with the client's context.
   * `check` may refuse the result (sibling and size limits) before anything is stored. Not
   * async: it hands back the key queue's promise, without one more promise and two more turns.
   */
  coordinate(
    bucket: string,
    key: Uint8Array,
    clientContext: CausalContext,
    version: Version,
    options: {
      readonly durable: boolean;
      readonly check: ObjectCheck;
      /** As {@link merge}'s: a fallback coordinator's hint, in the key's turn. */
      readonly first?: (() => Promise<void>) | undefined;
    },
  ): Promise<LocalWrite & { readonly dot: Dot }> {
    const id = storageKeyString(bucket, key);
    return this.#withKey(id, async () => {
      if (options.first !== undefined) await options.first();
      const before = await this.get(bucket, key);
      const removed = this.#removedCounters.get(id);
      const floor = removed?.counter ?? 0;
      // A key reaped here starts again from what the reaped tombstones covered: everything in
      // it was deleted, so the new write may claim it, and this actor's counters then go on
      // contiguously in the version vector. From the bare floor they would land in the dot
      // cloud, one more dot per write for ever (the context of a key deleted and re-created
      // here would grow with every update).
      const stored =
        before ??
        (removed?.reaped === undefined ? EMPTY_DVV_SET : { context: removed.reaped, siblings: [] });
      const { object, dot } = update(stored, clientContext, this.#actor, version, floor);
      options.check(object, before);
      // Shared: the coordinator sends this same object to the other replicas.
      const encoded = encodeObjectShared(object);
      const durable = await this.#store(bucket, key, id, before, object, options.durable, encoded);
      return { object, dot, durable };
    });
  }

  /**
   * Deletes the local copy if it still equals `expected` (a fallback's copy after its handoff
   * was acknowledged). A copy changed since is kept: it carries writes not yet handed off.
   */
  async removeIfUnchanged(
    bucket: string,
    key: Uint8Array,
    expected: DvvSet,
    why: "handed-off" | "reaped" = "handed-off",
  ): Promise<boolean> {
    const id = storageKeyString(bucket, key);
    return this.#withKey(id, async () => {
      const current = await this.get(bucket, key);
      if (current === undefined || !dvvEquals(current, expected)) return false;
      await this.#storage.remove(bucket, key, { durable: true });
      this.#rememberCounter(id, current, why === "reaped");
      for (const listener of this.#removeListeners) listener(bucket, key, current, id);
      return true;
    });
  }

  /**
   * Reaps a tombstone: deletes the local copy if it still equals `expected` (checked by the
   * reaper to be tombstones only), and for `guardMs` answers any incoming copy that the reaped
   * tombstone supersedes by storing the tombstone again (see merge), so replica traffic still
   * in flight cannot bring the deleted value back. A copy changed since is kept: it carries a
   * newer write.
   */
  async reapIfUnchanged(
    bucket: string,
    key: Uint8Array,
    expected: DvvSet,
    guardMs: number,
  ): Promise<boolean> {
    const reaped = await this.removeIfUnchanged(bucket, key, expected, "reaped");
    if (reaped) {
      const nowMs = this.#clock.monotonicMs();
      for (const [id, entry] of this.#reaped) {
        if (entry.untilMs > nowMs && this.#reaped.size < REAPED_GUARDS_MAX) break;
        this.#reaped.delete(id);
      }
      const id = storageKeyString(bucket, key);
      this.#reaped.delete(id);
      this.#reaped.set(id, { object: expected, context: join(expected), untilMs: nowMs + guardMs });
    }
    return reaped;
  }

  /**
   * The tombstone reaped here within its guard when `incoming` holds nothing newer than it;
   * otherwise undefined.
   */
  #reapedSuperseding(id: string, incoming: DvvSet): DvvSet | undefined {
    if (this.#reaped.size === 0) return undefined;
    const reaped = this.#reaped.get(id);
    if (reaped === undefined || reaped.untilMs <= this.#clock.monotonicMs()) return undefined;
    const covered = values(incoming).every((sibling) => contextCovers(reaped.context, sibling.dot));
    return covered ? reaped.object : undefined;
  }

  /**
   * Remembers the highest counter this actor gave a key whose copy is being removed, so a later
   * write coordinated here cannot reuse a dot. A clean stop persists them with the actor lease;
   * any other stop takes a new actor (node/actor-lease.ts).
   * The map is bounded; past the bound the actor is renewed, which makes every floor moot.
   */
  #rememberCounter(id: string, removed: DvvSet, reaped: boolean): void {
    const counter = contextMaxCounter(removed.context, this.#actor);
    if (counter === 0) return;
    if (this.#removedCounters.size >= REMOVED_COUNTERS_MAX) {
      this.#actor = this.#newActor();
      this.#removedCounters.clear();
      return;
    }
    // A handed-off copy's dots may be live at the primaries, concurrent with a later write
    // here: only the floor is kept. A reaped copy held tombstones only, so its whole context
    // was deleted (see coordinate).
    this.#removedCounters.set(id, reaped ? { counter, reaped: join(removed) } : { counter });
  }

  /** Told when a local copy is removed (a handed-off fallback copy). */
  onRemove(listener: RemoveListener): void {
    this.#removeListeners.push(listener);
  }

  /**
   * Merges an object from another replica with DVV `sync`; stores only if it changed. `check`
   * may refuse the merged object (a coordinated write over the key's limits) before anything is
   * stored, also when it brings nothing new: the ack would count towards w, and the bound of
   * docs/ARCHITECTURE.md ("The sibling limit") needs every counted ack to come from a copy
   * within the limits. Convergence merges (read repair, anti-entropy, handoff) pass no check,
   * since what they carry may have been acknowledged. Not async, as {@link coordinate}.
   */
  merge(
    bucket: string,
    key: Uint8Array,
    incoming: DvvSet,
    options: {
      readonly durable: boolean;
      readonly check?: ObjectCheck | undefined;
      /**
       * `incoming`'s own encoding, when the caller received it as bytes (a replica message):
       * stored as it is when the merge keeps `incoming` unchanged (a new key), instead of
       * encoding the object again. Decoding accepts only bytes that encode back byte for byte
       * (test/property/node/core/object-codec-validation.property.test.ts).
       */
      readonly encoded?: Uint8Array | undefined;
      /**
       * Runs first in the key's turn, before anything is read or stored; its rejection is the
       * merge's. A fallback records its hint here, so that the hint and its copy appear as one
       * step to whatever waits for the key's turn ({@link getSettled}): hint delivery, which
       * reads a hint's copy that way, never finds a new hint without its copy.
       */
      readonly first?: (() => Promise<void>) | undefined;
    },
  ): Promise<LocalWrite> {
    const id = storageKeyString(bucket, key);
    return this.#withKey(id, async () => {
      if (options.first !== undefined) await options.first();
      const before = await this.get(bucket, key);
      const reaped = before === undefined ? this.#reapedSuperseding(id, incoming) : undefined;
      if (reaped !== undefined && liveValues(incoming).length === 0) {
        // A copy of the reaped tombstone itself (a peer not done reaping): nothing to bring
        // back, and storing it would only make the reaper's work again.
        return { object: incoming, durable: true };
      }
      if (reaped !== undefined) {
        // A stale copy of a key reaped moments ago (a write or a hinted copy still in flight):
        // the tombstone comes back instead of the value. Ignoring the copy was not enough: its
        // sender kept it when it was itself a primary by then (a fallback's copy after a
        // membership change, sim seed 122), and anti-entropy later spread it to nodes whose
        // guard had lapsed. The tombstone spreads the same way and wins wherever it meets the
        // copy; the reaper removes it again once every primary holds it.
        const object = sync(reaped, incoming);
        const durable = await this.#store(bucket, key, id, undefined, object, options.durable);
        return { object, durable };
      }
      const object = before === undefined ? incoming : sync(before, incoming);
      options.check?.(object, before);
      if (before !== undefined && dvvEquals(before, object)) {
        // Nothing new; still honour a durability request, which the engine answers cheaply
        // when nothing is pending.
        return {
          object,
          durable: options.durable ? await this.#flush(bucket, key, before) : false,
        };
      }
      const encoded = object === incoming ? options.encoded : undefined;
      const durable = await this.#store(bucket, key, id, before, object, options.durable, encoded);
      return { object, durable };
    });
  }

  /**
   * Takes back the write with dot `dot` from the local copy (DVV `retract`): the copy keeps its
   * context, so the retraction wins over every other copy of the write it meets. Only for a
   * write refused at its limit, whose client was told it was not applied. Returns the stored
   * object, or undefined when there is no local copy (nothing to take back here).
   */
  async retract(
    bucket: string,
    key: Uint8Array,
    dot: Dot,
    options: { readonly durable: boolean },
  ): Promise<DvvSet | undefined> {
    const id = storageKeyString(bucket, key);
    return this.#withKey(id, async () => {
      const before = await this.get(bucket, key);
      if (before === undefined) return undefined;
      const object = retract(before, dot);
      if (object === before) {
        // Gone already (a later write superseded it); still honour the durability request.
        if (options.durable) await this.#flush(bucket, key, before);
        return before;
      }
      await this.#store(bucket, key, id, before, object, options.durable);
      return object;
    });
  }

  async #store(
    bucket: string,
    key: Uint8Array,
    id: string,
    before: DvvSet | undefined,
    object: DvvSet,
    durable: boolean,
    encoded: Uint8Array = encodeObject(object),
  ): Promise<boolean> {
    let result;
    try {
      result = await this.#storage.put(bucket, key, encoded, { durable });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new KvError("storage-failed", `local write failed: ${reason}`, { cause: error });
    }
    for (const listener of this.#writeListeners) listener(bucket, key, before, object, id);
    return result.durable;
  }

  async #flush(bucket: string, key: Uint8Array, object: DvvSet): Promise<boolean> {
    // Re-putting identical bytes is the simplest engine-independent way to learn that the
    // stored copy is durable; it is rare (a merge that brought nothing new, with dw > 0).
    const result = await this.#storage.put(bucket, key, encodeObject(object), { durable: true });
    return result.durable;
  }

  /** Runs `work` after every earlier operation on the key `id` (storageKeyString) has finished. */
  #withKey<T>(id: string, work: () => Promise<T>): Promise<T> {
    return this.#locks.run(id, work);
  }
}
