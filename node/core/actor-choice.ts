// Which actor id a starting node takes: its last incarnation's, or a new one; and the actor
// lease file's format. Pure: the shell (node/actor-lease.ts) reads the file, the storage
// counters and the randomness, and says why in its doc comment.

/** The actor lease file, version 1: the node's actor and whether its holder stopped cleanly. */
export interface ActorLeaseRecord {
  readonly version: 1;
  readonly actor: string;
  /**
   * True only once the incarnation that used `actor` closed its storage with everything
   * durable and left no removed-copy counter floors behind; false from the moment it started.
   */
  readonly clean: boolean;
  /**
   * SHA-256 (hex) of the counter floors file written with a clean stop, when the actor removed
   * copies of its own writes (node/core/removed-copies.ts); the actor is reused only with it.
   */
  readonly floors?: string;
}

/** The lease as the shell found it on disk. */
export type LeaseOnDisk =
  | { readonly kind: "absent" }
  | { readonly kind: "unreadable"; readonly reason: string }
  | { readonly kind: "found"; readonly text: string };

/** What the node knows at start, after opening its storage. */
export interface ActorChoiceInput {
  readonly self: string;
  readonly lease: LeaseOnDisk;
  /** The storage engine's name; "memory" keeps nothing across a restart. */
  readonly engine: string;
  /** Records the engine found corrupt or torn while opening: data that may be lost. */
  readonly damagedRecords: number;
}

/** The decision: the actor to use, whether it is the last incarnation's, and why. */
export interface ActorChoice {
  readonly actor: string;
  readonly reused: boolean;
  readonly reason: string;
  /** With a reused actor: the digest of the counter floors file its lease names, if any. */
  readonly floors?: string;
}

/** Hex digits of the random part of an actor id: 32 bits, as `${self}.${8 hex}`. */
export const ACTOR_SUFFIX_HEX_DIGITS = 8;
const SUFFIX_PATTERN = /^[0-9a-f]{8}$/;
/** Longest lease file read: a node id of 64 bytes and a suffix fit many times over. */
export const ACTOR_LEASE_BYTES_MAX = 4096;

/** The actor id `${self}.${suffix}`; `suffix` is 8 lowercase hex digits. */
export function actorIdOf(self: string, suffix: string): string {
  if (!SUFFIX_PATTERN.test(suffix)) throw new Error(`actor suffix must be 8 hex digits: ${suffix}`);
  return `${self}.${suffix}`;
}

/**
 * Reuse the leased actor only when every one of these holds: the engine keeps data across a
 * restart; the lease parses, is this node's, and says its holder stopped cleanly; and opening
 * the storage found nothing damaged. Otherwise a new actor with `newSuffix()`. Laws: a reused
 * actor is always the lease's; a new one is never the lease's (the shell draws again on a
 * clash); the answer depends on nothing but the input.
 */
export function chooseActor(input: ActorChoiceInput, newSuffix: () => string): ActorChoice {
  const fresh = (reason: string): ActorChoice => {
    const previous = input.lease.kind === "found" ? parseActorLease(input.lease.text) : undefined;
    let actor = actorIdOf(input.self, newSuffix());
    // A clash with the previous actor (one in 2^32) would reuse its dots: draw again.
    while (previous?.ok === true && actor === previous.record.actor) {
      actor = actorIdOf(input.self, newSuffix());
    }
    return { actor, reused: false, reason };
  };
  if (input.engine === "memory") return fresh("the memory engine keeps nothing across a restart");
  switch (input.lease.kind) {
    case "absent":
      return fresh("no actor lease (first start, or the data dir was wiped)");
    case "unreadable":
      return fresh(`the actor lease is unreadable: ${input.lease.reason}`);
    case "found":
      break;
  }
  const parsed = parseActorLease(input.lease.text);
  if (!parsed.ok) return fresh(`the actor lease is unreadable: ${parsed.reason}`);
  const { actor, clean } = parsed.record;
  if (!isActorOf(actor, input.self)) {
    return fresh(`the actor lease names ${actor}, not an actor of ${input.self}`);
  }
  if (!clean)
    return fresh("the last incarnation did not stop cleanly (crash, kill or failed close)");
  if (input.damagedRecords > 0) {
    return fresh(`opening the storage found ${input.damagedRecords} damaged record(s)`);
  }
  const floors = parsed.record.floors;
  const reason = "the last incarnation stopped cleanly";
  return floors === undefined
    ? { actor, reused: true, reason }
    : { actor, reused: true, reason, floors };
}

/** True when `actor` has the form of an actor id of node `self`. */
export function isActorOf(actor: string, self: string): boolean {
  return actor.startsWith(`${self}.`) && SUFFIX_PATTERN.test(actor.slice(self.length + 1));
}

/** The lease file's text: one line of JSON. */
export function encodeActorLease(record: ActorLeaseRecord): string {
  const { version, actor, clean, floors } = record;
  return `${JSON.stringify(floors === undefined ? { version, actor, clean } : { version, actor, clean, floors })}\n`;
}

/** Parses a lease file's text; a reason when it is not a version 1 lease. */
export function parseActorLease(
  text: string,
): { readonly ok: true; readonly record: ActorLeaseRecord } | { ok: false; reason: string } {
  if (text.length > ACTOR_LEASE_BYTES_MAX) {
    return { ok: false, reason: `${text.length} bytes, at most ${ACTOR_LEASE_BYTES_MAX}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  const record = value as Partial<Record<keyof ActorLeaseRecord, unknown>> | null;
  if (typeof record !== "object" || record === null) return { ok: false, reason: "not an object" };
  if (record.version !== 1) return { ok: false, reason: `version ${String(record.version)}` };
  if (typeof record.actor !== "string") return { ok: false, reason: "no actor" };
  if (typeof record.clean !== "boolean") return { ok: false, reason: "no clean flag" };
  const { actor, clean, floors } = record;
  if (floors === undefined) return { ok: true, record: { version: 1, actor, clean } };
  if (typeof floors !== "string" || !/^[0-9a-f]{64}$/.test(floors)) {
    return { ok: false, reason: "bad floors digest" };
  }
  return { ok: true, record: { version: 1, actor, clean, floors } };
}
