// `dkv cluster show`: the cluster metadata one node holds: the layout version, its members and
// the partitions each owns, the transition under way and the changes staged for the next commit;
// and the claimant as that node sees it (who it believes up, from its status).

import type { ClientSecurity } from "../../node/security/client-security.js";
import type { Argv, ArgumentsCamelCase } from "yargs";
import type { MetadataReply__Output } from "../../proto/generated/dkv/v1/MetadataReply.js";
import {
  clientSecurity,
  nodeAddresses,
  withClientOptions,
  type ClientArgs,
} from "../client-options.js";
import { metadataLines, parseMetadataJson } from "../membership-output.js";
import { callMembership } from "./cluster-membership.js";
import { DkvClient } from "../../coordinator/client.js";
import { claimantOf } from "../../node/core/claimant.js";
import { decodeMetadata } from "../../node/core/layout-codec.js";
import type { NodeId } from "../../node/core/node-id.js";

export const command = "show";
export const describe =
  "Show the cluster layout: version, members and their partitions, transition progress, staged changes";

export function builder(yargs: Argv): Argv<ClientArgs> {
  return withClientOptions(yargs);
}

export async function handler(args: ArgumentsCamelCase<ClientArgs>): Promise<void> {
  const { reply, address } = await callMembership<MetadataReply__Output>(
    nodeAddresses(args),
    args.timeout,
    (client, options, done) => client.Get({}, options, done),
    clientSecurity(args),
  );
  if (args.json) {
    console.log(reply.metadata_json);
    return;
  }
  console.log(`asked ${address} (metadata digest ${reply.digest.slice(0, 12)})`);
  for (const line of metadataLines(parseMetadataJson(reply.metadata_json))) console.log(line);
  console.log(await claimantLine(address, reply.metadata_json, args.timeout, clientSecurity(args)));
}

/** `claimant: n1`, as the node at `address` sees it: its layout and the members it believes up. */
async function claimantLine(
  address: string,
  json: string,
  timeoutMs: number,
  security: ClientSecurity,
): Promise<string> {
  const client = new DkvClient([address], { security });
  try {
    const status = await client.status({ timeoutMs });
    const up = new Set(status.members.filter((m) => m.up).map((m) => m.node_id as NodeId));
    const claimant = claimantOf(decodeMetadata(Buffer.from(json, "utf8")).layout, up);
    return `claimant: ${claimant ?? "none (no valid or joining member is up)"} (as ${status.node_id} sees who is up)`;
  } catch (error) {
    return `claimant: unknown (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    client.close();
  }
}
