// How a node finds its cluster at start: `dkv serve --join HOST:PORT` fetches the metadata of a
// running member (the new node then knows every member, the ring and the layout version) and,
// once it listens, asks that member to stage its join for the next `dkv cluster commit`.

import * as grpc from "@grpc/grpc-js";
import { loadProto } from "../proto/load-proto.js";
import { channelOptions } from "../node/peer-clients.js";
import type { ClusterMetadata } from "../node/core/layout.js";
import { decodeMetadata } from "../node/core/layout-codec.js";
import type { NodeId } from "../node/core/node-id.js";
import type { Logger } from "../node/logger.js";
import type { MetadataStore } from "../node/membership/metadata-store.js";
import type { MembershipClient } from "../proto/generated/dkv/v1/Membership.js";
import type { Member } from "../node/cluster-view.js";
import type { ChannelSecurity } from "../node/security/channel-security.js";

/** How long a joining node waits for the member it joins through, per call. */
const JOIN_CALL_TIMEOUT_MS = 10_000;

function membershipClient(
  seed: string,
  messageBytesMax: number,
  security: ChannelSecurity,
): MembershipClient {
  const v1 = loadProto().grpcObject.dkv.v1;
  // The seed's node id is not known yet: any node certificate of the cluster's CA will do.
  const secured = security.channel();
  return new v1.Membership(seed, secured.credentials, {
    ...channelOptions(messageBytesMax),
    ...secured.options,
  });
}

/** The cluster metadata `seed` holds; throws with the reason when it cannot be had. */
export async function fetchMetadata(
  seed: string,
  messageBytesMax: number,
  security: ChannelSecurity,
): Promise<ClusterMetadata> {
  const client = membershipClient(seed, messageBytesMax, security);
  try {
    const reply = await new Promise<{ metadata_json: string }>((resolve, reject) =>
      client.Get({}, { deadline: Date.now() + JOIN_CALL_TIMEOUT_MS }, (error, value) =>
        error !== null || value === undefined
          ? reject(error ?? new Error("no reply"))
          : resolve(value),
      ),
    );
    return decodeMetadata(Buffer.from(reply.metadata_json, "utf8"));
  } catch (error) {
    const reason = (error as grpc.ServiceError).details ?? (error as Error).message;
    throw new Error(`cannot join through ${seed}: ${reason}`, { cause: error });
  } finally {
    client.close();
  }
}

/**
 * Asks `seed` to stage this node's join. A join already staged (a restart before the commit)
 * is fine; any other refusal is logged, and the operator can stage it with `dkv cluster join`.
 */
export async function stageOwnJoin(options: {
  readonly seed: string;
  readonly self: NodeId;
  readonly address: string;
  readonly messageBytesMax: number;
  readonly logger: Logger;
  readonly security: ChannelSecurity;
}): Promise<void> {
  const client = membershipClient(options.seed, options.messageBytesMax, options.security);
  try {
    await new Promise<void>((resolve, reject) =>
      client.Stage(
        { kind: "join", node: options.self, address: options.address },
        { deadline: Date.now() + JOIN_CALL_TIMEOUT_MS },
        (error) => (error === null ? resolve() : reject(error)),
      ),
    );
    options.logger.info(
      { seed: options.seed, address: options.address },
      "join staged: run 'dkv cluster plan' and 'dkv cluster commit' to add this node",
    );
  } catch (error) {
    const reason = (error as grpc.ServiceError).details ?? (error as Error).message;
    options.logger.warn(
      { seed: options.seed, reason },
      "could not stage this node's join; stage it with 'dkv cluster join'",
    );
  } finally {
    client.close();
  }
}

/** Says at start which layout the node follows, and when --peers disagrees with it. */
export function logMetadataOpened(
  config: { readonly members: readonly Member[]; readonly self: NodeId; readonly logger: Logger },
  store: MetadataStore,
  created: boolean,
): void {
  const { layout } = store.current;
  const members = layout.members.map(
    (member) => `${member.node}=${member.address}:${member.state}`,
  );
  config.logger.info(
    { version: layout.version, partitions: layout.partitionCount, members, created },
    created ? "cluster metadata created" : "cluster metadata loaded",
  );
  if (created || config.members.length === 0) return;
  const known = new Map(layout.members.map((member) => [member.node, member.address]));
  const differs = config.members.some((member) => known.get(member.node) !== member.address);
  if (differs) {
    config.logger.warn(
      { peers: config.members.map((member) => `${member.node}=${member.address}`) },
      "--peers differs from the cluster metadata on disk, which wins: change members with 'dkv cluster'",
    );
  }
}
