// `dkv put KEY VALUE`: writes a value and prints the new context.

import { readFileSync } from "node:fs";
import type { Argv, ArgumentsCamelCase } from "yargs";
import {
  callOptions,
  formatContext,
  openClient,
  parseContextArg,
  withClientOptions,
  type ClientArgs,
} from "../client-options.js";
import { siblingJson, siblingLines } from "../output.js";
import { UsageError } from "../usage.js";
import type { PutOptions } from "../../coordinator/client.js";

interface PutArgs extends ClientArgs {
  key: string;
  value: string;
  context: string | undefined;
  "content-type": string | undefined;
  meta: string[] | undefined;
  "return-body": boolean;
  "if-none-match": boolean;
}

export const command = "put <key> <value>";
export const describe = "Write a value (use - to read it from stdin); prints the new context";

export function builder(yargs: Argv): Argv<PutArgs> {
  return withClientOptions(yargs)
    .positional("key", { type: "string", demandOption: true })
    .positional("value", { type: "string", demandOption: true })
    .option("context", {
      type: "string",
      describe: "Context of an earlier get: supersede the siblings it returned",
    })
    .option("content-type", {
      type: "string",
      describe: "Default: application/json for JSON values, else text/plain",
    })
    .option("meta", {
      type: "array",
      string: true,
      describe: "Metadata as name=value (repeatable)",
    })
    .option("return-body", {
      type: "boolean",
      default: false,
      describe: "Print every sibling after the write",
    })
    .option("if-none-match", {
      type: "boolean",
      default: false,
      describe: "Fail if the key already has a value",
    }) as unknown as Argv<PutArgs>;
}

export async function handler(args: ArgumentsCamelCase<PutArgs>): Promise<void> {
  const value = args.value === "-" ? readFileSync(0) : Buffer.from(args.value, "utf8");
  const options: PutOptions = {
    ...callOptions(args),
    contentType: args["content-type"] ?? guessContentType(value),
    metadata: parseMeta(args.meta ?? []),
    returnBody: args["return-body"],
    ifNoneMatch: args["if-none-match"],
    ...(args.context === undefined ? {} : { context: parseContextArg(args.context) }),
  };
  const client = openClient(args);
  try {
    const reply = await client.put(args.key, value, options);
    if (args.json) {
      console.log(
        JSON.stringify({
          context: formatContext(reply.context),
          vtag: reply.vtag,
          siblings: reply.siblings.map(siblingJson),
        }),
      );
      return;
    }
    if (args["return-body"]) for (const line of siblingLines(reply.siblings)) console.log(line);
    console.log(`vtag: ${reply.vtag}`);
    console.log(`context: ${formatContext(reply.context)}`);
  } finally {
    client.close();
  }
}

function guessContentType(value: Buffer): string {
  const text = value.toString("utf8").trim();
  if (text.startsWith("{") || text.startsWith("[")) {
    try {
      JSON.parse(text);
      return "application/json";
    } catch {
      // not JSON after all
    }
  }
  return "text/plain; charset=utf-8";
}

function parseMeta(entries: readonly string[]): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const entry of entries) {
    const equals = entry.indexOf("=");
    if (equals <= 0) throw new UsageError(`--meta must be name=value, got '${entry}'`);
    metadata[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return metadata;
}
