// Probe of a node's memory bounds under hostile clients (issue 12, items 3, 4 and 6); figures,
// not a test. Starts a 3-node local cluster of the built CLI and runs one scenario against n1:
//   slow-reader  --streams S KV.Get streams of a --value-mib value on one connection that never
//                reads; a polite client's Gets meanwhile; then the connection is closed.
//   big-puts     --puts P concurrent Puts each announcing and sending --put-mib MiB.
//   flood        n1's replica calls are delayed (Admin.SetLinkFaults) so Gets stay in flight;
//                one connection keeps --flood Gets open while a polite client's Gets go on.
// Prints n1's RSS (VmRSS) before, at peak during, and after; polite latency and errors.
// Run: npm run build && npx tsx scripts/probe-memory.ts --scenario slow-reader [-- serve flags]

import {
  localClientCredentials,
  type ClientCredentialsPem,
} from "../node/security/client-security.js";
import { certDirOf } from "../cli/local-credentials.js";
import { setLinkFaults } from "./lib/fault-cluster.js";
import { useClusterSecurity } from "./lib/script-security.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import * as grpc from "@grpc/grpc-js";
import {
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  stopProcess,
  waitForServing,
  clusterClientSecurity,
} from "../cli/local-cluster.js";
import { DkvClient } from "../coordinator/client.js";
import { nodeId } from "../node/core/node-id.js";
import { FAULT_INJECTION_FLAG, builtMainScript, say, sleep } from "./lib/fault-cluster.js";
import { connectRaw, encodeKvRequest, frame, rssBytes, startRawCall } from "./raw-grpc.js";

const MiB = 1024 * 1024;

const args = yargs(hideBin(process.argv))
  .option("scenario", {
    choices: ["slow-reader", "big-puts", "flood"] as const,
    default: "slow-reader" as const,
  })
  .option("streams", { type: "number", default: 240 })
  .option("value-mib", { type: "number", default: 8 })
  .option("hold-seconds", { type: "number", default: 10 })
  .option("puts", { type: "number", default: 16 })
  .option("put-mib", { type: "number", default: 60 })
  .option("flood", { type: "number", default: 5000 })
  .option("delay-ms", { type: "number", default: 2000 })
  .parseSync();
const serveArgs = args._.map(String);

const mb = (bytes: number): string => `${Math.round(bytes / MiB)} MiB`;

/** The admin's credentials of the probed cluster, for raw connections. */
let credentials: ClientCredentialsPem | undefined;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-probe-"));
  const specs = await localClusterSpecs({
    ports: await probeFreePorts(3),
    clusterDir: dir,
    storage: "memory",
    partitionCount: 64,
    logLevel: "warn",
    mainScript: builtMainScript(),
    // The flood scenario delays n1's replica calls with Admin.SetLinkFaults.
    serveArgs: [FAULT_INJECTION_FLAG, ...serveArgs],
  });
  credentials = localClientCredentials(path.resolve(certDirOf(dir)));
  useClusterSecurity(dir);
  const children: ChildProcess[] = [];
  try {
    for (const spec of specs) children.push(spawnNode(spec));
    await Promise.all(
      specs.map((spec) => waitForServing(spec.address, 20_000, clusterClientSecurity(dir))),
    );
    await sleep(2000); // every node has heard from every peer
    const n1 = specs[0]!;
    const pid = children[0]!.pid!;
    const polite = new DkvClient([n1.address], { security: clusterClientSecurity(dir) });
    await polite.put("small", "v", { w: 3 });
    if (args.scenario === "slow-reader") await slowReader(n1.address, pid, polite);
    if (args.scenario === "big-puts") await bigPuts(n1.address, pid, polite);
    if (args.scenario === "flood") await flood(n1.address, pid, polite, specs);
    polite.close();
  } finally {
    await Promise.all(children.map((child) => stopProcess(child, 5000)));
    if (process.env["PROBE_KEEP"] === undefined) rmSync(dir, { recursive: true, force: true });
    else say(`logs kept in ${dir}`);
  }
}

/** Polite Gets one after another until stopped: latencies and error messages. */
function politeLoop(client: DkvClient): { stop: () => Promise<PoliteFigures> } {
  const latenciesMs: number[] = [];
  const errors = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const startedMs = performance.now();
      try {
        await client.get("small", { timeoutMs: 10_000 });
        latenciesMs.push(performance.now() - startedMs);
      } catch (error) {
        const message = (error as grpc.ServiceError).details ?? String(error);
        errors.set(message, (errors.get(message) ?? 0) + 1);
        await sleep(10);
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      latenciesMs.sort((a, b) => a - b);
      const at = (q: number): number =>
        latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(q * latenciesMs.length))] ?? 0;
      return { ok: latenciesMs.length, p50Ms: at(0.5), p99Ms: at(0.99), errors };
    },
  };
}

interface PoliteFigures {
  ok: number;
  p50Ms: number;
  p99Ms: number;
  errors: Map<string, number>;
}

function report(name: string, figures: Record<string, unknown>, polite: PoliteFigures): void {
  say(`${name}: ${JSON.stringify(figures)}`);
  say(
    `polite: ${polite.ok} ok, p50 ${polite.p50Ms.toFixed(1)} ms, p99 ${polite.p99Ms.toFixed(1)} ms, errors ${JSON.stringify([...polite.errors])}`,
  );
}

function sampler(pid: number): { peak: () => number; stop: () => void } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 100);
  return { peak: () => peak, stop: () => clearInterval(timer) };
}

async function slowReader(address: string, pid: number, polite: DkvClient): Promise<void> {
  await polite.put("big", Buffer.alloc(args["value-mib"] * MiB, 7), { w: 3, timeoutMs: 30_000 });
  await sleep(1000);
  const before = rssBytes(pid);
  const rss = sampler(pid);
  const loop = politeLoop(polite);
  const session = await connectRaw(address, credentials);
  const body = frame(encodeKvRequest("Get", { bucket: "default", key: Buffer.from("big") }));
  const calls = Array.from({ length: args.streams }, () =>
    startRawCall(session, "/dkv.v1.KV/Get", body, { read: false }),
  );
  let closedByNode = false;
  session.once("close", () => (closedByNode = true));
  await sleep(args["hold-seconds"] * 1000);
  const sessionClosed = closedByNode;
  const during = rssBytes(pid);
  const statuses = new Map<string, number>();
  await Promise.all(
    calls.map(async (call) => {
      const outcome = await Promise.race([call.status, sleep(10).then(() => undefined)]);
      const key = outcome === undefined ? "pending" : `${outcome.code} ${outcome.details}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }),
  );
  session.destroy();
  const politeFigures = await loop.stop();
  await sleep(5000);
  rss.stop();
  const after = rssBytes(pid);
  report(
    "slow-reader",
    {
      streams: args.streams,
      valueMiB: args["value-mib"],
      rssBefore: mb(before),
      rssPeak: mb(rss.peak()),
      rssDuring: mb(during),
      rssAfter5s: mb(after),
      closedByNode: sessionClosed,
      statuses: [...statuses],
    },
    politeFigures,
  );
}

async function bigPuts(address: string, pid: number, polite: DkvClient): Promise<void> {
  const before = rssBytes(pid);
  const rss = sampler(pid);
  const loop = politeLoop(polite);
  const bytes = args["put-mib"] * MiB;
  const message = encodeKvRequest("Put", {
    bucket: "default",
    key: Buffer.from("huge"),
    value: Buffer.alloc(bytes, 1),
  });
  const session = await connectRaw(address, credentials);
  const calls = Array.from({ length: args.puts }, () => {
    const call = startRawCall(session, "/dkv.v1.KV/Put", frame(message), { read: true });
    return call.status;
  });
  const outcomes = await Promise.all(calls);
  session.destroy();
  const politeFigures = await loop.stop();
  await sleep(3000);
  rss.stop();
  const codes = new Map<string, number>();
  for (const outcome of outcomes) {
    const key = `${outcome.code} ${outcome.details}`;
    codes.set(key, (codes.get(key) ?? 0) + 1);
  }
  report(
    "big-puts",
    {
      puts: args.puts,
      putMiB: args["put-mib"],
      rssBefore: mb(before),
      rssPeak: mb(rss.peak()),
      rssAfter3s: mb(rssBytes(pid)),
      outcomes: [...codes],
    },
    politeFigures,
  );
}

async function flood(
  address: string,
  pid: number,
  polite: DkvClient,
  specs: Awaited<ReturnType<typeof localClusterSpecs>>,
): Promise<void> {
  const peers = specs.slice(1).map((spec) => spec.id);
  await setLinkFaults(
    address,
    peers.map((peer) => ({ peer, delayMs: args["delay-ms"], jitterMs: 0, loss: 0 })),
  );
  await sleep(1000);
  const before = rssBytes(pid);
  const loop = politeLoop(polite);
  const session = await connectRaw(address, credentials);
  const body = frame(encodeKvRequest("Get", { bucket: "default", key: Buffer.from("small") }));
  const outcomes = new Map<string, number>();
  let open = 0;
  let running = true;
  // Keeps --flood Gets open on the one connection: a new one as soon as one ends.
  const flooder = (async () => {
    const tasks: Promise<void>[] = [];
    for (let index = 0; index < args.flood; index++) {
      tasks.push(
        (async () => {
          while (running) {
            open += 1;
            const outcome = await startRawCall(session, "/dkv.v1.KV/Get", body).status;
            open -= 1;
            const key = `${outcome.code} ${outcome.details.replace(/\d+/g, "#")}`;
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
            if (outcome.code !== 0) await sleep(50);
          }
        })(),
      );
    }
    await Promise.all(tasks);
  })();
  await sleep(args["hold-seconds"] * 1000);
  running = false;
  const politeFigures = await loop.stop();
  await flooder;
  session.destroy();
  await setLinkFaults(address, []).catch(() => undefined);
  report(
    "flood",
    {
      flood: args.flood,
      delayMs: args["delay-ms"],
      rss: mb(before),
      open,
      outcomes: [...outcomes],
    },
    politeFigures,
  );
}

await main();
