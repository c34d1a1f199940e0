// The port through which a coordinator reaches replicas: the local Replica directly, peers over
// gRPC. Replies are values, never rejections, so the quorum machines see every outcome. The
// deterministic simulation (issue #6) plugs a simulated network in here.

import { status } from "@grpc/grpc-js";
import type { ReplicaPutReason } from "../proto/generated/dkv/v1/ReplicaPutReason.js";
import type { NodeId } from "../node/core/node-id.js";
import type { DvvSet } from "../node/core/dvv.js";
import { decodeObject, encodeObject } from "../node/core/object-codec.js";
import type { Replica } from "../node/replica.js";
import type { ClusterView } from "../node/cluster-view.js";
import type { ReadReply } from "./core/get-quorum.js";
import type { WriteReply } from "./core/put-quorum.js";

/** Options of a replica write. */
export interface ReplicaWriteOptions {
  readonly durable: boolean;
  readonly reason: ReplicaPutReason;
  readonly deadlineMs: number;
  /** The primary a fallback target stands in for (sloppy quorum); "" for a primary. */
  readonly hintFor?: string;
}

/**
 * A write reply, where a refusal may say that a fallback declined to stand in (its hint store
 * for that primary is full), so the coordinator moves on to the next fallback.
 */
export type TransportWriteReply =
  WriteReply | { readonly ok: false; readonly error: string; readonly declined: true };

/** Reaches the replicas of a key, wherever they are. */
export interface ReplicaTransport {
  get(
    node: NodeId,
    bucket: string,
    key: Uint8Array,
    deadlineMs: number,
  ): Promise<ReadReply<DvvSet>>;
  put(
    node: NodeId,
    bucket: string,
    key: Uint8Array,
    object: DvvSet,
    options: ReplicaWriteOptions,
  ): Promise<TransportWriteReply>;
}

/** The production transport: local calls for this node, gRPC for the others. */
export class GrpcReplicaTransport implements ReplicaTransport {
  readonly #view: ClusterView;
  readonly #replica: Replica;
  // One write fans the same object out to n-1 peers; encode it once.
  readonly #encoded = new WeakMap<DvvSet, Uint8Array>();

  constructor(view: ClusterView, replica: Replica) {
    this.#view = view;
    this.#replica = replica;
  }

  async get(
    node: NodeId,
    bucket: string,
    key: Uint8Array,
    deadlineMs: number,
  ): Promise<ReadReply<DvvSet>> {
    if (node === this.#view.self) {
      try {
        return { ok: true, object: await this.#replica.get(bucket, key) };
      } catch (error) {
        return { ok: false, error: messageOf(error) };
      }
    }
    const peer = this.#view.peer(node);
    if (peer === undefined) return { ok: false, error: this.#view.unreachableReason(node) };
    return new Promise((resolve) => {
      peer.replica.Get({ bucket, key }, { deadline: deadlineMs }, (error, reply) => {
        if (error || reply === undefined) {
          resolve({ ok: false, error: error ? error.details || error.message : "no reply" });
        } else if (!reply.found) {
          resolve({ ok: true, object: undefined });
        } else {
          const decoded = decodeObject(reply.object);
          resolve(
            decoded.ok
              ? { ok: true, object: decoded.object }
              : { ok: false, error: `${node} sent a malformed object: ${decoded.reason}` },
          );
        }
      });
    });
  }

  async put(
    node: NodeId,
    bucket: string,
    key: Uint8Array,
    object: DvvSet,
    options: ReplicaWriteOptions,
  ): Promise<TransportWriteReply> {
    if (node === this.#view.self) {
      try {
        const result = await this.#replica.merge(bucket, key, object, options);
        return { ok: true, durable: result.durable };
      } catch (error) {
        return { ok: false, error: messageOf(error) };
      }
    }
    const peer = this.#view.peer(node);
    if (peer === undefined) return { ok: false, error: this.#view.unreachableReason(node) };
    const request = {
      bucket,
      key,
      object: this.#encode(object),
      durable: options.durable,
      reason: options.reason,
      hint_for: options.hintFor ?? "",
    };
    return new Promise((resolve) => {
      peer.replica.Put(request, { deadline: options.deadlineMs }, (error, reply) => {
        if (error || reply === undefined) {
          const message = error ? error.details || error.message : "no reply";
          const declined = request.hint_for !== "" && error?.code === status.RESOURCE_EXHAUSTED;
          resolve(
            declined ? { ok: false, error: message, declined } : { ok: false, error: message },
          );
        } else {
          resolve({ ok: true, durable: reply.durable });
        }
      });
    });
  }

  #encode(object: DvvSet): Uint8Array {
    let bytes = this.#encoded.get(object);
    if (bytes === undefined) {
      bytes = encodeObject(object);
      this.#encoded.set(object, bytes);
    }
    return bytes;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
