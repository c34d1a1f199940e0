// `dkv status`: the cluster as one node sees it: members, addresses, up/down, partitions owned;
// plus each node's own recent request latency (p50/p99), asked of every member in parallel.

import type { Argv, ArgumentsCamelCase } from "yargs";
import Table from "cli-table3";
import {
  clientSecurity,
  openClient,
  withClientOptions,
  type ClientArgs,
} from "../client-options.js";
import type { ClientSecurity } from "../../node/security/client-security.js";
import { DkvClient } from "../../coordinator/client.js";
import type { StatusResponse__Output } from "../../proto/generated/dkv/v1/StatusResponse.js";
import { incomingLine } from "./cluster-transfers.js";

/** How long `dkv status` waits for each member's own status. */
const MEMBER_STATUS_TIMEOUT_MS = 1500;

/** What one member says about itself; `answered: false` when it did not answer in time. */
export interface NodeSelfReport {
  readonly node_id: string;
  readonly address: string;
  readonly answered: boolean;
  readonly recent_requests: number;
  readonly recent_p50_ms: number;
  readonly recent_p99_ms: number;
  readonly recent_window_ms: number;
  readonly metrics_address: string;
  /** Started with --enable-fault-injection (false when it did not answer). */
  readonly fault_injection_enabled: boolean;
  /** "tls" or "insecure" ("" when it did not answer). */
  readonly security: string;
}

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
    const reports = await selfReports(
      status,
      Math.min(args.timeout, MEMBER_STATUS_TIMEOUT_MS),
      clientSecurity(args),
    );
    if (args.json) {
      console.log(JSON.stringify({ ...status, nodes: reports }));
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
    console.log(
      `layout version ${status.layout_version}` +
        (status.member_state === ""
          ? ", this node is not a member yet"
          : `, this node ${status.member_state}`) +
        (status.layout_in_transition
          ? `; a membership change is moving data (${status.incoming_transfers.length} partitions still coming here; see dkv cluster transfers)`
          : ""),
    );
    for (const transfer of status.incoming_transfers) {
      console.log(`  ${incomingLine(status.node_id, transfer)}`);
    }
    if (status.metrics_address !== "") {
      console.log(`metrics: http://${status.metrics_address}/metrics`);
    }
    const insecure = reports.filter((report) => report.security === "insecure");
    if (insecure.length > 0) {
      console.log(
        `WARNING: ${insecure.map((report) => report.node_id).join(", ")} run --insecure: no TLS ` +
          "and no authentication; anyone who reaches them can read, write and delete any key. " +
          "Development only.",
      );
    }
    const faulty = reports.filter((report) => report.fault_injection_enabled);
    if (faulty.length > 0) {
      console.log(
        `WARNING: fault injection is enabled on ${faulty.map((report) => report.node_id).join(", ")} ` +
          "(--enable-fault-injection): admin users (anyone who reaches an --insecure node) can " +
          "partition the cluster or slow its links. Test clusters only.",
      );
    }
    if (status.dropped_peers.length > 0) {
      console.log(
        `fault injection: dropping traffic to and from ${status.dropped_peers.join(", ")}`,
      );
    }
    const table = new Table({
      head: [
        "node",
        "address",
        "state",
        "phi",
        "rtt ms",
        "partitions",
        "hints",
        "reqs 60s",
        "p50 ms",
        "p99 ms",
        "metrics",
        "note",
      ],
      style: { head: [], border: [] },
      chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
    });
    for (const member of status.members) {
      const report = reports.find((candidate) => candidate.node_id === member.node_id);
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
        ...latencyCells(report),
        metricsCell(member.address, report?.metrics_address ?? ""),
        member.error,
      ]);
    }
    console.log(table.toString());
  } finally {
    client.close();
  }
}

/**
 * Every member's own status, asked in parallel with a short deadline (the asked node's is
 * already in hand); a member that does not answer is reported with answered: false.
 */
async function selfReports(
  status: StatusResponse__Output,
  timeoutMs: number,
  security: ClientSecurity,
): Promise<NodeSelfReport[]> {
  return Promise.all(
    status.members.map(async (member) => {
      if (member.node_id === status.node_id) return selfReport(member, status);
      const client = new DkvClient([member.address], { security });
      try {
        return selfReport(member, await client.status({ timeoutMs }));
      } catch {
        return selfReport(member, undefined);
      } finally {
        client.close();
      }
    }),
  );
}

function selfReport(
  member: { readonly node_id: string; readonly address: string },
  own: StatusResponse__Output | undefined,
): NodeSelfReport {
  // A different node answering at the address does not speak for this member.
  const mine = own?.node_id === member.node_id ? own : undefined;
  return {
    node_id: member.node_id,
    address: member.address,
    answered: mine !== undefined,
    recent_requests: mine?.recent_requests ?? 0,
    recent_p50_ms: mine?.recent_p50_ms ?? 0,
    recent_p99_ms: mine?.recent_p99_ms ?? 0,
    recent_window_ms: mine?.recent_window_ms ?? 0,
    metrics_address: mine?.metrics_address ?? "",
    fault_injection_enabled: mine?.fault_injection_enabled ?? false,
    security: mine?.security ?? "",
  };
}

/** Requests, p50 and p99 of a member; "-" where it did not answer or saw no request. */
export function latencyCells(report: NodeSelfReport | undefined): [string, string, string] {
  if (report === undefined || !report.answered) return ["-", "-", "-"];
  if (report.recent_requests === 0) return ["0", "-", "-"];
  return [
    String(report.recent_requests),
    report.recent_p50_ms.toFixed(2),
    report.recent_p99_ms.toFixed(2),
  ];
}

/** The metrics endpoint of a member: ":port" when on the host of its gRPC address, "-" if none. */
export function metricsCell(address: string, metricsAddress: string): string {
  if (metricsAddress === "") return "-";
  const host = address.slice(0, address.lastIndexOf(":"));
  return metricsAddress.startsWith(`${host}:`) ? metricsAddress.slice(host.length) : metricsAddress;
}
