// What one simulated node serves to the others over the simulated network, one method per gRPC
// call production serves: the Replica service (get, put with an optional hint), Handoff.Deliver,
// Admin.Ping, Membership.Exchange, the hint counts of Admin.Status, AntiEntropy.Exchange and AntiEntropy.Reap,
// Transfer.Fetch (a batch per call), and
// forwarded client writes (KV.Put and KV.Delete). Requests and replies are the messages the
// gRPC services carry (objects encoded; the exchange's protobuf bytes), so the simulation runs
// the same encode and decode as production does.

import type { KvErrorCode } from "../../node/core/errors.js";
import type { NodeId } from "../../node/core/node-id.js";
import type { HandoffBatch } from "../../node/hints/handoff-server.js";
import type { ReapAnswer, ReapRequest } from "../../node/anti-entropy/tombstone-reaper.js";
import type { PullRequest, ReceivedBatch } from "../../node/membership/partition-puller.js";
import type { ReplicaGetRequest__Output } from "../../proto/generated/dkv/v1/ReplicaGetRequest.js";
import type { ReplicaPutRequest__Output } from "../../proto/generated/dkv/v1/ReplicaPutRequest.js";
import type { ReplicaPutResponse } from "../../proto/generated/dkv/v1/ReplicaPutResponse.js";
import type { PutRequest__Output } from "../../proto/generated/dkv/v1/PutRequest.js";
import type { DeleteRequest__Output } from "../../proto/generated/dkv/v1/DeleteRequest.js";
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

/** A call's answer as the simulated wire carries it: the service's reply, or its failure. */
export type WireReply<Reply> = { readonly ok: true; readonly reply: Reply } | WireFailure;

/** A KV call's answer (kept under its own name for the forwarding port). */
export type KvWireReply<Reply> = WireReply<Reply>;

/**
 * Replica.Get's reply as replica-server.ts builds it: the encoded object when found, or `same`
 * for a digest read whose digest matched.
 */
export interface ReplicaGetReply {
  readonly found: boolean;
  readonly same?: boolean;
  readonly object: Uint8Array;
}

/** Admin.Ping's reply. */
export interface PingAnswer {
  readonly nodeId: string;
  readonly metadataDigest: string;
}

/** The services of one node incarnation. */
export interface SimEndpoint {
  /**
   * A request from peer `from` arrived (of `kind`): what ClusterView.refusal does for every
   * node-to-node request in production, telling the failure detector the peer is alive.
   */
  received(from: NodeId, kind: string): void;
  /** Replica.Get (the stream's get call). */
  replicaGet(request: ReplicaGetRequest__Output): Promise<WireReply<ReplicaGetReply>>;
  /** Replica.Put (the stream's put call). */
  replicaPut(request: ReplicaPutRequest__Output): Promise<WireReply<ReplicaPutResponse>>;
  /** One batch of Handoff.Deliver; the reply acknowledges ids. */
  handoff(batch: HandoffBatch): Promise<WireReply<readonly number[]>>;
  /** Admin.Ping: this node's id and its cluster metadata's digest. */
  ping(): Promise<WireReply<PingAnswer>>;
  /** Membership.Exchange: merges the caller's metadata (JSON) and answers with the merge. */
  metadataExchange(json: string): Promise<WireReply<string>>;
  /** Admin.Status's hints_pending, per member. */
  hintsPending(): Promise<WireReply<{ counts: readonly number[]; layoutVersion: number }>>;
  /** One request of an AntiEntropy.Exchange stream, as protobuf bytes; the response's bytes. */
  exchange(request: Uint8Array, from: NodeId): Promise<WireReply<Uint8Array>>;
  /** AntiEntropy.Reap. */
  reap(request: ReapRequest): Promise<WireReply<ReapAnswer>>;
  /**
   * Transfer.Fetch, one batch per call: the batch after `request`'s cursor (the stream's next
   * message; the caller asks again from the cursor it returns).
   */
  transferBatch(request: PullRequest, from: NodeId): Promise<WireReply<ReceivedBatch>>;
  /** KV.Put of a client write another node forwarded here; `deadlineMs` is in virtual time. */
  forwardedPut(request: PutRequest__Output, deadlineMs: number): Promise<KvWireReply<PutReply>>;
  /** KV.Delete forwarded by another node; `deadlineMs` is in virtual time. */
  forwardedDelete(
    request: DeleteRequest__Output,
    deadlineMs: number,
  ): Promise<KvWireReply<DeleteReply>>;
}
