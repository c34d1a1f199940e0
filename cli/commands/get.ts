// `dkv get KEY`: prints every sibling and the context.

import type { Argv, ArgumentsCamelCase } from "yargs";
import {
  callOptions,
  formatContext,
  openClient,
  withClientOptions,
  type ClientArgs,
} from "../client-options.js";
import { siblingJson, siblingLines } from "../output.js";

interface GetArgs extends ClientArgs {
  key: string;
}

export const command = "get <key>";
export const describe = "Read every sibling of a key and the context to write back with";

export function builder(yargs: Argv): Argv<GetArgs> {
  return withClientOptions(yargs).positional("key", {
    type: "string",
    demandOption: true,
  }) as unknown as Argv<GetArgs>;
}

export async function handler(args: ArgumentsCamelCase<GetArgs>): Promise<void> {
  const options = callOptions(args);
  const client = openClient(args);
  try {
    const reply = await client.get(args.key, options);
    const context = formatContext(reply.context);
    if (args.json) {
      console.log(
        JSON.stringify({
          key: args.key,
          found: reply.siblings.length > 0,
          siblings: reply.siblings.map(siblingJson),
          context,
        }),
      );
      return;
    }
    if (reply.siblings.length === 0) {
      console.log(`${args.key}: not found`);
    } else {
      for (const line of siblingLines(reply.siblings)) console.log(line);
    }
    if (context !== "") console.log(`context: ${context}`);
  } finally {
    client.close();
  }
}
