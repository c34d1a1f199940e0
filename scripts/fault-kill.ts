// Fault injection: kill -9 one node of a local cluster and optionally restart it later with the
// same arguments and log file (its new pid goes into cluster.json).
// Run: npx tsx scripts/fault-kill.ts --node n2 [--restart-after-ms 5000] [--cluster-dir DIR]

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import {
  CLUSTER_DIR_OPTION,
  clusterNode,
  isAlive,
  loadCluster,
  restartNode,
  say,
  signal,
  sleep,
  waitForExit,
} from "./lib/fault-cluster.js";

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .usage(
      "$0 --node ID [--restart-after-ms MS]\n\nSIGKILLs a node of a local cluster (started by " +
        "`dkv cluster up` or netns-cluster.ts) and, with --restart-after-ms, starts it again " +
        "with the same arguments after that long.",
    )
    .option("node", { type: "string", demandOption: true, describe: "The node to kill, e.g. n2" })
    .option("restart-after-ms", {
      type: "number",
      describe: "Restart the node this long after the kill (default: leave it dead)",
    })
    .option("cluster-dir", CLUSTER_DIR_OPTION)
    .strict()
    .help()
    .parseAsync();
  const node = clusterNode(loadCluster(args["cluster-dir"]), args.node);
  if (!isAlive(node.pid)) {
    say(`${node.id} (pid ${node.pid}) is not running; nothing to kill`);
  } else {
    signal(node.pid, "SIGKILL");
    say(`kill -9 ${node.id} (pid ${node.pid}, ${node.address})`);
    if (!(await waitForExit(node.pid, 10_000))) throw new Error(`pid ${node.pid} survived kill -9`);
    say(`${node.id} is gone`);
  }
  const restartAfterMs = args["restart-after-ms"];
  if (restartAfterMs === undefined) return 0;
  say(`waiting ${restartAfterMs} ms before restarting ${node.id}`);
  await sleep(restartAfterMs);
  say(`restarting ${node.id} with its original arguments; log: ${node.logFile}`);
  const pid = await restartNode(args["cluster-dir"], node.id);
  say(`${node.id} serves again as pid ${pid} at ${node.address} (cluster.json updated)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
