// `dkv aae-status`: one node's anti-entropy: counters, and per partition it replicates the last
// exchange (when, with whom), keys repaired (last and total) and bytes exchanged.

import type { ClientSecurity } from "../../node/security/client-security.js";
import * as grpc from "@grpc/grpc-js";
import type { Argv, ArgumentsCamelCase } from "yargs";
import Table from "cli-table3";
import { loadProto } from "../../proto/load-proto.js";
import type { AaeStatusResponse__Output } from "../../proto/generated/dkv/v1/AaeStatusResponse.js";
import { channelOptions } from "../../node/peer-clients.js";
import { DEFAULT_LIMITS } from "../../node/core/limits.js";
import {
  clientSecurity,
  nodeAddresses,
  withClientOptions,
  type ClientArgs,
} from "../client-options.js";
import { callFirstReachable } from "../first-reachable.js";
import type { AntiEntropyClient } from "../../proto/generated/dkv/v1/AntiEntropy.js";

export const command = "aae-status";
export const describe =
  "Show one node's anti-entropy: counters, and per partition the last exchange, keys repaired and bytes";

export function builder(yargs: Argv): Argv<ClientArgs> {
  return withClientOptions(yargs);
}

export async function handler(args: ArgumentsCamelCase<ClientArgs>): Promise<void> {
  const status = await askFirstReachable(nodeAddresses(args), args.timeout, clientSecurity(args));
  if (args.json) {
    console.log(JSON.stringify(status));
    return;
  }
  const counters = status.counters;
  console.log(
    `asked ${status.node_id}: trees ${status.trees_ready ? "ready" : "rebuilding"}, ` +
      `${status.tree_keys} keys in trees, every pair compared each ${status.interval_ms} ms, ` +
      `repairs paced at ${status.repair_keys_per_second} keys/s`,
  );
  if (counters !== null) {
    console.log(
      `exchanges ${counters.exchanges} (failed ${counters.exchanges_failed}, skipped ` +
        `${counters.exchanges_skipped}), differences found ${counters.differences_found}, keys ` +
        `repaired ${counters.keys_repaired}, bytes sent ${counters.bytes_sent}, received ` +
        `${counters.bytes_received}`,
    );
    console.log(
      `tombstones held ${status.tombstones}, reaped ${counters.tombstones_reaped}, declined ` +
        `${counters.reaps_declined} (grace ${status.tombstone_grace_ms} ms)` +
        (status.reap_blocked === "" ? "" : `; reaping waits: ${status.reap_blocked}`),
    );
    const share = Number(counters.tree_maintenance_us) / Math.max(1, Number(status.process_cpu_us));
    console.log(
      `tree maintenance on writes: ${(Number(counters.tree_maintenance_us) / 1000).toFixed(1)} ms, ` +
        `${(share * 100).toFixed(2)}% of this node's CPU time`,
    );
  }
  const table = new Table({
    head: [
      "partition",
      "last exchange",
      "peer",
      "repaired last",
      "repaired total",
      "bytes last",
      "bytes total",
      "keys",
    ],
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const partition of status.partitions) {
    table.push([
      String(partition.partition),
      partition.last_exchange_ms === 0
        ? "never"
        : new Date(partition.last_exchange_ms).toISOString(),
      partition.last_peer || "-",
      String(partition.keys_repaired_last),
      String(partition.keys_repaired_total),
      String(partition.bytes_last),
      String(partition.bytes_total),
      String(partition.tree_keys),
    ]);
  }
  console.log(table.toString());
}

/** AntiEntropy.Status of the first node that answers. */
export async function askFirstReachable(
  addresses: readonly string[],
  timeoutMs: number,
  security: ClientSecurity,
): Promise<AaeStatusResponse__Output> {
  const { grpcObject } = loadProto();
  const connect = (address: string): AntiEntropyClient => {
    const secured = security.channel(address);
    return new grpcObject.dkv.v1.AntiEntropy(address, secured.credentials, {
      ...channelOptions(DEFAULT_LIMITS.grpcMessageBytesMax),
      ...secured.options,
    });
  };
  const { reply } = await callFirstReachable<AntiEntropyClient, AaeStatusResponse__Output>(
    addresses,
    timeoutMs,
    connect,
    (client, options, done) => client.Status({}, options, done),
  );
  return reply;
}
