// `dkv cluster show`: the cluster metadata one node holds: the layout version, its members and
// the partitions each owns, the transition under way and the changes staged for the next commit.

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
}
