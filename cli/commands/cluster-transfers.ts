// `dkv cluster transfers`: the partitions moving to new owners in the membership change under
// way, asked of every member: which node receives which partition from which old primary, the
// stream's state, keys and bytes done and left, its rate and ETA, the old primaries it has
// still to confirm against, and why it waits. A receiver that does not answer is listed from the
// layout, "receiver down", with what it still has to get (cli/silent-receivers.ts).

import type { Argv, ArgumentsCamelCase } from "yargs";
import Table from "cli-table3";
import { DkvClient } from "../../coordinator/client.js";
import type { IncomingTransfer__Output } from "../../proto/generated/dkv/v1/IncomingTransfer.js";
import {
  clientSecurity,
  nodeAddresses,
  openClient,
  withClientOptions,
  type ClientArgs,
} from "../client-options.js";
import type { ClientSecurity } from "../../node/security/client-security.js";
import { formatBytes, formatDuration } from "../membership-output.js";
import type { MetadataReply__Output } from "../../proto/generated/dkv/v1/MetadataReply.js";
import { decodeMetadata } from "../../node/core/layout-codec.js";
import type { NodeId } from "../../node/core/node-id.js";
import { silentTransfers, type SilentTransfer } from "../silent-receivers.js";
import { callMembership } from "./cluster-membership.js";

export const command = "transfers";
export const describe =
  "Show the partitions a membership change is moving: to, from, state, done and left, rate, ETA, why it waits";

/** One partition on its way to one node. */
export interface TransferRow {
  readonly to: string;
  readonly partition: number;
  /**
   * queued, streaming, confirming or received (see dkv.proto IncomingTransfer); unknown for a
   * receiver that did not answer (keys and bytes then unknown too, shown as ?).
   */
  readonly state: string;
  /** The old primary the stream reads from; empty before the first attempt. */
  readonly source: string;
  readonly waitingFor: readonly string[];
  readonly keysDone: number;
  readonly keysLeft: number;
  readonly bytesDone: number;
  /** Estimated from the mean size of what arrived. */
  readonly bytesLeft: number;
  readonly bytesPerSecond: number;
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
    const asked = await transferRows(addresses, args.timeout, clientSecurity(args));
    rows = asked.rows;
    if (status.layout_in_transition && asked.silent.size > 0) {
      const { reply } = await callMembership<MetadataReply__Output>(
        nodeAddresses(args),
        args.timeout,
        (membership, options, done) => membership.Get({}, options, done),
        clientSecurity(args),
      );
      const metadata = decodeMetadata(Buffer.from(reply.metadata_json, "utf8"));
      rows.push(...silentTransfers(metadata, asked.silent).map(silentRow));
    }
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
  // Queued partitions are summed per receiver: a join queues most of what it gains at once.
  const queued = new Map<string, { count: number; why: string }>();
  for (const row of rows) {
    if (row.state !== "queued" || row.why !== "transfer limit") continue;
    queued.set(row.to, { count: (queued.get(row.to)?.count ?? 0) + 1, why: row.why });
  }
  const table = new Table({
    head: [
      "to",
      "partition",
      "from",
      "state",
      "keys done",
      "keys left",
      "bytes",
      "rate",
      "eta",
      "why",
    ],
    style: { head: [], border: [] },
  });
  for (const row of rows) {
    if (row.state === "queued" && row.why === "transfer limit") continue;
    const known = row.state !== "unknown";
    table.push([
      row.to,
      row.partition,
      row.source || "-",
      stateText(row),
      known ? row.keysDone : "?",
      known ? row.keysLeft : "?",
      known ? `${formatBytes(row.bytesDone)} / ~${formatBytes(row.bytesLeft)} left` : "?",
      row.bytesPerSecond > 0 ? `${formatBytes(row.bytesPerSecond)}/s` : "-",
      row.etaSeconds === undefined ? "?" : formatDuration(row.etaSeconds),
      row.why,
    ]);
  }
  if (table.length > 0) console.log(table.toString());
  for (const [to, { count }] of [...queued].sort(([a], [b]) => (a < b ? -1 : 1))) {
    console.log(`${to}: ${count} more partitions queued behind its transfer limit`);
  }
}

/** Every member's incoming transfers, and the members that did not answer. */
async function transferRows(
  addresses: ReadonlyMap<string, string>,
  timeoutMs: number,
  security: ClientSecurity,
): Promise<{ rows: TransferRow[]; silent: Set<NodeId> }> {
  const incoming = new Map<string, IncomingTransfer__Output[]>();
  const silent = new Set<NodeId>();
  await Promise.all(
    [...addresses].map(async ([node, address]) => {
      const member = new DkvClient([address], { security });
      try {
        incoming.set(node, (await member.status({ timeoutMs })).incoming_transfers);
      } catch {
        // What it still has to receive comes from the layout (silentTransfers).
        silent.add(node as NodeId);
      } finally {
        member.close();
      }
    }),
  );
  const rows = [...incoming]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([to, transfers]) => transfers.map((transfer) => rowOf(to, transfer)));
  return { rows, silent };
}

/** A partition a receiver that did not answer still has to get: nothing known but that. */
function silentRow({ to, partition }: SilentTransfer): TransferRow {
  return {
    to,
    partition,
    state: "unknown",
    source: "",
    waitingFor: [],
    keysDone: 0,
    keysLeft: 0,
    bytesDone: 0,
    bytesLeft: 0,
    bytesPerSecond: 0,
    etaSeconds: undefined,
    why: `receiver down: ${to} did not answer`,
  };
}

/**
 * One incoming transfer as a line of `dkv status`: `partition 3 to n4 from n1: streaming, 120
 * keys done, 80 left, 120.0 KiB / ~80.0 KiB left, 12.0 KiB/s, ETA 7s` and why it waits.
 */
export function incomingLine(to: string, transfer: IncomingTransfer__Output): string {
  const row = rowOf(to, transfer);
  const state = stateText(row);
  return (
    `partition ${row.partition} to ${to} from ${row.source || "-"}: ${state}, ` +
    `${row.keysDone} keys done, ${row.keysLeft} left, ` +
    `${formatBytes(row.bytesDone)} / ~${formatBytes(row.bytesLeft)} left` +
    (row.bytesPerSecond > 0 ? `, ${formatBytes(row.bytesPerSecond)}/s` : "") +
    (row.etaSeconds === undefined ? "" : `, ETA ${formatDuration(row.etaSeconds)}`) +
    (row.why === "" ? "" : `; waits: ${row.why}`)
  );
}

/** The state, and for a confirming partition whom it is still to be confirmed with. */
function stateText(row: TransferRow): string {
  if (row.state !== "confirming" || row.waitingFor.length === 0) return row.state;
  return `confirming with ${row.waitingFor.join(", ")}`;
}

function rowOf(to: string, transfer: IncomingTransfer__Output): TransferRow {
  const etaMs = Number(transfer.eta_ms);
  return {
    to,
    partition: transfer.partition,
    state: transfer.state,
    source: transfer.source,
    waitingFor: transfer.waiting_for,
    keysDone: Number(transfer.keys_done),
    keysLeft: Number(transfer.keys_left),
    bytesDone: Number(transfer.bytes_done),
    bytesLeft: Number(transfer.bytes_left),
    bytesPerSecond: transfer.bytes_per_second,
    etaSeconds: transfer.state === "streaming" && etaMs > 0 ? etaMs / 1000 : undefined,
    why: transfer.why,
  };
}
