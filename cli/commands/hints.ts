// `dkv hints`: the hints every node holds for down primaries, waiting for handoff.

import type { Argv, ArgumentsCamelCase } from "yargs";
import Table from "cli-table3";
import { DkvClient } from "../../coordinator/client.js";
import {
  clientSecurity,
  nodeAddresses,
  withClientOptions,
  type ClientArgs,
} from "../client-options.js";

export const command = "hints";
export const describe = "Show the hints each node holds for other nodes (hinted handoff)";

export function builder(yargs: Argv): Argv<ClientArgs> {
  return withClientOptions(yargs);
}

interface HintRow {
  holder: string;
  target: string;
  hints: number;
  bytes: number;
}

export async function handler(args: ArgumentsCamelCase<ClientArgs>): Promise<void> {
  const first = new DkvClient(nodeAddresses(args), { security: clientSecurity(args) });
  let members: { node_id: string; address: string }[];
  try {
    members = (await first.status({ timeoutMs: args.timeout })).members;
  } finally {
    first.close();
  }
  const rows: HintRow[] = [];
  const unreachable: string[] = [];
  await Promise.all(
    members.map(async (member) => {
      const client = new DkvClient([member.address], { security: clientSecurity(args) });
      try {
        const status = await client.status({ timeoutMs: args.timeout });
        for (const target of status.members) {
          const hints = Number(target.hints_pending);
          if (hints > 0) {
            const bytes = Number(target.hint_bytes_pending);
            rows.push({ holder: member.node_id, target: target.node_id, hints, bytes });
          }
        }
      } catch {
        unreachable.push(member.node_id);
      } finally {
        client.close();
      }
    }),
  );
  rows.sort((a, b) => a.holder.localeCompare(b.holder) || a.target.localeCompare(b.target));
  if (args.json) {
    console.log(JSON.stringify({ hints: rows, unreachable: unreachable.sort() }));
    return;
  }
  if (rows.length === 0) console.log("no hints pending");
  else {
    const table = new Table({
      head: ["held by", "for", "hints", "bytes"],
      style: { head: [], border: [] },
    });
    for (const row of rows) table.push([row.holder, row.target, row.hints, row.bytes]);
    console.log(table.toString());
  }
  if (unreachable.length > 0)
    console.log(`not asked (unreachable): ${unreachable.sort().join(", ")}`);
}
