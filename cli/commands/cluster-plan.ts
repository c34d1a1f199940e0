// `dkv cluster plan`: what committing the staged changes would do, as one node computes it:
// the next layout version, ownership before and after, the transfers per node pair with their
// estimated keys and bytes, an ETA and warnings. It changes nothing.

import type { Argv, ArgumentsCamelCase } from "yargs";
import type { PlanReply__Output } from "../../proto/generated/dkv/v1/PlanReply.js";
import {
  clientSecurity,
  nodeAddresses,
  withClientOptions,
  type ClientArgs,
} from "../client-options.js";
import { parsePlanJson, planLines } from "../membership-output.js";
import { callMembership } from "./cluster-membership.js";

export const command = "plan";
export const describe =
  "Show what committing the staged changes would do: partitions that move, transfers, ETA, warnings";

export function builder(yargs: Argv): Argv<ClientArgs> {
  return withClientOptions(yargs);
}

export async function handler(args: ArgumentsCamelCase<ClientArgs>): Promise<void> {
  const { reply } = await callMembership<PlanReply__Output>(
    nodeAddresses(args),
    args.timeout,
    (client, options, done) => client.Plan({}, options, done),
    clientSecurity(args),
  );
  if (args.json) {
    console.log(reply.plan_json);
    return;
  }
  for (const line of planLines(parsePlanJson(reply.plan_json))) console.log(line);
}
