// Live fault runs with a sibling-aware checker: starts a local cluster, runs the set and
// register workloads under a seeded nemesis, heals, waits for convergence and checks the
// history. Exits 1 when the verdict is a failure, 2 on bad input.
// Run: npm run nemesis -- --duration 60 --seed 7   (or npx tsx scripts/nemesis.ts ...)
//      npm run nemesis -- --membership              (grow, shrink, replace, force-remove)

import path from "node:path";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { parseQuorumText } from "../coordinator/client.js";
import { LIVE_FAULT_KINDS, type LiveFaultKind } from "./nemesis/core/schedule.js";
import { LINK_FAULTS } from "./nemesis/faults.js";
import { runNemesis } from "./nemesis/run-nemesis.js";
import { say } from "./lib/fault-cluster.js";

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .usage(
      "$0 [--duration S] [--seed N] [--faults kill,partition-halves,...] [--lww] [--membership]\n\n" +
        "Starts a local cluster of real `dkv serve` processes (build first: npm run build), runs " +
        "concurrent clients (set: read, merge siblings by union, add a unique element, write back " +
        "with the context; register: unique values written with contexts), injects one fault " +
        "about every --interval seconds drawn from --seed, heals everything, waits for the " +
        "replicas to converge, reads every key at r=all and from every node alone, and checks: " +
        "no acknowledged write lost, no phantom, siblings only for concurrent writes (duplicates are " +
        "reported as warnings), " +
        "convergence. Writes summary.json and report.html to --out. With --membership the " +
        "cluster starts with 3 nodes and, while the workload runs, grows to 5 (two --join " +
        "nodes, one commit), shrinks to 3 (two leave), replaces one node by a new one, joins " +
        "one more and kills -9 and force-removes one; after each step every member must follow " +
        "the same settled layout, and at the end every key must have n=3 copies. It runs no " +
        "faults unless --faults names them (then each is drawn over the members of the " +
        "moment); the workload spreads over 32 keys and runs until the last step has settled. " +
        "With --lww the set " +
        "clients keep only the newest sibling: a control that must report lost writes. Exit " +
        "status: 0 pass, 1 the checker found a failure (or a membership step did not settle, or " +
        "a key lacks copies), 2 bad arguments, 3 the run itself failed.\n\n" +
        `Faults: ${LIVE_FAULT_KINDS.join(", ")}; "partition" means every partition-* kind. ` +
        `delay: ${LINK_FAULTS.delay.delayMs} ms + 0..${LINK_FAULTS.delay.jitterMs} ms on every ` +
        `message between one node and the others; loss: ${LINK_FAULTS.loss.loss * 100}% of ` +
        "them lost, each retransmitted 1 s later as TCP would (node level, Admin.SetLinkFaults: the packets themselves are not " +
        "shaped; for that, a netns cluster and scripts/fault-netem.ts).",
    )
    .option("duration", { type: "number", default: 60, describe: "Seconds of workload" })
    .option("seed", {
      type: "number",
      default: 1,
      describe: "Seed of the nemesis schedule and key choices",
    })
    .option("faults", {
      type: "string",
      describe: `Comma-separated fault kinds to draw from, or none (default: all; with --membership, none)`,
    })
    .option("interval", { type: "number", default: 10, describe: "Seconds between fault starts" })
    .option("nodes", {
      type: "number",
      describe: "Nodes in the cluster (n=3; default 5, with --membership 3 at the start)",
    })
    .option("membership", {
      type: "boolean",
      default: false,
      describe: "Grow, shrink, replace and force-remove nodes while the workload runs",
    })
    .option("clients", { type: "number", default: 10, describe: "Concurrent clients" })
    .option("set-keys", {
      type: "number",
      describe: "Keys of the set workload (default 1; with --membership 4)",
    })
    .option("register-keys", {
      type: "number",
      describe: "Keys of the register workload (default 3; with --membership 28)",
    })
    .option("lww", {
      type: "boolean",
      default: false,
      describe: "Set clients resolve siblings by last write wins (control)",
    })
    .option("r", { type: "string", default: "2", describe: "Read quorum of the clients" })
    .option("w", { type: "string", default: "2", describe: "Write quorum of the clients" })
    .option("timeout-ms", { type: "number", default: 2000, describe: "Client request timeout" })
    .option("think-ms", {
      type: "number",
      default: 5,
      describe: "Pause between two operations of a client",
    })
    .option("converge-timeout", {
      type: "number",
      default: 60,
      describe: "Seconds to wait for convergence after the heal",
    })
    .option("aae-interval-ms", {
      type: "number",
      default: 5000,
      describe: "Anti-entropy interval of the nodes",
    })
    .option("link-delay-ms", {
      type: "number",
      describe: `Delay of the delay fault (default ${LINK_FAULTS.delay.delayMs} ms)`,
    })
    .option("link-jitter-ms", {
      type: "number",
      describe: `Extra random delay of the delay fault (default 0..${LINK_FAULTS.delay.jitterMs} ms)`,
    })
    .option("dump-history", {
      type: "boolean",
      default: false,
      describe: "Also write every operation of the run to history.json in --out",
    })
    .option("storage", { type: "string", default: "log", choices: ["log", "lmdb", "memory"] })
    .option("out", {
      type: "string",
      describe:
        "Output directory (default .dkv/nemesis/<time>-seed<seed>); must not hold an earlier run's cluster/",
    })
    .strict()
    .fail((message, error) => {
      throw new UsageError(message ?? error?.message ?? "bad arguments");
    })
    .help()
    .parseAsync();
  const membership = args.membership;
  const kinds = parseFaults(args.faults ?? (membership ? "none" : LIVE_FAULT_KINDS.join(",")));
  const nodes = args.nodes ?? (membership ? 3 : 5);
  // Membership moves partitions: more keys put data in more of them for the steps to move.
  const setKeys = args["set-keys"] ?? (membership ? 4 : 1);
  const registerKeys = args["register-keys"] ?? (membership ? 28 : 3);
  const r = parseQuorumText(args.r);
  const w = parseQuorumText(args.w);
  if (r === undefined) throw new UsageError(`--r must be a count or one|quorum|all, got ${args.r}`);
  if (w === undefined) throw new UsageError(`--w must be a count or one|quorum|all, got ${args.w}`);
  positive("duration", args.duration);
  positive("interval", args.interval);
  positive("clients", args.clients);
  positive("converge-timeout", args["converge-timeout"]);
  positive("aae-interval-ms", args["aae-interval-ms"]);
  positive("timeout-ms", args["timeout-ms"]);
  if (!Number.isInteger(nodes) || nodes < 3 || nodes > 9) {
    throw new UsageError(`--nodes must be an integer in 3..9, got ${nodes}`);
  }
  if (!Number.isSafeInteger(args.seed))
    throw new UsageError(`--seed must be an integer, got ${args.seed}`);
  for (const [name, value] of [
    ["set-keys", setKeys],
    ["register-keys", registerKeys],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 100) {
      throw new UsageError(`--${name} must be an integer in 0..100, got ${value}`);
    }
  }
  if (setKeys + registerKeys === 0)
    throw new UsageError("no keys: give --set-keys or --register-keys");
  if (!(args["think-ms"] >= 0))
    throw new UsageError(`--think-ms must be >= 0, got ${args["think-ms"]}`);
  for (const name of ["link-delay-ms", "link-jitter-ms"] as const) {
    const value = args[name];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0))
      throw new UsageError(`--${name} must be >= 0, got ${value}`);
  }
  const linkDelay =
    args["link-delay-ms"] === undefined && args["link-jitter-ms"] === undefined
      ? undefined
      : {
          ...LINK_FAULTS.delay,
          delayMs: args["link-delay-ms"] ?? LINK_FAULTS.delay.delayMs,
          jitterMs: args["link-jitter-ms"] ?? LINK_FAULTS.delay.jitterMs,
        };
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const outcome = await runNemesis({
    seed: args.seed,
    durationMs: Math.round(args.duration * 1000),
    nodes,
    clients: args.clients,
    setKeys,
    registerKeys,
    kinds,
    unavailable: [],
    intervalMs: Math.round(args.interval * 1000),
    lww: args.lww,
    r,
    w,
    timeoutMs: args["timeout-ms"],
    thinkMs: args["think-ms"],
    convergeTimeoutMs: Math.round(args["converge-timeout"] * 1000),
    aaeIntervalMs: args["aae-interval-ms"],
    storage: args.storage,
    linkDelay,
    dumpHistory: args["dump-history"],
    membership,
    outDir: args.out ?? path.join(".dkv", "nemesis", `${stamp}-seed${args.seed}`),
  });
  console.log(outcome.table);
  say(`report: ${outcome.reportPath}`);
  say(`summary: ${outcome.summaryPath}`);
  say(`verdict: ${outcome.valid ? "PASS" : "FAIL"}`);
  return outcome.valid ? 0 : 1;
}

class UsageError extends Error {}

function parseFaults(text: string): LiveFaultKind[] {
  if (text.trim() === "none") return [];
  const kinds = new Set<LiveFaultKind>();
  for (const word of text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")) {
    if (word === "partition") {
      for (const kind of LIVE_FAULT_KINDS) if (kind.startsWith("partition-")) kinds.add(kind);
    } else if ((LIVE_FAULT_KINDS as readonly string[]).includes(word)) {
      kinds.add(word as LiveFaultKind);
    } else {
      throw new UsageError(
        `--faults: unknown fault ${word}; known: ${LIVE_FAULT_KINDS.join(", ")}, partition, none`,
      );
    }
  }
  if (kinds.size === 0) throw new UsageError("--faults names no fault");
  return [...kinds];
}

function positive(name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0))
    throw new UsageError(`--${name} must be > 0, got ${value}`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 3);
  },
);
