// `dkv user add|remove|list|token`: the users of the cluster, kept in its metadata. A new token
// is printed once: the cluster keeps only its hash and cannot show it again.

import type { Argv, ArgumentsCamelCase, CommandModule } from "yargs";
import { withClientOptions, type ClientArgs } from "../client-options.js";
import { callAccess, parseUserArg, userJson, userLines } from "../access-output.js";

interface NameArgs extends ClientArgs {
  name: string;
}

interface AddArgs extends NameArgs {
  "certificate-only": boolean;
}

function withName(yargs: Argv, describe: string): Argv<NameArgs> {
  return withClientOptions(yargs).positional("name", {
    type: "string",
    demandOption: true,
    describe,
  }) as unknown as Argv<NameArgs>;
}

/** Prints a new token, shown this once. */
function printToken(name: string, token: string, json: boolean, done: string): void {
  if (json) {
    console.log(JSON.stringify({ user: name, token }));
    return;
  }
  console.log(done);
  if (token === "") return;
  console.log("token (shown once: store it now, the cluster keeps only its hash):");
  console.log(`  ${token}`);
}

/** `dkv user add NAME [--certificate-only]`. */
export const add: CommandModule<unknown, AddArgs> = {
  command: "add <name>",
  describe: "Add a user with a new token (printed once) and no grants",
  builder: (yargs: Argv) =>
    withName(yargs, "The user: 1..64 of [A-Za-z0-9_.@-]").option("certificate-only", {
      type: "boolean",
      default: false,
      describe: "Make no token: the user authenticates with a client certificate only",
    }) as unknown as Argv<AddArgs>,
  handler: async (args: ArgumentsCamelCase<AddArgs>) => {
    const user = parseUserArg(args.name);
    const request = { user, without_token: args["certificate-only"] };
    const reply = await callAccess(args, (client, options, done) =>
      client.AddUser(request, options, done),
    );
    printToken(user, reply.token, args.json, `added user ${user} (no grants yet: dkv grant)`);
  },
};

/** `dkv user remove NAME`. */
export const remove: CommandModule<unknown, NameArgs> = {
  command: "remove <name>",
  describe: "Remove a user, its tokens and its grants",
  builder: (yargs: Argv) => withName(yargs, "The user removed"),
  handler: async (args: ArgumentsCamelCase<NameArgs>) => {
    const user = parseUserArg(args.name);
    await callAccess(args, (client, options, done) => client.RemoveUser({ user }, options, done));
    console.log(args.json ? JSON.stringify({ user, removed: true }) : `removed user ${user}`);
  },
};

/** `dkv user token NAME`. */
export const token: CommandModule<unknown, NameArgs> = {
  command: "token <name>",
  describe: "Give a user a new token (printed once) in place of its old ones",
  builder: (yargs: Argv) => withName(yargs, "The user"),
  handler: async (args: ArgumentsCamelCase<NameArgs>) => {
    const user = parseUserArg(args.name);
    const reply = await callAccess(args, (client, options, done) =>
      client.RotateToken({ user }, options, done),
    );
    printToken(
      user,
      reply.token,
      args.json,
      `new token for ${user}; its old tokens no longer work`,
    );
  },
};

/** `dkv user list`. */
export const list: CommandModule<unknown, ClientArgs> = {
  command: "list",
  describe: "List the users, their grants and how many tokens each holds",
  builder: (yargs: Argv) => withClientOptions(yargs),
  handler: async (args: ArgumentsCamelCase<ClientArgs>) => {
    const reply = await callAccess(args, (client, options, done) =>
      client.ListUsers({}, options, done),
    );
    if (args.json) console.log(JSON.stringify({ users: reply.users.map(userJson) }));
    else for (const line of userLines(reply.users)) console.log(line);
  },
};
