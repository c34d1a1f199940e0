// gRPC clients to the other nodes: one channel per peer, shared by the Replica, KV and Admin
// services (grpc.io: reuse channels). Reconnect backoff is kept short so that a restarted peer
// is used again within about a second.

import * as grpc from "@grpc/grpc-js";
import { loadProto } from "../proto/load-proto.js";
import type { ReplicaClient } from "../proto/generated/dkv/v1/Replica.js";
import type { KVClient } from "../proto/generated/dkv/v1/KV.js";
import type { AdminClient } from "../proto/generated/dkv/v1/Admin.js";
import type { HandoffClient } from "../proto/generated/dkv/v1/Handoff.js";
import type { MembershipClient } from "../proto/generated/dkv/v1/Membership.js";
import type { TransferClient } from "../proto/generated/dkv/v1/Transfer.js";
import type { NodeId } from "./core/node-id.js";
import { INSECURE_CHANNELS, type ChannelSecurity } from "./security/channel-security.js";
import { withReplicaStreamCodec } from "./wire/replica-stream-codec.js";

/** The Replica client class with the stream codec, made once. */
let ReplicaWithCodec:
  ReturnType<typeof loadProto>["grpcObject"]["dkv"]["v1"]["Replica"] | undefined;

/** The clients of one peer. */
export interface PeerClients {
  readonly node: NodeId;
  readonly address: string;
  readonly replica: ReplicaClient;
  readonly kv: KVClient;
  readonly admin: AdminClient;
  readonly handoff: HandoffClient;
  readonly membership: MembershipClient;
  readonly transfer: TransferClient;
}

/**
 * Channel options for node-to-node and client-to-node traffic. Channelz is off: dkv serves no
 * channelz service, and its per-call bookkeeping cost the servers about 7% of their CPU per
 * operation (docs/BENCHMARKS.md).
 */
export function channelOptions(messageBytesMax: number): grpc.ChannelOptions {
  return {
    "grpc.max_receive_message_length": messageBytesMax,
    "grpc.max_send_message_length": messageBytesMax,
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 1000,
    "grpc.min_reconnect_backoff_ms": 100,
    "grpc.keepalive_time_ms": 10_000,
    "grpc.keepalive_timeout_ms": 5_000,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.enable_retries": 0,
    "grpc.enable_channelz": 0,
  };
}

/** Metadata naming the node a node-to-node call comes from (for node-level partitions). */
export const FROM_HEADER = "dkv-from";

/**
 * Opens the service clients of one peer over a single channel; every call names `self`. With
 * TLS (`security`) the peer must prove it is `node`.
 */
export function connectPeer(
  self: NodeId,
  node: NodeId,
  address: string,
  messageBytesMax: number,
  interceptors: readonly grpc.Interceptor[] = [],
  security: ChannelSecurity = INSECURE_CHANNELS,
): PeerClients {
  const { grpcObject } = loadProto();
  const v1 = grpcObject.dkv.v1;
  // Replica.Stream with the hand-written codec of node/wire/replica-stream-codec.ts.
  ReplicaWithCodec ??= grpc.makeGenericClientConstructor(
    withReplicaStreamCodec(v1.Replica.service),
    "Replica",
  ) as unknown as typeof v1.Replica;
  const secured = security.channel(node);
  const options = { ...channelOptions(messageBytesMax), ...secured.options };
  const channel = new grpc.Channel(address, secured.credentials, options);
  const nameSelf: grpc.Interceptor = (callOptions, nextCall) =>
    new grpc.InterceptingCall(nextCall(callOptions), {
      start(metadata, listener, next) {
        metadata.set(FROM_HEADER, self);
        next(metadata, listener);
      },
    });
  const shared = {
    ...options,
    channelOverride: channel,
    interceptors: [nameSelf, ...interceptors],
  };
  // The clients ride on `channel`, whose credentials are the ones that count.
  const unused = grpc.credentials.createInsecure();
  return {
    node,
    address,
    replica: new ReplicaWithCodec(address, unused, shared),
    kv: new v1.KV(address, unused, shared),
    admin: new v1.Admin(address, unused, shared),
    handoff: new v1.Handoff(address, unused, shared),
    membership: new v1.Membership(address, unused, shared),
    transfer: new v1.Transfer(address, unused, shared),
  };
}

/** Closes the clients of a peer (they share one channel). */
export function closePeer(peer: PeerClients): void {
  peer.replica.close();
  peer.kv.close();
  peer.admin.close();
  peer.handoff.close();
  peer.membership.close();
  peer.transfer.close();
}
