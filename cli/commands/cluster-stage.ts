// `dkv cluster join|leave|replace|force-remove|clear`: stage one membership change for the next
// `dkv cluster commit`, or drop them all. Nothing moves until the commit; `dkv cluster plan`
// shows what it would do.

import type { Argv, ArgumentsCamelCase, CommandModule } from "yargs";
import type { StageRequest } from "../../proto/generated/dkv/v1/StageRequest.js";
import type { MetadataReply__Output } from "../../proto/generated/dkv/v1/MetadataReply.js";
import {
  clientSecurity,
  nodeAddresses,
  withClientOptions,
  type ClientArgs,
} from "../client-options.js";
import { changeText } from "../membership-output.js";
import {
  callMembership,
  parseMemberArg,
  parseNodeIdArg,
  printMetadataReply,
} from "./cluster-membership.js";

interface NodeArgs extends ClientArgs {
  id: string;
}

interface JoinArgs extends ClientArgs {
  member: string;
}

interface ReplaceArgs extends ClientArgs {
  old: string;
  member: string;
}

/** Stages `request` on the first reachable node and prints the staged changes it then holds. */
async function stage(args: ClientArgs, request: Required<StageRequest>): Promise<void> {
  const addresses = nodeAddresses(args);
  const { reply } = await callMembership<MetadataReply__Output>(
    addresses,
    args.timeout,
    (client, options, done) => client.Stage(request, options, done),
    clientSecurity(args),
  );
  printMetadataReply(reply, args.json, `staged: ${changeText(request)}`);
}

function withId(yargs: Argv, describe: string): Argv<NodeArgs> {
  // type string: yargs would turn an all-digit id such as 7 into a number.
  return withClientOptions(yargs).positional("id", {
    type: "string",
    demandOption: true,
    describe,
  }) as unknown as Argv<NodeArgs>;
}

/** `dkv cluster join ID=HOST:PORT`. */
export const join: CommandModule<unknown, JoinArgs> = {
  command: "join <member>",
  describe: "Stage a new node joining the cluster: ID=HOST:PORT (its advertised address)",
  builder: (yargs: Argv) =>
    withClientOptions(yargs).positional("member", {
      type: "string",
      demandOption: true,
      describe: "The new node as ID=HOST:PORT",
    }) as unknown as Argv<JoinArgs>,
  handler: async (args: ArgumentsCamelCase<JoinArgs>) => {
    const { node, address } = parseMemberArg(args.member, "the member");
    await stage(args, { kind: "join", node, address, by: "" });
  },
};

/** `dkv cluster leave ID`. */
export const leave: CommandModule<unknown, NodeArgs> = {
  command: "leave <id>",
  describe: "Stage a node leaving: it hands its partitions over, then is removed",
  builder: (yargs: Argv) => withId(yargs, "The node that leaves"),
  handler: async (args: ArgumentsCamelCase<NodeArgs>) => {
    const node = parseNodeIdArg(args.id, "the node");
    await stage(args, { kind: "leave", node, address: "", by: "" });
  },
};

/** `dkv cluster replace OLD NEW=HOST:PORT`. */
export const replace: CommandModule<unknown, ReplaceArgs> = {
  command: "replace <old> <member>",
  describe: "Stage a new node taking an old node's place: OLD NEW=HOST:PORT",
  builder: (yargs: Argv) =>
    withClientOptions(yargs)
      .positional("old", { type: "string", demandOption: true, describe: "The node replaced" })
      .positional("member", {
        type: "string",
        demandOption: true,
        describe: "The replacement as ID=HOST:PORT",
      }) as unknown as Argv<ReplaceArgs>,
  handler: async (args: ArgumentsCamelCase<ReplaceArgs>) => {
    const node = parseNodeIdArg(args.old, "the old node");
    const { node: by, address } = parseMemberArg(args.member, "the replacement");
    await stage(args, { kind: "replace", node, by, address });
  },
};

/** `dkv cluster force-remove ID`. */
export const forceRemove: CommandModule<unknown, NodeArgs> = {
  command: "force-remove <id>",
  describe:
    "Stage removing a dead node at once: it is never a transfer source, its copies are rebuilt from the others",
  builder: (yargs: Argv) => withId(yargs, "The node removed"),
  handler: async (args: ArgumentsCamelCase<NodeArgs>) => {
    const node = parseNodeIdArg(args.id, "the node");
    await stage(args, { kind: "force-remove", node, address: "", by: "" });
  },
};

/** `dkv cluster clear`. */
export const clear: CommandModule<unknown, ClientArgs> = {
  command: "clear",
  describe: "Drop every staged change",
  builder: (yargs: Argv) => withClientOptions(yargs),
  handler: async (args: ArgumentsCamelCase<ClientArgs>) => {
    const { reply } = await callMembership<MetadataReply__Output>(
      nodeAddresses(args),
      args.timeout,
      (client, options, done) => client.Clear({}, options, done),
      clientSecurity(args),
    );
    printMetadataReply(reply, args.json, "cleared the staged changes");
  },
};
