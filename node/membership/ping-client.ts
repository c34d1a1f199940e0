// The heartbeat loop's transport in production: a PingPort over Admin.Ping on the peers'
// clients, and the reading of what a ping's gRPC result says about the peer.

import * as grpc from "@grpc/grpc-js";
import type { NodeId } from "../core/node-id.js";
import type { PeerClients } from "../peer-clients.js";
import type { PingPort, PingReply } from "./heartbeat-loop.js";

/** How pings reach peers: ClusterView (undefined = unreachable, e.g. dropped). */
export interface PeerDirectory {
  peer(node: NodeId): PeerClients | undefined;
  unreachableReason(node: NodeId): string;
}

/**
 * Gossip piggybacked on the heartbeat: every ping carries this node's metadata digest, and an
 * answer naming another digest tells the gossip which peer to exchange metadata with.
 */
export interface PingGossip {
  digest(): string;
  differs(node: NodeId, theirDigest: string): void;
}

/** The production PingPort: Admin.Ping with the loop's deadline. */
export class GrpcPingPort implements PingPort {
  readonly #directory: PeerDirectory;
  readonly #gossip: PingGossip | undefined;

  constructor(directory: PeerDirectory, gossip?: PingGossip) {
    this.#directory = directory;
    this.#gossip = gossip;
  }

  ping(node: NodeId, deadlineMs: number): Promise<PingReply> {
    const peer = this.#directory.peer(node);
    if (peer === undefined) {
      return Promise.resolve({ kind: "refused", reason: this.#directory.unreachableReason(node) });
    }
    return new Promise((resolve) => {
      const digest = this.#gossip?.digest() ?? "";
      peer.admin.Ping({ metadata_digest: digest }, { deadline: deadlineMs }, (error, reply) => {
        // Cut off while the ping was out (fault injection's dropped peers): the answer crossed
        // the cut, as no packet of a real partition would, and must not bring the peer back
        // up. A write in that window went to the "up" peer and failed its quorum.
        if (this.#directory.peer(node) === undefined) {
          resolve({ kind: "refused", reason: this.#directory.unreachableReason(node) });
          return;
        }
        const answer = classifyPing(node, error, reply?.node_id);
        const theirs = reply?.metadata_digest ?? "";
        if (answer.kind === "answered" && theirs !== "" && theirs !== digest) {
          this.#gossip?.differs(node, theirs);
        }
        resolve(answer);
      });
    });
  }
}

/**
 * What a ping's result says about the peer. A refused connection, a refusal by a node-level
 * partition and a different node at the address are definite: down at once. A deadline or a
 * dropped connection only means no heartbeat; phi decides.
 */
export function classifyPing(
  node: NodeId,
  error: grpc.ServiceError | null,
  answeredAs: string | undefined,
): PingReply {
  if (error === null) {
    if (answeredAs === node) return { kind: "answered" };
    return { kind: "refused", reason: `answered as ${answeredAs ?? "nobody"}: wrong address?` };
  }
  const text = `${error.details ?? ""} ${error.message ?? ""}`;
  if (error.code === grpc.status.UNAVAILABLE && /ECONNREFUSED|connection refused/i.test(text)) {
    return { kind: "refused", reason: "connection refused" };
  }
  if (error.code === grpc.status.UNAVAILABLE && /dropped by fault injection/.test(text)) {
    return { kind: "refused", reason: error.details };
  }
  return { kind: "silent", reason: error.details || error.message };
}
