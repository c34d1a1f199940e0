// One `dkv bench` run end to end: start (or find) the cluster, run the load against it, then
// the same for the echo baseline in a process of its own, and assemble the report. Every
// process it starts is stopped at the end, on failure and on Ctrl-C.

import {
  localClientCredentials,
  type ClientCredentialsPem,
} from "../../node/security/client-security.js";
import { certDirOf } from "../local-credentials.js";
import os from "node:os";
import { stopProcess } from "../local-cluster.js";
import { startBenchCluster, type BenchCluster } from "./bench-cluster.js";
import type { BenchConfig } from "./bench-config.js";
import { BenchProcesses, nextMessage, onInterrupt } from "./bench-processes.js";
import { buildReport, type BenchReport } from "./bench-report.js";
import type { TargetResult } from "./bench-summary.js";
import { CHILD_READY_TIMEOUT_MS, runTarget, type TargetSpec } from "./run-target.js";

function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Runs the benchmark and returns its report. */
export async function runBench(config: BenchConfig): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const loadAverageAtStart = os.loadavg()[0] ?? 0;
  const processes = new BenchProcesses();
  let cluster: BenchCluster | undefined;
  const release = onInterrupt(async () => {
    await processes.stopAll(2000);
    await cluster?.stop();
  });
  try {
    let dkvSpec: TargetSpec;
    if (config.target.kind === "own") {
      const { nodes, storage, partitions, serveArgs } = config.target;
      const flags = serveArgs.length === 0 ? "" : `, serve flags ${serveArgs.join(" ")}`;
      note(
        `starting a ${nodes}-node dkv cluster (storage ${storage}, ${partitions} partitions${flags}) ...`,
      );
      cluster = await startBenchCluster({ nodes, storage, partitions, serveArgs, processes });
      note(`cluster up: ${cluster.addresses.join(", ")}`);
      dkvSpec = {
        name: "dkv",
        addresses: cluster.addresses,
        serverPids: cluster.pids,
        ifNoneMatch: false,
        ...credentialsOf(localClientCredentials(certDirOf(cluster.dir))),
      };
    } else {
      const { addresses, pids, credentials } = config.target;
      dkvSpec = {
        name: "dkv",
        addresses,
        serverPids: pids,
        ifNoneMatch: true,
        ...credentialsOf(credentials),
      };
    }
    const dkv = await runTarget(dkvSpec, config, processes);
    // The cluster is done; stopping it keeps it from taking CPU during the baseline.
    await cluster?.stop();
    cluster = undefined;
    const echo = config.baseline === "echo" ? await runEchoBaseline(config, processes) : null;
    return buildReport(config, { startedAt, loadAverageAtStart }, dkv, echo);
  } finally {
    await processes.stopAll(5000);
    await cluster?.stop();
    release();
  }
}

/** Starts the echo server in a process of its own and drives it like the cluster. */
async function runEchoBaseline(
  config: BenchConfig,
  processes: BenchProcesses,
): Promise<TargetResult> {
  const child = processes.forkModule("echo-server-process");
  try {
    child.send({ valueBytes: config.valueBytes });
    const reply = await nextMessage<{ address?: string; error?: string }>(
      child,
      () => true,
      CHILD_READY_TIMEOUT_MS,
      "echo server",
    );
    if (reply.address === undefined) throw new Error(`echo server failed: ${reply.error ?? "?"}`);
    note(`echo baseline server up: ${reply.address} (pid ${child.pid})`);
    const spec: TargetSpec = {
      name: "echo",
      addresses: [reply.address],
      serverPids: child.pid === undefined ? [] : [child.pid],
      ifNoneMatch: false,
    };
    return await runTarget(spec, config, processes);
  } finally {
    await stopProcess(child, 2000);
  }
}

function credentialsOf(credentials: ClientCredentialsPem | undefined): {
  credentials?: ClientCredentialsPem;
} {
  return credentials === undefined ? {} : { credentials };
}
