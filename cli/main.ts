#!/usr/bin/env -S node --no-memory-reducer --heap-growing-percent=100
// The dkv command: yargs wiring only. Each verb lives in cli/commands/<verb>.ts.

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import * as serve from "./commands/serve.js";
import * as clusterUp from "./commands/cluster-up.js";
import * as clusterShow from "./commands/cluster-show.js";
import * as clusterStage from "./commands/cluster-stage.js";
import * as clusterPlan from "./commands/cluster-plan.js";
import * as clusterCommit from "./commands/cluster-commit.js";
import * as clusterTransfers from "./commands/cluster-transfers.js";
import * as clusterAdd from "./commands/cluster-add.js";
import * as put from "./commands/put.js";
import * as get from "./commands/get.js";
import * as del from "./commands/delete.js";
import * as status from "./commands/status.js";
import * as aaeStatus from "./commands/aae-status.js";
import * as hints from "./commands/hints.js";
import * as bench from "./commands/bench.js";
import * as certInit from "./commands/cert-init.js";
import * as certIssue from "./commands/cert-issue.js";
import * as user from "./commands/user.js";
import * as grant from "./commands/grant.js";
import { EXIT, EXIT_CODES_HELP, exitCodeOf } from "./exit-codes.js";
import { UsageError } from "./usage.js";

/** Runs the command line and resolves with the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  // yargs throws a usage failure synchronously from parseAsync, and a command's own errors
  // asynchronously: both end in reportError.
  try {
    await yargs(argv as string[])
      .scriptName("dkv")
      .usage("$0 <command> [options]\n\nA Dynamo-style leaderless quorum key-value store.")
      .command(serve)
      .command("cluster", "Clusters: start a local one, show and change membership", (cluster) =>
        cluster
          .command(clusterUp)
          .command(clusterAdd)
          .command(clusterShow)
          .command(clusterStage.join)
          .command(clusterStage.leave)
          .command(clusterStage.replace)
          .command(clusterStage.forceRemove)
          .command(clusterStage.clear)
          .command(clusterPlan)
          .command(clusterCommit)
          .command(clusterTransfers)
          .demandCommand(
            1,
            "name a cluster command: up, add, show, join, leave, replace, force-remove, clear, plan, commit, transfers",
          ),
      )
      .command(put)
      .command(get)
      .command(del)
      .command(status)
      .command(aaeStatus)
      .command(hints)
      .command(bench)
      .command("user", "Users: add, remove and list them, give one a new token", (users) =>
        users
          .command(user.add)
          .command(user.remove)
          .command(user.list)
          .command(user.token)
          .demandCommand(1, "name a user command: add, remove, list, token"),
      )
      .command(grant.grant)
      .command(grant.revoke)
      .command(
        "cert",
        "Certificates: create the cluster CA, issue node and client certificates",
        (cert) =>
          cert
            .command(certInit)
            .command(certIssue)
            .demandCommand(1, "name a cert command: init, issue"),
      )
      .demandCommand(1, "name a command")
      .strict()
      .epilogue(EXIT_CODES_HELP)
      .help()
      // Throwing (not returning) stops yargs here: a command with a bad argument must not run.
      .fail((message, error) => {
        if (error) throw error;
        throw new UsageError(`${message}\nrun 'dkv --help' for usage`);
      })
      .parseAsync();
  } catch (error: unknown) {
    exitCode = reportError(error);
  }
  return exitCode;
}

/** Prints an error the way users should see it and returns the exit status. */
function reportError(error: unknown): number {
  if (error instanceof UsageError) {
    console.error(`error: ${error.message}`);
    return EXIT.usage;
  }
  const grpcError = error as { code?: unknown; details?: unknown };
  if (typeof grpcError.code === "number" && typeof grpcError.details === "string") {
    console.error(`error: ${grpcError.details}`);
    return exitCodeOf(grpcError.code);
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT.failure;
}

main(hideBin(process.argv)).then((code) => {
  process.exitCode = code;
});
