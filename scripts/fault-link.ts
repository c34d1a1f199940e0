// Fault injection without root: delay and loss on the links of one node, both ways. The node
// delays or loses its messages to its peers, and every peer does the same to its messages to it
// (Admin.SetLinkFaults), for node-to-node traffic: replica calls, forwarded writes, heartbeats,
// handoff. For delay and loss on real packets, use a netns cluster and fault-netem.ts (root).
// Run: npx tsx scripts/fault-link.ts --node n2 [--delay-ms 100] [--jitter-ms 50] [--loss 0.2]
//      [--duration-ms 10000] | --heal
// The nodes must serve fault injection: dkv cluster up --serve-flag=--enable-fault-injection.

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import {
  CLUSTER_DIR_OPTION,
  clusterNode,
  healEveryNode,
  healOnInterrupt,
  loadCluster,
  say,
  setLinkFaults,
  sleep,
  type FaultClusterFile,
} from "./lib/fault-cluster.js";

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .usage(
      "$0 --node ID [--delay-ms MS] [--jitter-ms MS] [--loss RATIO] [--duration-ms MS]\n$0 --heal" +
        "\n\nDelays and/or loses the node-to-node messages between one node of a local cluster " +
        "and every other node, both ways (node level, no root). With --duration-ms, heals " +
        "after that long (and on Ctrl-C); --heal removes every link fault now. The nodes must " +
        "run with --enable-fault-injection (dkv cluster up --serve-flag=--enable-fault-injection).",
    )
    .option("node", { type: "string", describe: "The node whose links to shape, e.g. n2" })
    .option("delay-ms", { type: "number", default: 0, describe: "Added to every message" })
    .option("jitter-ms", { type: "number", default: 0, describe: "Uniform extra delay, 0..this" })
    .option("loss", {
      type: "number",
      default: 0,
      describe: "Share of messages lost, 0..1 (each retransmitted 1 s later, as TCP would)",
    })
    .option("duration-ms", { type: "number", describe: "Heal after this long" })
    .option("heal", { type: "boolean", describe: "Remove every link fault" })
    .option("cluster-dir", CLUSTER_DIR_OPTION)
    .conflicts("heal", "node")
    .check((argv) => {
      if (!argv.heal && argv.node === undefined) throw new Error("give --node or --heal");
      if (argv.heal) return true;
      if (!(argv.loss >= 0 && argv.loss <= 1)) throw new Error(`--loss must be from 0 to 1`);
      for (const name of ["delay-ms", "jitter-ms"] as const) {
        const value = argv[name];
        if (!(Number.isInteger(value) && value >= 0 && value <= 60_000)) {
          throw new Error(`--${name} must be an integer from 0 to 60000, got ${value}`);
        }
      }
      if (argv["delay-ms"] === 0 && argv["jitter-ms"] === 0 && argv.loss === 0) {
        throw new Error("give at least one of --delay-ms, --jitter-ms, --loss");
      }
      return true;
    })
    .strict()
    .help()
    .parseAsync();
  const file = loadCluster(args["cluster-dir"]);
  if (args.heal === true || args.node === undefined) {
    await heal(file);
    return 0;
  }
  const target = clusterNode(file, args.node);
  const fault = { delayMs: args["delay-ms"], jitterMs: args["jitter-ms"], loss: args.loss };
  if (args["duration-ms"] !== undefined) healOnInterrupt(() => heal(file));
  const others = file.nodes.filter((node) => node.id !== target.id);
  await setLinkFaults(
    target.address,
    others.map((node) => ({ peer: node.id, ...fault })),
  );
  await Promise.all(
    others.map((node) => setLinkFaults(node.address, [{ peer: target.id, ...fault }])),
  );
  say(
    `links of ${target.id} shaped both ways: delay ${fault.delayMs} ms + 0..${fault.jitterMs} ms, ` +
      `loss ${fault.loss}`,
  );
  if (args["duration-ms"] === undefined) return 0;
  await sleep(args["duration-ms"]);
  await heal(file);
  return 0;
}

async function heal(file: FaultClusterFile): Promise<void> {
  await healEveryNode(file, (node) => setLinkFaults(node.address, []), "shape no link any more");
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
