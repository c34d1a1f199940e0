// What one simulated node serves to the others over the simulated network: the Replica
// service (get, put with an optional hint), hint handoff, and forwarded client writes. Messages
// carry DVV objects by reference (they are immutable); the byte format is still exercised on
// every storage write and read, which goes through node/core/object-codec.ts.

import type { KvErrorCode } from "../../node/core/errors.js";
import type { Dot } from "../../node/core/causal-context.js";
import type { DvvSet, Sibling } from "../../node/core/dvv.js";
import type { PutRequest__Output } from "../../proto/generated/dkv/v1/PutRequest.js";
import type { ReplicaPutReason } from "../../proto/generated/dkv/v1/ReplicaPutReason.js";

/** A failure as a value: nothing a node answers is a rejection. */
export interface WireFailure {
  readonly ok: false;
  readonly code: KvErrorCode;
  readonly error: string;
}

/**
 * Replica.Get's reply: the object, undefined when not found; `same` (no object) when a digest
 * read's digest matched the stored copy.
 */
export type WireGetReply =
  | { readonly ok: true; readonly object: DvvSet | undefined }
  | { readonly ok: true; readonly same: true }
  | WireFailure;

/** Replica.Put's request. */
export interface WirePutRequest {
  readonly bucket: string;
  readonly key: Uint8Array;
  readonly object: DvvSet;
  /** Its encoded size, which the hint bound counts (computed only for hinted writes). */
  readonly bytes: () => number;
  readonly durable: boolean;
  /** Why it is sent; a coordinated write (WRITE) over the key's limits is refused. */
  readonly reason: ReplicaPutReason;
  /** The primary a fallback stands in for; "" for a primary. */
  readonly hintFor: string;
}

/** Replica.Put's reply. */
export type WirePutReply = { readonly ok: true; readonly durable: boolean } | WireFailure;

/** One handed-off object (Handoff.Deliver's HintItem). */
export interface WireHintItem {
  readonly id: number;
  readonly bucket: string;
  readonly key: Uint8Array;
  readonly object: DvvSet;
}

/** Handoff's acknowledgement: the ids stored durably. */
export type WireHandoffReply = { readonly ok: true; readonly ids: readonly number[] } | WireFailure;

/** KV.Put's reply, plus the dot of the new version (a test-only field, for the checker). */
export type KvPutReply =
  | { readonly ok: true; readonly context: Uint8Array; readonly vtag: string; readonly dot: Dot }
  | WireFailure;

/** KV.Get's reply, with the siblings' dots (the checker tells versions apart by them). */
export type KvGetReply =
  | { readonly ok: true; readonly siblings: readonly Sibling[]; readonly context: Uint8Array }
  | WireFailure;

/** The services of one node incarnation. */
export interface SimEndpoint {
  replicaGet(bucket: string, key: Uint8Array, digest?: Uint8Array): Promise<WireGetReply>;
  replicaPut(request: WirePutRequest): Promise<WirePutReply>;
  handoff(target: string, items: readonly WireHintItem[]): Promise<WireHandoffReply>;
  /** A client write forwarded by another node; `deadlineMs` is in virtual time. */
  forwardedPut(request: PutRequest__Output, deadlineMs: number): Promise<KvPutReply>;
}
