// `dkv cluster transfers`: the partitions moving to new owners in the membership change under
// way, asked of every member: which node receives which partition, which old primaries it has
// still to find it in sync with, the keys there and here (from the anti-entropy trees), what is
// left, an ETA at the repair throttle, and why it waits.

import type { Argv, ArgumentsCamelCase } from "yargs";
import Table from "cli-table3";
import { DkvClient } from "../../coordinator/client.js";
import { openClient, withClientOptions, type ClientArgs } from "../client-options.js";
import { askFirstReachable } from "./aae-status.js";
import { formatDuration } from "../membership-output.js";

export const command = "transfers";
export const describe =
  "Show the partitions a membership change is moving: to, from, keys left, ETA, why it waits";

/** One partition on its way to one node. */
export interface TransferRow {
  readonly to: string;
  readonly partition: number;
  readonly waitingFor: readonly string[];
  readonly keysThere: number;
  readonly keysHere: number;
  readonly keysLeft: number;
  readonly etaSeconds: number | undefined;
  readonly why: string;
}

export function builder(yargs: Argv): Argv<ClientArgs> {
  return withClientOptions(yargs);
}

export async function handler(args: ArgumentsCamelCase<ClientArgs>): Promise<void> {
  const client = openClient(args);
  let rows: TransferRow[];
  let summary: string;
  try {
    const status = await client.status({ timeoutMs: args.timeout });
    const addresses = new Map(status.members.map((member) => [member.node_id, member.address]));
    rows = await transferRows(addresses, args.timeout);
    summary =
      `layout version ${status.layout_version}: ` +
      (status.layout_in_transition
        ? `a membership change is moving data, ${rows.length} partition transfers left`
        : "no membership change under way");
  } finally {
    client.close();
  }
  if (args.json) {
    console.log(JSON.stringify(rows));
    return;
  }
  console.log(summary);
  if (rows.length === 0) return;
  const table = new Table({
    head: ["to", "partition", "waiting for", "keys there", "keys here", "left", "eta", "why"],
    style: { head: [], border: [] },
  });
  for (const row of rows) {
    table.push([
      row.to,
      row.partition,
      row.waitingFor.join(", "),
      row.keysThere,
      row.keysHere,
      row.keysLeft,
      row.etaSeconds === undefined ? "?" : formatDuration(row.etaSeconds),
      row.why,
    ]);
  }
  console.log(table.toString());
}

/** Every member's incoming transfers, with the key counts of both ends' trees. */
async function transferRows(
  addresses: ReadonlyMap<string, string>,
  timeoutMs: number,
): Promise<TransferRow[]> {
  const keysOf = new Map<string, Map<number, number>>();
  const throttleOf = new Map<string, number>();
  const incoming = new Map<string, { partition: number; waiting_for: string[]; why: string }[]>();
  await Promise.all(
    [...addresses].map(async ([node, address]) => {
      const member = new DkvClient([address]);
      try {
        const status = await member.status({ timeoutMs });
        incoming.set(node, status.incoming_transfers);
        const aae = await askFirstReachable([address], timeoutMs);
        keysOf.set(node, new Map(aae.partitions.map((p) => [p.partition, Number(p.tree_keys)])));
        throttleOf.set(node, aae.repair_keys_per_second);
      } catch {
        // A member that does not answer shows no rows; its senders say "source down".
      } finally {
        member.close();
      }
    }),
  );
  const rows: TransferRow[] = [];
  for (const [to, transfers] of [...incoming].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const transfer of transfers) {
      const keysHere = keysOf.get(to)?.get(transfer.partition) ?? 0;
      const there = transfer.waiting_for.map((from) => keysOf.get(from)?.get(transfer.partition));
      const keysThere = Math.max(0, ...there.map((count) => count ?? 0));
      const keysLeft = Math.max(0, keysThere - keysHere);
      const throttle = throttleOf.get(to) ?? 0;
      rows.push({
        to,
        partition: transfer.partition,
        waitingFor: transfer.waiting_for,
        keysThere,
        keysHere,
        keysLeft,
        etaSeconds: throttle > 0 ? keysLeft / throttle : undefined,
        why: transfer.why,
      });
    }
  }
  return rows;
}
