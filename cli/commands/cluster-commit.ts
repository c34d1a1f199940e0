// `dkv cluster commit`: commits the staged changes, making the next layout version, only if
// they are still those of a plan shown. Without flags, the plan the claimant showed last (`dkv
// cluster plan`, from any node): refused with FAILED_PRECONDITION when none was shown since the
// claimant started or the changes were staged or cleared since, as Riak's claimant does. With
// --based-on and --revision (as `dkv cluster plan` prints them), that plan, whoever showed it.
// The claimant commits (node/core/claimant.ts), and the command then checks that the members
// hold that layout (cli/commit-verify.ts): a commit that lost to a concurrent one exits 6.

import type { ClientSecurity } from "../../node/security/client-security.js";
import type { Argv, ArgumentsCamelCase } from "yargs";
import type { MetadataReply__Output } from "../../proto/generated/dkv/v1/MetadataReply.js";
import {
  clientSecurity,
  nodeAddresses,
  withClientOptions,
  type ClientArgs,
} from "../client-options.js";
import { UsageError } from "../usage.js";
import { commitSummary, parseMetadataJson, parsePlanJson } from "../membership-output.js";
import { callMembership } from "./cluster-membership.js";
import { committedLayout, verificationWarnings, verifyCommit } from "../commit-verify.js";

interface CommitArgs extends ClientArgs {
  "based-on": number | undefined;
  revision: number | undefined;
}

export const command = "commit";
export const describe =
  "Commit the plan shown by `dkv cluster plan`, refused if the staged changes changed since";

export function builder(yargs: Argv): Argv<CommitArgs> {
  return withClientOptions(yargs)
    .option("based-on", {
      type: "number",
      describe: "The layout version the plan shown was based on (printed by `dkv cluster plan`)",
    })
    .option("revision", {
      type: "number",
      describe: "The staged revision of the plan shown (printed by `dkv cluster plan`)",
    }) as unknown as Argv<CommitArgs>;
}

export async function handler(args: ArgumentsCamelCase<CommitArgs>): Promise<void> {
  const expected = expectedPlan(args["based-on"], args.revision);
  const security = clientSecurity(args);
  const { reply } = await commit(nodeAddresses(args), args.timeout, expected, security);
  const held = await verified(reply, security);
  if (args.json) {
    console.log(reply.metadata_json);
    return;
  }
  const after = parseMetadataJson(reply.metadata_json);
  if (reply.plan_json === "") {
    // A node of an older version, whose reply does not carry the plan.
    console.log(`committed the plan shown → layout version ${after.layout.version}`);
  } else {
    console.log(commitSummary(parsePlanJson(reply.plan_json), after));
  }
  console.log(held);
}

/**
 * Checks that the members hold the layout the claimant committed; throws CommitLostError when
 * another layout of its version won, and warns (stderr) about members that could not confirm.
 */
async function verified(reply: MetadataReply__Output, security: ClientSecurity): Promise<string> {
  const verification = await verifyCommit(committedLayout(reply), security);
  for (const line of verificationWarnings(verification)) console.error(line);
  const holding = verification.checks
    .filter((check) => check.state === "same" || check.state === "later")
    .map((check) => check.node);
  return `held by ${holding.join(", ") || "no member yet"} (layout digest ${verification.digest})`;
}

/** The plan to insist on: both flags or neither, each a non-negative integer. */
function expectedPlan(
  basedOn: number | undefined,
  revision: number | undefined,
): { basedOn: number; revision: number } | undefined {
  if (basedOn === undefined && revision === undefined) return undefined;
  if (basedOn === undefined || revision === undefined) {
    throw new UsageError(
      "--based-on and --revision go together, as `dkv cluster plan` prints them",
    );
  }
  for (const [name, value] of [
    ["based-on", basedOn],
    ["revision", revision],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new UsageError(`--${name} must be a non-negative integer, got ${value}`);
    }
  }
  return { basedOn, revision };
}

/** Commits the plan `expected` names, or (undefined) the plan the claimant showed last. */
function commit(
  addresses: readonly string[],
  timeoutMs: number,
  expected: { basedOn: number; revision: number } | undefined,
  security: ClientSecurity,
): Promise<{ reply: MetadataReply__Output; address: string }> {
  const request =
    expected === undefined
      ? { as_planned: true }
      : { based_on: expected.basedOn, revision: expected.revision };
  return callMembership<MetadataReply__Output>(
    addresses,
    timeoutMs,
    (client, options, done) => client.Commit(request, options, done),
    security,
  );
}
