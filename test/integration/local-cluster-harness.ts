// Test harness: a cluster of real `dkv serve` processes (the compiled dist/ build) on probed
// free ports of 127.0.0.1, with a temp data dir, and a teardown that kills every process it
// started by pid (and every pid adopted from a fault script), resuming paused ones first.

import { useClusterSecurity } from "../../scripts/lib/script-security.js";
import { existsSync, mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFile, type ChildProcess } from "node:child_process";
import {
  ensureCredentialsFor,
  localClusterSpecs,
  probeFreePorts,
  spawnNode,
  stopProcess,
  waitForPeersAnswered,
  waitForServing,
  type LocalNodeSpec,
} from "../../cli/local-cluster.js";
import { DkvClient } from "../../coordinator/client.js";
import { certDirOf } from "../../cli/local-credentials.js";
import {
  localClientCredentials,
  localClientSecurity,
  type ClientCredentialsPem,
  type ClientSecurity,
} from "../../node/security/client-security.js";
import { writeClusterFile } from "../../cli/cluster-file.js";

/** The built CLI; `npm test` builds it first. */
export const MAIN_SCRIPT = path.resolve("dist/cli/main.js");

/** The environment without DKV_NODE, so that a benchmark starts a cluster of its own. */
export function benchEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env["DKV_NODE"];
  return env;
}

/** What one run of the dkv command line did. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built dkv command line with `env` added; resolves with its exit code and output. */
export function runDkv(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const options = { env: { ...process.env, ...env } };
    execFile(process.execPath, [MAIN_SCRIPT, ...args], options, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A running test cluster. */
export class TestCluster {
  readonly specs: LocalNodeSpec[];
  readonly dir: string;
  readonly #children = new Map<string, ChildProcess>();
  readonly #clients: DkvClient[] = [];
  readonly #checkers = new Map<string, DkvClient>();
  /** Nodes started by someone else (a fault script restarting a node), by pid. */
  readonly #adopted = new Map<string, number>();
  readonly #paused = new Set<string>();

  private constructor(specs: LocalNodeSpec[], dir: string) {
    this.specs = specs;
    this.dir = dir;
  }

  /**
   * Starts `nodes` nodes and waits until every one serves and has had a ping answered by every
   * peer. Nodes start together, so one may try a peer before it listens; its channel to that
   * peer then waits out a reconnect backoff (up to 1 s) during which calls to it fail at once.
   * A test that writes at w=all right after the start would see that window, not the feature.
   */
  static async start(options: {
    nodes: number;
    storage?: string;
    partitions?: number;
    /** Further `dkv serve` flags for every node. */
    serveArgs?: readonly string[];
  }): Promise<TestCluster> {
    if (!existsSync(MAIN_SCRIPT)) throw new Error(`${MAIN_SCRIPT} is missing: run npm run build`);
    const dir = mkdtempSync(path.join(tmpdir(), "dkv-test-"));
    const specs = await localClusterSpecs({
      ports: await probeFreePorts(options.nodes),
      clusterDir: dir,
      storage: options.storage ?? "memory",
      partitionCount: options.partitions ?? 64,
      logLevel: "info",
      mainScript: MAIN_SCRIPT,
      serveArgs: options.serveArgs ?? [],
    });
    const cluster = new TestCluster(specs, dir);
    // The fault helpers of scripts/lib/fault-cluster.ts (SetDroppedPeers, SetLinkFaults) reach
    // the cluster started last with its credentials.
    useClusterSecurity(dir);
    try {
      await Promise.all(specs.map((spec) => cluster.startNode(spec.id)));
      await Promise.all(
        specs.map((spec) => waitForPeersAnswered(spec.address, spec.id, 20_000, cluster.security)),
      );
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /**
   * How clients reach this cluster: TLS with the bootstrap admin's certificate, or plaintext
   * for a cluster started with --insecure.
   */
  get security(): ClientSecurity {
    return localClientSecurity(certDirOf(this.dir));
  }

  /** The admin's credentials as text (for raw HTTP/2 clients); undefined when --insecure. */
  get credentials(): ClientCredentialsPem | undefined {
    return localClientCredentials(path.resolve(certDirOf(this.dir)));
  }

  /** The environment that points the dkv CLI at this cluster's CA and admin certificate. */
  get cliEnv(): Record<string, string> {
    const certDir = path.resolve(certDirOf(this.dir));
    if (!existsSync(path.join(certDir, "ca.crt"))) return {};
    return {
      DKV_CA: path.join(certDir, "ca.crt"),
      DKV_CERT: path.join(certDir, "client-admin.crt"),
      DKV_CERT_KEY: path.join(certDir, "client-admin.key"),
    };
  }

  spec(id: string): LocalNodeSpec {
    const spec = this.specs.find((candidate) => candidate.id === id);
    if (spec === undefined) throw new Error(`no node ${id}`);
    return spec;
  }

  /** Starts (or restarts) one node at its original address. */
  async startNode(id: string): Promise<void> {
    const spec = this.spec(id);
    if (this.#adopted.has(id)) throw new Error(`${id} runs as adopted pid; stopNode it first`);
    const child = spawnNode(spec);
    this.#children.set(id, child);
    try {
      await waitForServing(spec.address, 20_000, this.security);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${this.log(id)}`);
    }
  }

  /**
   * Starts a new node `id` with `dkv serve --join` through `via` (a running member): it learns
   * the cluster from it and has its join staged; the caller plans and commits. Its flags are
   * the first node's, but for its id, address and data dir.
   */
  async addNode(id: string, via: string): Promise<void> {
    if (this.specs.some((spec) => spec.id === id)) throw new Error(`${id} exists already`);
    const [port] = await probeFreePorts(1);
    const address = `127.0.0.1:${port}`;
    const template = this.specs[0];
    if (template === undefined) throw new Error("no node to copy flags from");
    const dataDir = path.join(this.dir, id);
    await ensureCredentialsFor(template.args, [id]);
    const args = template.args
      .filter((arg) => !/^--(id|listen|peers|data-dir|metrics-listen)=/.test(arg))
      .concat([
        `--id=${id}`,
        `--listen=${address}`,
        `--join=${this.spec(via).address}`,
        `--data-dir=${dataDir}`,
      ]);
    this.specs.push({ id, address, dataDir, logFile: path.join(dataDir, "node.log"), args });
    await this.startNode(id);
  }

  /** Stops one node: SIGTERM (graceful) by default, or SIGKILL. */
  async stopNode(id: string, how: "graceful" | "kill" = "graceful"): Promise<void> {
    if (this.#paused.has(id)) this.resume(id);
    const adopted = this.#adopted.get(id);
    if (adopted !== undefined) {
      await killPid(adopted);
      this.#adopted.delete(id);
      return;
    }
    const child = this.#children.get(id);
    if (child === undefined) return;
    if (how === "kill") {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    } else {
      await stopProcess(child, 10_000);
    }
    this.#children.delete(id);
  }

  /** A client that talks only to the given node. */
  client(id: string): DkvClient {
    const client = new DkvClient([this.spec(id).address], { security: this.security });
    this.#clients.push(client);
    return client;
  }

  /**
   * The one client of checks against `id`, made on first use and kept until stop: for calls in
   * loops, where {@link client} would open a TLS connection per call (1,300 local reads took
   * 21 s that way). Never close it; after a node's restart it reconnects.
   */
  checker(id: string): DkvClient {
    let client = this.#checkers.get(id);
    if (client === undefined) {
      client = this.client(id);
      this.#checkers.set(id, client);
    }
    return client;
  }

  pid(id: string): number | undefined {
    return this.#adopted.get(id) ?? this.#children.get(id)?.pid;
  }

  /** Freezes a node with SIGSTOP (its sockets stay open, it answers nothing). */
  pause(id: string): void {
    const pid = this.pid(id);
    if (pid === undefined) throw new Error(`${id} is not running`);
    process.kill(pid, "SIGSTOP");
    this.#paused.add(id);
  }

  /** Thaws a node paused with pause(). */
  resume(id: string): void {
    const pid = this.pid(id);
    if (pid !== undefined) process.kill(pid, "SIGCONT");
    this.#paused.delete(id);
  }

  /**
   * Writes the cluster.json that `dkv cluster up` would, so the fault scripts can drive this
   * cluster (--cluster-dir = this.dir).
   */
  writeClusterFile(): void {
    writeClusterFile(this.dir, {
      version: 1,
      supervisorPid: process.pid,
      storage: "memory",
      partitionCount: 64,
      nodes: this.specs.map((spec) => ({ ...spec, pid: this.pid(spec.id) ?? 0 })),
    });
  }

  /**
   * Takes over a node that a fault script killed and restarted under a new pid: this cluster
   * now stops it (by pid) at teardown.
   */
  adopt(id: string, pid: number): void {
    this.#children.delete(id);
    this.#adopted.set(id, pid);
  }

  log(id: string): string {
    try {
      return readFileSync(this.spec(id).logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** Kills every process this cluster started and removes its data. */
  async stop(): Promise<void> {
    for (const client of this.#clients) client.close();
    this.#checkers.clear();
    for (const id of [...this.#paused]) this.resume(id);
    await Promise.all([...this.#children.keys()].map((id) => this.stopNode(id, "kill")));
    await Promise.all([...this.#adopted.values()].map((pid) => killPid(pid)));
    this.#adopted.clear();
    if (process.env["DKV_KEEP_TEST_DIRS"] !== "1")
      rmSync(this.dir, { recursive: true, force: true });
  }
}

/** SIGKILLs a process that is not our child and waits (up to 5 s) until it is gone. */
async function killPid(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  for (let waitedMs = 0; waitedMs < 5000; waitedMs += 20) {
    try {
      process.kill(pid, 0);
      // A killed orphan may linger as a zombie until init reaps it; that counts as gone.
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"))) return;
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The error a call that must fail failed with; throws when it succeeded. */
export async function failure(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await call;
  } catch (error) {
    return error as { code: number; details: string };
  }
  throw new Error("the call succeeded but should have failed");
}
