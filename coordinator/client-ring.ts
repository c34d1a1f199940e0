// The ring as a client learns it from a node's Status: enough to compute every key's
// primaries (client.ts, routing "primary"). Pure.

import type { StatusResponse__Output } from "../proto/generated/dkv/v1/StatusResponse.js";
import { claimRing, type Ring } from "../node/core/ring.js";
import type { NodeId } from "../node/core/node-id.js";

/**
 * The ring a node follows, from the partitions its Status lists per member (after membership
 * changes the claim is not a fresh one); a fresh claim of the members when the lists do not
 * cover every partition (a node from before membership).
 */
export function ringOfStatus(status: StatusResponse__Output): Ring {
  const nodes = status.members.map((member) => member.node_id as NodeId).sort();
  const owners = new Array<NodeId | undefined>(status.partition_count).fill(undefined);
  for (const member of status.members) {
    for (const partition of member.partitions) {
      if (partition < owners.length) owners[partition] = member.node_id as NodeId;
    }
  }
  if (owners.every((owner) => owner !== undefined)) {
    const owning = [...new Set(owners as NodeId[])];
    return {
      partitionCount: status.partition_count,
      owners: owners as NodeId[],
      nodes: owning.sort(),
    };
  }
  return claimRing({ nodes, partitionCount: status.partition_count, targetN: status.default_n });
}
