// `dkv grant|revoke PERM --bucket B --user U`: a user's permissions, read, write or delete on a
// bucket (`*`: every bucket), or admin of the cluster (no bucket). Default deny: a user can do
// only what it was granted. Granting twice or revoking what is not held changes nothing.

import type { Argv, ArgumentsCamelCase, CommandModule } from "yargs";
import type { Grant } from "../../node/core/access.js";
import { withClientOptions, type ClientArgs } from "../client-options.js";
import {
  callAccess,
  grantText,
  parseGrantArgs,
  parseUserArg,
  userJson,
  userOf,
} from "../access-output.js";

interface GrantArgs extends ClientArgs {
  permission: string;
  user: string | undefined;
}

function builder(yargs: Argv): Argv<GrantArgs> {
  return withClientOptions(yargs)
    .positional("permission", {
      type: "string",
      demandOption: true,
      describe: "read, write, delete (with --bucket) or admin (cluster-wide)",
    })
    .option("user", { type: "string", describe: "The user" }) as unknown as Argv<GrantArgs>;
}

async function run(args: GrantArgs, revoke: boolean): Promise<void> {
  const user = parseUserArg(args.user);
  const grant: Grant = parseGrantArgs(args.permission, args.bucket);
  const request = {
    user,
    permission: grant.permission,
    bucket: "bucket" in grant ? grant.bucket : "",
  };
  const reply = await callAccess(args, (client, options, done) =>
    revoke ? client.Revoke(request, options, done) : client.Grant(request, options, done),
  );
  const after = userOf(reply, user);
  if (args.json) {
    console.log(JSON.stringify(after === undefined ? { user } : userJson(after)));
    return;
  }
  console.log(
    `${revoke ? "revoked" : "granted"} ${grantText(grant)} ${revoke ? "from" : "to"} ${user}`,
  );
  const held = after?.grants.map(grantText) ?? [];
  console.log(`${user} now holds: ${held.length === 0 ? "nothing" : held.join(", ")}`);
}

/** `dkv grant PERM [--bucket B] --user U`. */
export const grant: CommandModule<unknown, GrantArgs> = {
  command: "grant <permission>",
  describe: "Grant a user read, write or delete on a bucket (--bucket '*': all), or admin",
  builder,
  handler: (args: ArgumentsCamelCase<GrantArgs>) => run(args, false),
};

/** `dkv revoke PERM [--bucket B] --user U`. */
export const revoke: CommandModule<unknown, GrantArgs> = {
  command: "revoke <permission>",
  describe: "Revoke a permission granted with dkv grant",
  builder,
  handler: (args: ArgumentsCamelCase<GrantArgs>) => run(args, true),
};
