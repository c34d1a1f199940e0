// Packet-level faults for a cluster started by netns-cluster.ts (root): partitions with iptables
// DROP rules inside the nodes' namespaces, delay and loss with tc netem on a node's veth (loss
// falls back to an iptables random-drop rule when the kernel has no sch_netem), and heal.
// Run: sudo npx tsx scripts/fault-netem.ts partition|netem|heal|show --help

import path from "node:path";
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import {
  grudges,
  loadCluster,
  parseGroups,
  say,
  sleep,
  type FaultClusterFile,
  type NetnsPlacement,
} from "./lib/fault-cluster.js";
import { FAULT_CHAIN, inNamespace, requireNetnsSupport } from "./netns-commands.js";

const DEFAULT_NETNS_CLUSTER_DIR = path.join(".dkv", "netns-cluster");

/** The namespaces of a netns cluster; throws when the cluster was not started in namespaces. */
function placements(file: FaultClusterFile): Map<string, NetnsPlacement> {
  if (file.netns === undefined) {
    throw new Error(
      "this cluster does not run in network namespaces: start one with " +
        "`sudo npx tsx scripts/netns-cluster.ts up`, or use fault-partition.ts (node level)",
    );
  }
  return new Map(Object.entries(file.netns));
}

function placementOf(file: FaultClusterFile, id: string): NetnsPlacement {
  const placement = placements(file).get(id);
  if (placement === undefined) throw new Error(`no node ${id} in the netns cluster`);
  return placement;
}

/** Creates our chain in a namespace and hooks it into INPUT, once. */
function ensureChain(namespace: string): void {
  const exists = inNamespace(namespace, "iptables", ["-w", "-n", "-L", FAULT_CHAIN], {
    allowFailure: true,
    quiet: true,
  }).ok;
  if (exists) return;
  inNamespace(namespace, "iptables", ["-w", "-N", FAULT_CHAIN]);
  inNamespace(namespace, "iptables", ["-w", "-I", "INPUT", "-j", FAULT_CHAIN]);
}

/**
 * Every node drops packets from the nodes of other groups (INPUT, both sides: a full cut, as in
 * Jepsen). DROP, not REJECT: connections hang rather than fail, like a real network fault.
 */
function partition(file: FaultClusterFile, groups: readonly string[][]): void {
  const all = placements(file);
  for (const [id, others] of grudges(groups)) {
    const self = placementOf(file, id);
    ensureChain(self.namespace);
    for (const other of others) {
      const source = all.get(other)?.ip ?? "";
      inNamespace(self.namespace, "iptables", [
        "-w",
        "-A",
        FAULT_CHAIN,
        "-s",
        source,
        "-j",
        "DROP",
      ]);
    }
  }
  say(`partitioned: ${groups.map((group) => `{${group.join(",")}}`).join(" | ")}`);
}

/** Delay and/or loss on a node's veth (egress), by tc netem or, for loss only, iptables. */
function netem(
  file: FaultClusterFile,
  id: string,
  shape: { delayMs?: number; jitterMs?: number; lossPercent?: number },
): void {
  const { namespace, veth } = placementOf(file, id);
  const args = ["qdisc", "replace", "dev", veth, "root", "netem"];
  if (shape.delayMs !== undefined) {
    args.push("delay", `${shape.delayMs}ms`);
    if (shape.jitterMs !== undefined) args.push(`${shape.jitterMs}ms`, "distribution", "normal");
  }
  if (shape.lossPercent !== undefined) args.push("loss", `${shape.lossPercent}%`);
  const result = inNamespace(namespace, "tc", args, { allowFailure: true });
  if (result.ok) {
    say(`${id}: netem on ${veth}: ${args.slice(6).join(" ")}`);
    return;
  }
  const noNetem = /qdisc kind is unknown/i.test(result.output);
  if (!noNetem || shape.delayMs !== undefined || shape.lossPercent === undefined) {
    const hint = noNetem ? " (this kernel has no sch_netem module: delay is not available)" : "";
    throw new Error(`tc netem failed on ${id}: ${result.output}${hint}`);
  }
  // No netem: drop a random share of the packets this node receives instead.
  say(`${id}: this kernel has no sch_netem; falling back to an iptables random drop`);
  ensureChain(namespace);
  const probability = String(shape.lossPercent / 100);
  inNamespace(namespace, "iptables", [
    ...["-w", "-A", FAULT_CHAIN, "-m", "statistic", "--mode", "random"],
    ...["--probability", probability, "-j", "DROP"],
  ]);
  say(`${id}: drops ${shape.lossPercent}% of incoming packets`);
}

/** Removes every rule and qdisc this script adds, on every node. */
function heal(file: FaultClusterFile): void {
  for (const [id, { namespace, veth }] of placements(file)) {
    inNamespace(namespace, "iptables", ["-w", "-F", FAULT_CHAIN], { allowFailure: true });
    inNamespace(namespace, "tc", ["qdisc", "del", "dev", veth, "root"], { allowFailure: true });
    say(`${id}: no DROP rules, no netem`);
  }
  say("healed");
}

function show(file: FaultClusterFile): void {
  for (const [id, { namespace, veth, ip }] of placements(file)) {
    const rules = inNamespace(namespace, "iptables", ["-w", "-S", FAULT_CHAIN], {
      allowFailure: true,
      quiet: true,
    });
    const qdisc = inNamespace(namespace, "tc", ["qdisc", "show", "dev", veth], { quiet: true });
    console.log(`${id} (${ip}, ${namespace}/${veth})`);
    const lines = rules.ok ? rules.output.trim().split("\n").slice(1) : [];
    console.log(`  iptables: ${lines.length === 0 ? "none" : lines.join("; ")}`);
    console.log(`  qdisc: ${qdisc.output.trim()}`);
  }
}

/** Waits durationMs (healing on Ctrl-C), then heals; returns at once without a duration. */
async function healAfter(file: FaultClusterFile, durationMs: number | undefined): Promise<void> {
  if (durationMs === undefined) return;
  const interrupted = (): void => {
    heal(file);
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  say(`healing in ${durationMs} ms (Ctrl-C heals now)`);
  await sleep(durationMs);
  process.removeListener("SIGINT", interrupted);
  heal(file);
}

/** `netem --node ID --delay-ms MS --loss-percent P [--duration-ms MS]`. */
function netemCommand(root: Argv<{ "cluster-dir": string }>): Argv<{ "cluster-dir": string }> {
  return root.command(
    "netem",
    "Delay and/or lose packets leaving one node (tc netem on its veth)",
    (command) =>
      command
        .option("node", { type: "string", demandOption: true, describe: "e.g. n1" })
        .option("delay-ms", { type: "number", describe: "Added one-way delay" })
        .option("jitter-ms", { type: "number", describe: "Jitter of the delay (normal)" })
        .option("loss-percent", { type: "number", describe: "Share of packets dropped" })
        .option("duration-ms", { type: "number", describe: "Heal after this long" })
        .check((argv) => {
          if (argv["delay-ms"] === undefined && argv["loss-percent"] === undefined) {
            throw new Error("give --delay-ms and/or --loss-percent");
          }
          return true;
        }),
    async (args) => {
      requireNetnsSupport();
      const file = loadCluster(args["cluster-dir"]);
      netem(file, args.node, {
        ...(args["delay-ms"] === undefined ? {} : { delayMs: args["delay-ms"] }),
        ...(args["jitter-ms"] === undefined ? {} : { jitterMs: args["jitter-ms"] }),
        ...(args["loss-percent"] === undefined ? {} : { lossPercent: args["loss-percent"] }),
      });
      await healAfter(file, args["duration-ms"]);
    },
  );
}

/** `partition --groups A,B/C [--duration-ms MS]`. */
function partitionCommand(root: Argv<{ "cluster-dir": string }>): Argv<{ "cluster-dir": string }> {
  return root.command(
    "partition",
    "Cut the cluster into groups with iptables DROP rules",
    (command) =>
      command
        .option("groups", {
          type: "string",
          demandOption: true,
          describe: "Groups separated by /, nodes by commas; unnamed nodes form one more group",
        })
        .option("duration-ms", { type: "number", describe: "Heal after this long" }),
    async (args) => {
      requireNetnsSupport();
      const file = loadCluster(args["cluster-dir"]);
      partition(file, parseGroups(args.groups, [...placements(file).keys()]));
      await healAfter(file, args["duration-ms"]);
    },
  );
}

async function main(): Promise<void> {
  const root = yargs(hideBin(process.argv))
    .usage("$0 <command> [options]\n\nReal network faults for a netns cluster (root).")
    .option("cluster-dir", {
      type: "string",
      default: DEFAULT_NETNS_CLUSTER_DIR,
      describe: "The netns cluster's directory (from netns-cluster.ts up)",
    });
  await netemCommand(partitionCommand(root))
    .command(
      "heal",
      "Remove every DROP rule and netem qdisc",
      (command) => command,
      (args) => {
        requireNetnsSupport();
        heal(loadCluster(args["cluster-dir"]));
      },
    )
    .command(
      "show",
      "Print the fault rules and qdiscs of every node",
      (command) => command,
      (args) => {
        requireNetnsSupport();
        show(loadCluster(args["cluster-dir"]));
      },
    )
    .demandCommand(1, "name a command: partition, netem, heal or show")
    .strict()
    .help()
    .fail((message, error) => {
      // One plain line instead of yargs' usage dump; the usage is one --help away.
      throw error ?? new Error(`${message} (see --help)`);
    })
    .parseAsync();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
