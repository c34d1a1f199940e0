// The actor lease: the node's actor id (the actor of the dots it coordinates) kept in its data
// dir with a "clean" flag, so a cleanly restarted node keeps its actor and a node that may have
// lost data takes a new one. IO shell; the decision is node/core/actor-choice.ts.
//
// Why (Riak kv679). A dot (actor, counter) must name one write only. The replica gives the next
// counter of a key from what it stores (and, for a copy it removed, from a floor it keeps in
// memory). A node that comes back without some write it coordinated would give that write's dot
// again to a different value, and every replica that holds the first one treats the second as
// already seen: an acknowledged write silently lost. A fresh actor per incarnation avoids that
// but adds one entry per restart to the context of every key the node coordinates a write for,
// and contexts grow without bound (one entry per restart for ever: 1,000 restarts, 1,000
// entries). So the actor is reused exactly when nothing can have been lost:
//
// - Clean: the last incarnation closed its storage and the close succeeded, so every write it
//   made is durable (the log engine's close drains its queue and fsyncs; lmdb's awaits
//   `flushed`). "May have lost data" includes any write with dw=0: such a put is acknowledged,
//   and its dot sent to the other replicas, while the coordinator's copy waits for the next
//   group commit; a crash of the machine (or a kill before the append) loses it locally while
//   the others keep the dot. Even with dw >= 1 the dot reaches the others before a failed put's
//   local fsync. So only a completed close counts; a crash, `kill -9`, an OOM kill, a power
//   loss, a close that threw (hints or storage), or a close during which the engine noted a
//   background error (the log engine's close swallows a failed final sync into that counter)
//   all leave the lease at clean: false, and the next start takes a new actor.
// - Removed copies: a removed copy (a fallback's after handoff, a reaped tombstone) takes its
//   counter floor with it, which the replica keeps in memory (node/replica.ts). Reusing the
//   actor without it could give a counter another replica still holds, so a clean stop writes
//   the floors to `actor-floors.json` (durably, before the lease) and the lease names its
//   SHA-256; the actor is reused only when that file is there and matches. Floors past
//   REMOVED_COPIES_FILE_BYTES_MAX are not written, and the lease stays unclean.
// - Rollbacks: a failed fsync makes the replica renew its actor during the incarnation; the
//   lease records the actor in use at the close, so the renewed one is what is reused.
// - Memory engine: nothing survives, so always a new actor, and no file is written.
// - Data dir wiped: no lease, so a new random actor. Restoring a data dir from a copy is a
//   rollback too: a copy of a running node holds clean: false (written at its start), but a copy
//   of a stopped node holds clean: true, so the operator deletes the lease with such a restore
//   (docs/OPERATIONS.md).
// - Storage damage found while opening (corrupt records, a torn tail the log engine cut): data
//   may be gone, so a new actor even after a clean stop.
// - The hint store holds copies for other primaries, never the basis of this node's counters, so
//   only its close matters (it runs before the storage's, and a throw leaves clean: false).
//
// The lease says clean: false from before the node serves (written and fsynced right after the
// choice), so a crash at any later point is seen at the next start. Writes go tmp, fsync,
// rename, fsync of the directory, so the file is always one whole version.

import { randomBytes } from "node:crypto";
import { writeFileDurably } from "./durable-file.js";
import path from "node:path";
import type { Storage } from "./storage/storage.js";
import type { Replica } from "./replica.js";
import type { Logger } from "./logger.js";
import { createHash } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import {
  decodeRemovedCopies,
  encodeRemovedCopies,
  type RemovedCopyEntry,
} from "./core/removed-copies.js";
import {
  ACTOR_LEASE_BYTES_MAX,
  ACTOR_SUFFIX_HEX_DIGITS,
  actorIdOf,
  chooseActor,
  encodeActorLease,
  type ActorChoice,
  type LeaseOnDisk,
} from "./core/actor-choice.js";

/** The lease file's name in the data dir. */
export const ACTOR_LEASE_FILE = "actor-lease.json";
/** The counter floors file a clean stop writes beside the lease. */
export const ACTOR_FLOORS_FILE = "actor-floors.json";

/** What {@link ActorLease.acquire} needs: the storage must be open. */
export interface ActorLeaseOptions {
  readonly self: string;
  readonly dataDir: string;
  readonly storage: Storage;
  readonly logger?: Logger;
}

/** A node incarnation's hold on its actor id. */
export class ActorLease {
  readonly #self: string;
  readonly #file: string | undefined;
  readonly #storage: Storage;
  readonly #choice: ActorChoice;
  readonly #backgroundErrorsAtStart: number;
  /** The reused actor's counter floors, read back from the last clean stop. */
  readonly removedCopies: readonly (readonly [string, RemovedCopyEntry])[];

  private constructor(
    self: string,
    file: string | undefined,
    storage: Storage,
    choice: ActorChoice,
    removedCopies: readonly (readonly [string, RemovedCopyEntry])[],
  ) {
    this.#self = self;
    this.#file = file;
    this.#storage = storage;
    this.#choice = choice;
    this.removedCopies = removedCopies;
    this.#backgroundErrorsAtStart = detailCounter(storage, "backgroundErrors");
  }

  /**
   * Chooses the actor (see the file comment) and, before returning, makes {actor, clean: false}
   * durable, so the node may serve. The memory engine gets a new actor and no file.
   */
  static async acquire(options: ActorLeaseOptions): Promise<ActorLease> {
    const memory = options.storage.engine === "memory";
    const file = memory ? undefined : path.join(options.dataDir, ACTOR_LEASE_FILE);
    const lease = file === undefined ? ({ kind: "absent" } as const) : await readLease(file);
    const stats = options.storage.stats();
    const damagedRecords =
      stats.corruptRecords +
      (detailCounter(options.storage, "recoveryTornBytesTruncated") > 0 ? 1 : 0);
    let choice = chooseActor(
      { self: options.self, lease, engine: options.storage.engine, damagedRecords },
      randomSuffix,
    );
    let removedCopies: [string, RemovedCopyEntry][] = [];
    if (choice.floors !== undefined && file !== undefined) {
      const floors = await readFloors(path.join(options.dataDir, ACTOR_FLOORS_FILE), choice.floors);
      if (floors.ok) removedCopies = floors.entries;
      else {
        const reason = `the actor's counter floors are unreadable: ${floors.reason}`;
        choice = { actor: freshActorBesides(options.self, choice.actor), reused: false, reason };
      }
    }
    if (file !== undefined) {
      await writeFileDurably(
        file,
        encodeActorLease({ version: 1, actor: choice.actor, clean: false }),
      );
    }
    options.logger?.info(
      { actor: choice.actor, reused: choice.reused, reason: choice.reason },
      choice.reused ? "actor id kept" : "actor id new",
    );
    return new ActorLease(options.self, file, options.storage, choice, removedCopies);
  }

  /** The actor this incarnation starts with. */
  get actor(): string {
    return this.#choice.actor;
  }

  /** True when the actor is the last incarnation's. */
  get reused(): boolean {
    return this.#choice.reused;
  }

  /** A new random actor of this node, for the replica's renewals (rollbacks, floor overflow). */
  readonly newActor = (): string => actorIdOf(this.#self, randomSuffix());

  /**
   * Records a clean stop of `replica` (its actor now, and the counter floors of the copies it
   * removed); call only after the storage closed without error. The floors go first, durably,
   * and the lease names their digest. Leaves the lease at clean: false when the engine noted a
   * background error since the start, or when the floors are too many to write.
   */
  async release(replica: Pick<Replica, "actor" | "removedCopies">): Promise<void> {
    if (this.#file === undefined) return;
    const actor = replica.actor;
    const errors = detailCounter(this.#storage, "backgroundErrors") - this.#backgroundErrorsAtStart;
    const removed = replica.removedCopies();
    let floors: string | undefined;
    let clean = errors === 0;
    if (clean && removed.size > 0) {
      const text = encodeRemovedCopies(removed);
      if (text === undefined) clean = false;
      else {
        await writeFileDurably(path.join(path.dirname(this.#file), ACTOR_FLOORS_FILE), text);
        floors = createHash("sha256").update(text).digest("hex");
      }
    }
    const record =
      floors === undefined
        ? { version: 1 as const, actor, clean }
        : { version: 1 as const, actor, clean, floors };
    await writeFileDurably(this.#file, encodeActorLease(record));
  }
}

/** A new actor of `self` that is not `previous`. */
function freshActorBesides(self: string, previous: string): string {
  let actor = actorIdOf(self, randomSuffix());
  while (actor === previous) actor = actorIdOf(self, randomSuffix());
  return actor;
}

/** Reads the floors file and checks it against the lease's digest. */
async function readFloors(
  file: string,
  digest: string,
): Promise<
  | { readonly ok: true; readonly entries: [string, RemovedCopyEntry][] }
  | { readonly ok: false; readonly reason: string }
> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (createHash("sha256").update(text).digest("hex") !== digest) {
    return { ok: false, reason: "its digest is not the lease's" };
  }
  return decodeRemovedCopies(text);
}

function randomSuffix(): string {
  return randomBytes(ACTOR_SUFFIX_HEX_DIGITS / 2).toString("hex");
}

async function readLease(file: string): Promise<LeaseOnDisk> {
  try {
    const handle = await open(file, "r");
    try {
      const buffer = Buffer.alloc(ACTOR_LEASE_BYTES_MAX + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return { kind: "found", text: buffer.toString("utf8", 0, bytesRead) };
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { kind: "absent" };
    return { kind: "unreadable", reason: (error as Error).message };
  }
}

/** A numeric engine counter from stats().details (the log engine's), or 0 when it has none. */
function detailCounter(storage: Storage, name: string): number {
  const details = (storage.stats() as { details?: Record<string, unknown> }).details;
  const value = details?.[name];
  return typeof value === "number" ? value : 0;
}
