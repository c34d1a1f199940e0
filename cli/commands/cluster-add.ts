// `dkv cluster add`: grows the local cluster `dkv cluster up` runs by one node, in one command.
// It starts a new `dkv serve --join` process (detached, with the flags of the first node, its
// own ports and data dir), lists it in cluster.json (so `cluster up` stops it at Ctrl-C), waits
// until its join is staged, and commits the plan, unless --no-commit. The data then moves in the
// background: `dkv cluster transfers` shows it.

import type { ClientSecurity } from "../../node/security/client-security.js";
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import type { Argv, ArgumentsCamelCase } from "yargs";
import type { MetadataReply__Output } from "../../proto/generated/dkv/v1/MetadataReply.js";
import type { PlanReply__Output } from "../../proto/generated/dkv/v1/PlanReply.js";
import { isValidNodeId } from "../../node/core/node-id.js";
import { DEFAULT_CLUSTER_DIR, readClusterFile, writeClusterFile } from "../cluster-file.js";
import {
  probeFreePorts,
  waitForServing,
  clusterClientSecurity,
  ensureCredentialsFor,
} from "../local-cluster.js";
import { NODE_PROCESS_FLAGS } from "../node-flags.js";
import { UsageError } from "../usage.js";
import { commitSummary, parseMetadataJson, parsePlanJson } from "../membership-output.js";
import { callMembership } from "./cluster-membership.js";

interface AddArgs {
  id: string | undefined;
  "data-dir": string;
  commit: boolean;
  timeout: number;
  json: boolean;
}

/** How long the new node may take to listen and to have its join staged. */
const START_TIMEOUT_MS = 20_000;

export const command = "add";
export const describe =
  "Start one more local node, join it to the running local cluster and commit the plan";

export function builder(yargs: Argv): Argv<AddArgs> {
  return yargs
    .option("id", { type: "string", describe: "The new node's id (default: the next nN)" })
    .option("data-dir", {
      type: "string",
      default: DEFAULT_CLUSTER_DIR,
      describe: "The directory of the running local cluster",
    })
    .option("commit", {
      type: "boolean",
      default: true,
      describe: "Commit the plan (--no-commit: only start the node and stage its join)",
    })
    .option("timeout", { type: "number", default: 5000, describe: "Per-call timeout in ms" })
    .option("json", {
      type: "boolean",
      default: false,
      describe:
        "Print one JSON object: the node started (id, address, pid, log), and once committed " +
        "the plan committed and the cluster metadata",
    })
    .strict() as unknown as Argv<AddArgs>;
}

export async function handler(args: ArgumentsCamelCase<AddArgs>): Promise<void> {
  const clusterDir = path.resolve(args["data-dir"]);
  const file = readClusterFile(clusterDir);
  const seed = file?.nodes[0];
  if (file === undefined || seed === undefined) {
    throw new UsageError(`no local cluster runs from ${clusterDir}: start one with \`npm start\``);
  }
  const taken = new Set(file.nodes.map((node) => node.id));
  const id = args.id ?? nextId(taken);
  if (!isValidNodeId(id)) throw new UsageError(`--id must be 1..64 of [A-Za-z0-9_.-], got '${id}'`);
  if (taken.has(id)) throw new UsageError(`${id} is already a node of this cluster`);
  const [port, metricsPort] = (await probeFreePorts(2)) as [number, number];
  const address = `127.0.0.1:${port}`;
  const dataDir = path.join(clusterDir, id);
  const logFile = path.join(dataDir, "node.log");
  const withMetrics = seed.args.some((arg) => arg.startsWith("--metrics-listen="));
  const metricsAddress = withMetrics ? `127.0.0.1:${metricsPort}` : undefined;
  const serveArgs = seed.args
    .filter((arg) => !/^--(id|listen|peers|data-dir|metrics-listen)=/.test(arg))
    .concat([
      `--id=${id}`,
      `--listen=${address}`,
      `--join=${seed.address}`,
      `--data-dir=${dataDir}`,
    ])
    .concat(metricsAddress === undefined ? [] : [`--metrics-listen=${metricsAddress}`]);
  await ensureCredentialsFor(serveArgs, [id]);
  mkdirSync(dataDir, { recursive: true });
  const log = openSync(logFile, "a");
  const child = spawn(process.execPath, [...NODE_PROCESS_FLAGS, ...serveArgs], {
    detached: true,
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  child.unref();
  const pid = child.pid ?? 0;
  const node = {
    id,
    address,
    dataDir,
    pid,
    logFile,
    args: serveArgs,
    ...(metricsAddress ? { metricsAddress } : {}),
  };
  writeClusterFile(clusterDir, { ...file, nodes: [...file.nodes, node] });
  await waitForServing(address, START_TIMEOUT_MS, clusterClientSecurity(clusterDir));
  const started = { id, address, pid, log: logFile, joinsThrough: seed.id };
  const say = (line: string): void => {
    if (!args.json) console.log(line);
  };
  say(`started ${id} at ${address} (pid ${pid}, log ${logFile}); it joins through ${seed.id}`);
  await waitStaged(seed.address, id, args.timeout, clusterClientSecurity(clusterDir));
  if (!args.commit) {
    say("join staged: review with `dkv cluster plan`, then `dkv cluster commit`");
    if (args.json) console.log(JSON.stringify({ started, committed: false }));
    return;
  }
  const security = clusterClientSecurity(clusterDir);
  const planned = await callMembership<PlanReply__Output>(
    [seed.address],
    args.timeout,
    (c, o, d) => c.Plan({}, o, d),
    security,
  );
  const request = { based_on: planned.reply.based_on, revision: planned.reply.revision };
  const { reply } = await callMembership<MetadataReply__Output>(
    [seed.address],
    args.timeout,
    (client, options, done) => client.Commit(request, options, done),
    security,
  );
  const report = parsePlanJson(planned.reply.plan_json);
  if (args.json) {
    const plan = JSON.parse(planned.reply.plan_json) as unknown;
    const metadata = JSON.parse(reply.metadata_json) as unknown;
    console.log(JSON.stringify({ started, committed: true, plan, metadata }));
    return;
  }
  console.log(commitSummary(report, parseMetadataJson(reply.metadata_json)));
  console.log("data moves in the background: watch it with `dkv cluster transfers`");
}

/** The first nK not taken, K counting from the number of nodes. */
function nextId(taken: ReadonlySet<string>): string {
  for (let index = taken.size + 1; ; index++) if (!taken.has(`n${index}`)) return `n${index}`;
}

/** Waits until `seed` holds the staged join of `id` (the new node stages it once it listens). */
async function waitStaged(
  seed: string,
  id: string,
  timeoutMs: number,
  security: ClientSecurity,
): Promise<void> {
  const giveUpAtMs = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const { reply } = await callMembership<MetadataReply__Output>(
      [seed],
      timeoutMs,
      (c, o, d) => c.Get({}, o, d),
      security,
    );
    const { staged, layout } = parseMetadataJson(reply.metadata_json);
    if (staged.changes.some((change) => change.kind === "join" && change.node === id)) return;
    if (layout.members.some((member) => member.node === id)) return;
    if (Date.now() > giveUpAtMs) {
      throw new Error(`${id} started but its join was not staged within ${START_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
