// What one simulated node serves to the others over the simulated network: the Replica
// service (get, put with an optional hint), hint handoff, and forwarded client writes (its
// KvService, as kv-server.ts serves it over gRPC). Messages carry DVV objects and replies by
// reference (they are immutable); the byte format is still exercised on every storage write and
// read, which goes through node/core/object-codec.ts.

import type { KvErrorCode } from "../../node/core/errors.js";
import type { DvvSet } from "../../node/core/dvv.js";
import type { PutRequest__Output } from "../../proto/generated/dkv/v1/PutRequest.js";
import type { DeleteRequest__Output } from "../../proto/generated/dkv/v1/DeleteRequest.js";
import type { ReplicaPutReason } from "../../proto/generated/dkv/v1/ReplicaPutReason.js";
import type { DeleteReply, PutReply } from "../../coordinator/kv-service.js";

/**
 * A failure as a value: nothing a node answers is a rejection. `notApplied` is what gRPC's
 * NOT_APPLIED_HEADER carries: the node stored nothing.
 */
export interface WireFailure {
  readonly ok: false;
  readonly code: KvErrorCode;
  readonly error: string;
  readonly notApplied: boolean;
}

/** A KV call's answer as the simulated wire carries it: the service's reply, or its failure. */
export type KvWireReply<Reply> = { readonly ok: true; readonly reply: Reply } | WireFailure;

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

/** The services of one node incarnation. */
export interface SimEndpoint {
  replicaGet(bucket: string, key: Uint8Array, digest?: Uint8Array): Promise<WireGetReply>;
  replicaPut(request: WirePutRequest): Promise<WirePutReply>;
  handoff(target: string, items: readonly WireHintItem[]): Promise<WireHandoffReply>;
  /** KV.Put of a client write another node forwarded here; `deadlineMs` is in virtual time. */
  forwardedPut(request: PutRequest__Output, deadlineMs: number): Promise<KvWireReply<PutReply>>;
  /** KV.Delete forwarded by another node; `deadlineMs` is in virtual time. */
  forwardedDelete(
    request: DeleteRequest__Output,
    deadlineMs: number,
  ): Promise<KvWireReply<DeleteReply>>;
}
