// The reaper's transport in production: a ReapPort over gRPC. Hints pending on a peer come from
// its Admin.Status, and Reap calls go to its AntiEntropy service on the peer's existing channel,
// each call with the deadline the reaper gives it. No decisions are made here.

import * as grpc from "@grpc/grpc-js";
import type { AntiEntropyClient } from "../../proto/generated/dkv/v1/AntiEntropy.js";
import { loadProto } from "../../proto/load-proto.js";
import type { NodeId } from "../core/node-id.js";
import { FROM_HEADER, type PeerClients } from "../peer-clients.js";
import type { PeerStanding, ReapPort, ReapRequest } from "./tombstone-reaper.js";

/** What the gRPC reap port needs of the cluster view. */
export interface ReapPeers {
  readonly self: NodeId;
  /** A peer's clients; undefined when it cannot be called (dropped, unknown, this node). */
  peer(node: NodeId): PeerClients | undefined;
  /** Why a node cannot be called, for error messages. */
  unreachableReason(node: NodeId): string;
}

/**
 * The production ReapPort. Its AntiEntropy clients ride on the peers' channels, which the
 * cluster view owns and closes; they are never closed here (closing one closes its channel).
 */
export class GrpcReapPort implements ReapPort {
  readonly #peers: ReapPeers;
  readonly #clients = new Map<NodeId, AntiEntropyClient>();

  constructor(peers: ReapPeers) {
    this.#peers = peers;
  }

  standing(node: NodeId, deadlineMs: number): Promise<PeerStanding> {
    const clients = this.#peers.peer(node);
    if (clients === undefined) return Promise.reject(new Error(`${node} cannot be called`));
    return new Promise((resolve, reject) => {
      clients.admin.Status({}, this.#metadata(), { deadline: deadlineMs }, (error, reply) => {
        if (error || reply === undefined) return reject(error ?? new Error("no reply"));
        // Every hint counts, also one for a removed node that waits to move to a current
        // primary: it too may carry a write a tombstone supersedes (simulation seed 18950).
        // A node of an older build sends no total: then the members' counts.
        let count = 0;
        for (const member of reply.members) count += Number(member.hints_pending);
        count = Math.max(count, Number(reply.hints_pending_total ?? 0));
        // Handed-over partitions not dropped yet hold copies that belong elsewhere, as hints do.
        resolve({
          hintsPending: count + Number(reply.handover_partitions_pending ?? 0),
          layoutVersion: Number(reply.layout_version),
        });
      });
    });
  }

  reap(peer: NodeId, request: ReapRequest, deadlineMs: number): Promise<readonly boolean[]> {
    const client = this.#client(peer);
    if (client === undefined) {
      return Promise.reject(new Error(this.#peers.unreachableReason(peer)));
    }
    return new Promise((resolve, reject) => {
      client.Reap(
        { remove: request.remove, keys: [...request.keys] },
        this.#metadata(),
        { deadline: deadlineMs },
        (error, reply) => {
          if (error || reply === undefined) return reject(error ?? new Error("no reply"));
          resolve(reply.equal);
        },
      );
    });
  }

  #client(peer: NodeId): AntiEntropyClient | undefined {
    const clients = this.#peers.peer(peer);
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
    metadata.set(FROM_HEADER, this.#peers.self);
    return metadata;
  }
}
