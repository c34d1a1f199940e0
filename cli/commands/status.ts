// `dkv status`: the cluster as one node sees it: members, addresses, up/down, partitions owned.

import type { Argv, ArgumentsCamelCase } from "yargs";
import Table from "cli-table3";
import { openClient, withClientOptions, type ClientArgs } from "../client-options.js";

export const command = "status";
export const describe =
  "Show the nodes, their addresses, up/down as seen by the node asked, and partitions owned";

export function builder(yargs: Argv): Argv<ClientArgs> {
  return withClientOptions(yargs);
}

export async function handler(args: ArgumentsCamelCase<ClientArgs>): Promise<void> {
  const client = openClient(args);
  try {
    const status = await client.status({ timeoutMs: args.timeout });
    if (args.json) {
      console.log(JSON.stringify(status));
      return;
    }
    console.log(
      `asked ${status.node_id} at ${status.address}: ${status.members.length} nodes, ` +
        `${status.partition_count} partitions, n=${status.default_n}, storage ${status.storage_engine}, ` +
        `${status.keys_stored} keys stored here`,
    );
    if (Number(status.corrupt_records) > 0) {
      console.log(
        `warning: ${status.corrupt_records} corrupt records found in this node's storage; ` +
          "their keys are served from other replicas and repaired by reads",
      );
    }
    if (status.dropped_peers.length > 0) {
      console.log(
        `fault injection: dropping traffic to and from ${status.dropped_peers.join(", ")}`,
      );
    }
    const table = new Table({
      head: ["node", "address", "state", "phi", "rtt ms", "partitions", "hints", "note"],
      style: { head: [], border: [] },
      chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
    });
    for (const member of status.members) {
      table.push([
        member.node_id,
        member.address,
        member.up ? "up" : "down",
        member.node_id === status.node_id ? "-" : member.phi.toFixed(1),
        member.node_id === status.node_id
          ? "self"
          : member.up
            ? member.round_trip_ms.toFixed(2)
            : "-",
        String(member.partitions.length),
        Number(member.hints_pending) === 0
          ? "-"
          : `${member.hints_pending} (${member.hint_bytes_pending} B)`,
        member.error,
      ]);
    }
    console.log(table.toString());
  } finally {
    client.close();
  }
}
