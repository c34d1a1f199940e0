// `dkv delete KEY [--context C]`: deletes the siblings the context covers. Without --context
// it reads the key first and deletes what that read returned, as Riak's clients do.

import type { Argv, ArgumentsCamelCase } from "yargs";
import {
  callOptions,
  openClient,
  parseContextArg,
  withClientOptions,
  type ClientArgs,
} from "../client-options.js";

interface DeleteArgs extends ClientArgs {
  key: string;
  context: string | undefined;
}

export const command = "delete <key>";
export const describe = "Delete a key (the siblings covered by --context, or by a fresh get)";

export function builder(yargs: Argv): Argv<DeleteArgs> {
  return withClientOptions(yargs)
    .positional("key", { type: "string", demandOption: true })
    .option("context", {
      type: "string",
      describe: "Context of a get; default: get the key first",
    }) as unknown as Argv<DeleteArgs>;
}

export async function handler(args: ArgumentsCamelCase<DeleteArgs>): Promise<void> {
  const options = callOptions(args);
  const client = openClient(args);
  try {
    let context = args.context === undefined ? undefined : parseContextArg(args.context);
    if (context === undefined) {
      const read = await client.get(args.key, options);
      if (read.siblings.length === 0) {
        report(args, false);
        return;
      }
      context = read.context;
    }
    await client.delete(args.key, { ...options, context });
    report(args, true);
  } finally {
    client.close();
  }
}

function report(args: DeleteArgs, deleted: boolean): void {
  if (args.json) console.log(JSON.stringify({ key: args.key, deleted }));
  else console.log(deleted ? `deleted ${args.key}` : `${args.key}: not found, nothing to delete`);
}
