// Fault injection: freeze one node of a local cluster with SIGSTOP (its sockets stay open but it
// answers nothing, like a long GC pause or a hung VM), then thaw it with SIGCONT.
// Run: npx tsx scripts/fault-pause.ts --node n2 --duration-ms 10000 [--cluster-dir DIR]

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import {
  CLUSTER_DIR_OPTION,
  clusterNode,
  isAlive,
  loadCluster,
  say,
  signal,
  sleep,
} from "./lib/fault-cluster.js";

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .usage(
      "$0 --node ID --duration-ms MS\n\nSIGSTOPs a node of a local cluster, waits, then " +
        "SIGCONTs it. Ctrl-C resumes the node at once.",
    )
    .option("node", { type: "string", demandOption: true, describe: "The node to pause, e.g. n2" })
    .option("duration-ms", { type: "number", default: 10_000, describe: "How long to pause" })
    .option("cluster-dir", CLUSTER_DIR_OPTION)
    .strict()
    .help()
    .parseAsync();
  const node = clusterNode(loadCluster(args["cluster-dir"]), args.node);
  if (!isAlive(node.pid)) throw new Error(`${node.id} (pid ${node.pid}) is not running`);
  // Never leave a node frozen behind: resume it however this script ends.
  const resume = (why: string): void => {
    if (signal(node.pid, "SIGCONT")) say(`kill -CONT ${node.id} (pid ${node.pid}): ${why}`);
  };
  const interrupted = (): void => {
    resume("interrupted");
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  signal(node.pid, "SIGSTOP");
  say(`kill -STOP ${node.id} (pid ${node.pid}, ${node.address}) for ${args["duration-ms"]} ms`);
  await sleep(args["duration-ms"]);
  resume("pause over");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
