// The protobuf fuzzer, long form (issue 15): starts a 3-node TLS cluster of the built CLI, writes
// guarded keys, adds a token user with one read grant, then sends --runs fuzzed calls of every
// method (from the protos and the node's reflection list) as anonymous, reader, admin and a
// member node, from --seed. Prints calls per service and status, every finding (a hang, a reset,
// INTERNAL or UNKNOWN, a status outside the allowed set, a refusal without a message, an
// anonymous call not refused UNAUTHENTICATED), then checks that every node lives and serves and
// the guarded keys read back unchanged. Exits 1 on any finding. The fence: fuzz-setup.ts.
// Run: npm run build && npm run fuzz -- --runs 5000 --seed 7

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFile, type ChildProcess } from "node:child_process";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import Table from "cli-table3";
import {
  clusterClientSecurity,
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  stopProcess,
  waitForServing,
} from "../cli/local-cluster.js";
import { certDirOf } from "../cli/local-credentials.js";
import { DkvClient } from "../coordinator/client.js";
import { localClientCredentials } from "../node/security/client-security.js";
import { builtMainScript, say, sleep } from "./lib/fault-cluster.js";
import { loadFuzzRoot } from "./lib/proto-fuzz.js";
import {
  describeFinding,
  findingOf,
  planCalls,
  reflectedServices,
  runCalls,
  tally,
} from "./lib/fuzz-calls.js";
import {
  READER,
  fuzzCallers,
  fuzzFence,
  methodsToFuzz,
  readGuardedKey,
  writeGuardedKeys,
} from "./lib/fuzz-setup.js";

const args = yargs(hideBin(process.argv))
  .option("runs", { type: "number", default: 2000, describe: "Fuzzed calls, about" })
  .option("seed", { type: "number", default: Date.now() % 2 ** 31, describe: "fast-check seed" })
  .option("concurrency", { type: "number", default: 8 })
  .option("deadline-ms", { type: "number", default: 3000 })
  .option("keys", { type: "number", default: 30, describe: "Guarded keys" })
  .parseSync();

/** Runs the built CLI with the cluster's admin credentials; resolves with its stdout. */
function cli(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [builtMainScript(), ...argv], { env }, (error, stdout, stderr) =>
      error === null ? resolve(stdout) : reject(new Error(`dkv ${argv.join(" ")}: ${stderr}`)),
    ),
  );
}

async function main(): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-fuzz-"));
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(3),
    clusterDir: dir,
    storage: "memory",
    partitionCount: 64,
    logLevel: "warn",
    mainScript: builtMainScript(),
    serveArgs: [],
  });
  const security = clusterClientSecurity(dir);
  const certDir = path.resolve(certDirOf(dir));
  const children: ChildProcess[] = [];
  const clients: DkvClient[] = [];
  try {
    for (const spec of specs) children.push(spawnNode(spec));
    await Promise.all(specs.map((spec) => waitForServing(spec.address, 20_000, security)));
    await sleep(2000); // every node has heard from every peer
    const client = new DkvClient([specs[0]!.address], { security });
    clients.push(client);
    const guarded = await writeGuardedKeys(client, args.keys);
    const env = {
      ...process.env,
      DKV_CA: path.join(certDir, "ca.crt"),
      DKV_CERT: path.join(certDir, "client-admin.crt"),
      DKV_CERT_KEY: path.join(certDir, "client-admin.key"),
    };
    const where = ["--node", specs[0]!.address];
    const added = await cli(["user", "add", READER.user, "--json", ...where], env);
    const { token } = JSON.parse(added) as { token: string };
    await cli(["grant", "read", "--bucket", READER.bucket, "--user", READER.user, ...where], env);
    const callers = fuzzCallers(localClientCredentials(certDir)!, token, certDir, "n3");

    const root = loadFuzzRoot();
    const admin = callers.find((caller) => caller.name === "admin")!;
    const methods = methodsToFuzz(root, await reflectedServices(root, admin, specs[0]!.address));
    const perPair = Math.max(1, Math.round(args.runs / (methods.length * callers.length)));
    const calls = planCalls({
      methods,
      callers,
      addresses: specs.map((spec) => spec.address),
      perPair,
      seed: args.seed,
      fence: fuzzFence(specs.map((spec) => spec.id)),
    });
    say(`seed ${args.seed}: ${calls.length} calls of ${methods.length} methods`);
    const startedMs = performance.now();
    let done = 0;
    const outcomes = await runCalls(
      calls,
      { concurrency: args.concurrency, deadlineMs: args["deadline-ms"], graceMs: 5000 },
      () => {
        if (++done % 1000 === 0) say(`${done} calls`);
      },
    );
    const seconds = (performance.now() - startedMs) / 1000;
    say(`${outcomes.length} calls in ${seconds.toFixed(1)} s`);
    printTable(tally(outcomes));

    const findings = outcomes.flatMap((outcome) => {
      const finding = findingOf(outcome);
      return finding === undefined ? [] : [describeFinding(outcome, finding, args.seed)];
    });
    for (const finding of findings) say(`FINDING ${finding}`);
    const broken: string[] = [];
    children.forEach((child, index) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        broken.push(`${specs[index]!.id} exited (${child.exitCode ?? child.signalCode})`);
      }
    });
    for (const spec of specs) {
      await waitForServing(spec.address, 5000, security).catch((error: Error) =>
        broken.push(`${spec.id} not serving: ${error.message}`),
      );
    }
    for (const spec of specs) {
      const reader = new DkvClient([spec.address], { security });
      clients.push(reader);
      for (const [key, siblings] of guarded) {
        const now = await readGuardedKey(reader, key).catch((error: Error) => [error.message]);
        if (JSON.stringify(now) !== JSON.stringify(siblings)) {
          broken.push(
            `${key} via ${spec.id}: ${JSON.stringify(now)} != ${JSON.stringify(siblings)}`,
          );
        }
      }
    }
    for (const problem of broken) say(`BROKEN ${problem}`);
    say(
      `${findings.length} findings; nodes and ${guarded.size} guarded keys: ${broken.length === 0 ? "intact" : "BROKEN"}`,
    );
    return findings.length === 0 && broken.length === 0 ? 0 : 1;
  } finally {
    for (const client of clients) client.close();
    await Promise.all(children.map((child) => stopProcess(child, 5000)));
    if (process.env["FUZZ_KEEP"] === undefined) rmSync(dir, { recursive: true, force: true });
    else say(`logs kept in ${dir}`);
  }
}

function printTable(rows: Map<string, Map<string, number>>): void {
  const statuses = [...new Set([...rows.values()].flatMap((row) => [...row.keys()]))].sort();
  const table = new Table({ head: ["service", ...statuses, "calls"] });
  for (const [service, row] of rows) {
    const total = [...row.values()].reduce((sum, count) => sum + count, 0);
    table.push([service, ...statuses.map((status) => row.get(status) ?? 0), total]);
  }
  console.log(table.toString());
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
