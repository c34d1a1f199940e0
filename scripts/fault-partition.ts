// Fault injection without root: a node-level network partition. Every node is told, through
// Admin.SetDroppedPeers, to drop all traffic to and from the nodes outside its group.
// Run: npx tsx scripts/fault-partition.ts --groups n1,n2/n3,n4,n5 [--duration-ms 10000] | --heal
// The nodes must serve fault injection: dkv cluster up --serve-flag=--enable-fault-injection.

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import {
  CLUSTER_DIR_OPTION,
  grudges,
  healEveryNode,
  healOnInterrupt,
  loadCluster,
  parseGroups,
  say,
  setDroppedPeers,
  sleep,
  type FaultClusterFile,
} from "./lib/fault-cluster.js";

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .usage(
      "$0 --groups A,B/C,D,E [--duration-ms MS]\n$0 --heal\n\nCuts a local cluster into groups " +
        "that cannot talk to each other (nodes named in no group form one more group), at node " +
        "level: each node refuses requests from, and fails calls to, the nodes of other groups. " +
        "With --duration-ms, heals after that long (and on Ctrl-C); --heal heals now. The nodes " +
        "must run with --enable-fault-injection (dkv cluster up " +
        "--serve-flag=--enable-fault-injection).",
    )
    .option("groups", { type: "string", describe: "Groups separated by /, nodes by commas" })
    .option("duration-ms", { type: "number", describe: "Heal after this long" })
    .option("heal", { type: "boolean", describe: "Remove every partition" })
    .option("cluster-dir", CLUSTER_DIR_OPTION)
    .conflicts("heal", "groups")
    .check((argv) => {
      if (!argv.heal && argv.groups === undefined) throw new Error("give --groups or --heal");
      return true;
    })
    .strict()
    .help()
    .parseAsync();
  const file = loadCluster(args["cluster-dir"]);
  if (args.heal === true || args.groups === undefined) {
    await heal(file);
    return 0;
  }
  const groups = parseGroups(
    args.groups,
    file.nodes.map((node) => node.id),
  );
  if (args["duration-ms"] !== undefined) healOnInterrupt(() => heal(file));
  await partition(file, groups);
  if (args["duration-ms"] === undefined) return 0;
  await sleep(args["duration-ms"]);
  await heal(file);
  return 0;
}

async function partition(file: FaultClusterFile, groups: readonly string[][]): Promise<void> {
  const dropped = grudges(groups);
  await Promise.all(
    file.nodes.map(async (node) => {
      const peers = dropped.get(node.id) ?? [];
      await setDroppedPeers(node.address, peers);
      say(`${node.id} drops traffic to and from ${peers.join(", ") || "nobody"}`);
    }),
  );
  say(`partitioned: ${groups.map((group) => `{${group.join(",")}}`).join(" | ")}`);
}

async function heal(file: FaultClusterFile): Promise<void> {
  await healEveryNode(
    file,
    (node) => setDroppedPeers(node.address, []),
    "drop no traffic any more",
  );
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
