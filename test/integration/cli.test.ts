// Goal: the dkv command does what the README's tour says: put/get/delete/status with readable
// and --json output, documented exit statuses, and `cluster up` starting and stopping a cluster.
// Method: run the built CLI as a child process against real `dkv serve` processes.

import { clusterClientSecurity } from "../../cli/local-cluster.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MAIN_SCRIPT, TestCluster } from "./local-cluster-harness.js";
import { callMembership } from "../../cli/commands/cluster-membership.js";
import type { MetadataReply__Output } from "../../proto/generated/dkv/v1/MetadataReply.js";

let cluster: TestCluster;
let node: string;

beforeAll(async () => {
  cluster = await TestCluster.start({ nodes: 3 });
  node = cluster.spec("n1").address;
});

afterAll(async () => {
  await cluster?.stop();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function dkv(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN_SCRIPT, ...args],
      { env: { ...process.env, ...cluster?.cliEnv, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("dkv put/get/delete", () => {
  it("puts, gets siblings, resolves them with a context, and deletes", async () => {
    const first = await dkv(["put", "cart:42", '{"items":[1]}', "--node", node]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^vtag: \S+\ncontext: \S+\n$/);
    expect((await dkv(["put", "cart:42", '{"items":[2]}', "--node", node])).code).toBe(0);

    const read = await dkv(["get", "cart:42", "--node", node, "--json"]);
    expect(read.code).toBe(0);
    const parsed = JSON.parse(read.stdout) as {
      found: boolean;
      siblings: { value: string; content_type: string }[];
      context: string;
    };
    expect(parsed.found).toBe(true);
    expect(parsed.siblings.map((sibling) => sibling.value).sort()).toEqual([
      '{"items":[1]}',
      '{"items":[2]}',
    ]);
    expect(parsed.siblings[0]?.content_type).toBe("application/json");

    const readable = await dkv(["get", "cart:42", "--node", node]);
    expect(readable.stdout).toMatch(/sibling 1\/2  vtag \S+  application\/json  \d{4}-\d\d-\d\dT/);
    expect(readable.stdout).toContain(`context: ${parsed.context}`);

    const resolved = await dkv([
      "put",
      "cart:42",
      '{"items":[1,2]}',
      "--context",
      parsed.context,
      "--node",
      node,
    ]);
    expect(resolved.code).toBe(0);
    const after = JSON.parse(
      (await dkv(["get", "cart:42", "--node", node, "--json", "--r", "all"])).stdout,
    ) as typeof parsed;
    expect(after.siblings.map((sibling) => sibling.value)).toEqual(['{"items":[1,2]}']);

    const deleted = await dkv(["delete", "cart:42", "--context", after.context, "--node", node]);
    expect(deleted).toMatchObject({ code: 0, stdout: "deleted cart:42\n" });
    const gone = await dkv(["get", "cart:42", "--node", node]);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toMatch(/^cart:42: not found\n/);
    // Nine CLI processes, each a Node start and a TLS handshake: 3-6 s each on a loaded machine.
  }, 90_000);

  it("takes the node from DKV_NODE", async () => {
    const run = await dkv(["put", "env-key", "v"], { DKV_NODE: node });
    expect(run.code).toBe(0);
  });

  it("shows status: every node up with its address and partitions", async () => {
    const run = await dkv(["status", "--node", node, "--json"]);
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout) as {
      members: { node_id: string; up: boolean; address: string; partitions: number[] }[];
      partition_count: number;
    };
    expect(status.partition_count).toBe(64);
    expect(status.members.map((member) => [member.node_id, member.up])).toEqual([
      ["n1", true],
      ["n2", true],
      ["n3", true],
    ]);
    expect(status.members.reduce((sum, member) => sum + member.partitions.length, 0)).toBe(64);
    const readable = await dkv(["status", "--node", node]);
    expect(readable.stdout).toMatch(/n2\s+│\s+127\.0\.0\.1:\d+\s+│\s+up/);
    // Fault injection is off by default, and status says nothing about it then.
    expect(readable.stdout).not.toMatch(/fault injection/i);
  });

  const failures: [string, string[], number, RegExp][] = [
    ["w above n", ["put", "k", "v", "--w", "4"], 2, /w=4 exceeds n=3/],
    [
      "a quorum that is not a number or symbol",
      ["put", "k", "v", "--w", "banana"],
      2,
      /--w must be a count or one\|quorum\|all, got 'banana'/,
    ],
    [
      "a malformed context",
      ["put", "k", "v", "--context", "!!!"],
      2,
      /--context must be the base64url text/,
    ],
    [
      "a context the server cannot decode",
      ["put", "k", "v", "--context", "AAAA"],
      2,
      /context refused: it was not issued by this cluster/,
    ],
    ["an unknown command", ["frobnicate"], 2, /Unknown argument|name a command/],
  ];

  it.each(failures)(
    "rejects %s with a clear message and exit status",
    async (_name, args, code, message) => {
      const run = await dkv([...args, "--node", node]);
      expect(run.code).toBe(code);
      expect(run.stderr).toMatch(message);
    },
  );

  it("refuses an unknown option before the command runs (nothing is written)", async () => {
    const run = await dkv(["put", "unknown-option-key", "v", "--bogus", "1", "--node", node]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Unknown argument: bogus/);
    const read = await dkv(["get", "unknown-option-key", "--node", node]);
    expect(read.code).toBe(0);
    expect(read.stdout).toMatch(/not found/);
  });

  it("exits 2 on a malformed --node and 3 on an unreachable one", async () => {
    const malformed = await dkv(["get", "k", "--node", "not-an-address"]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--node must be host:port, got 'not-an-address'/);
    const unreachable = await dkv(["get", "k", "--node", "127.0.0.1:1", "--timeout", "2000"]);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/error: .+/);
  });
});

/** Teardown after a failed run: kill, by pid, every node the supervisor listed. */
function killListedNodes(dir: string): void {
  try {
    const file = JSON.parse(readFileSync(path.join(dir, "cluster.json"), "utf8")) as {
      nodes: { pid: number }[];
    };
    for (const { pid } of file.nodes) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  } catch {
    // no cluster file: the supervisor never got as far as starting nodes
  }
}

/** The CLI for a cluster of its own `dkv cluster up`: its credentials come from --cluster-dir. */
function dkvLocal(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return dkv(args, { DKV_CA: "", DKV_CERT: "", DKV_CERT_KEY: "", ...env });
}

describe("dkv cluster up", () => {
  it("starts a cluster, serves the CLI without --node, grows it by one, and stops every node on Ctrl-C", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dkv-up-"));
    const supervisor = spawn(
      process.execPath,
      [
        MAIN_SCRIPT,
        "cluster",
        "up",
        "--nodes",
        "3",
        "--data-dir",
        dir,
        "--aae-interval-ms",
        "5000",
        "--serve-flag=--no-read-repair",
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    supervisor.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    supervisor.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      supervisor.on("exit", (code) => resolve(code)),
    );
    try {
      const giveUpAtMs = Date.now() + 30_000;
      while (!output.includes("press Ctrl-C") && Date.now() < giveUpAtMs) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(output).toMatch(/dkv cluster of 3 nodes is up/);
      const file = JSON.parse(readFileSync(path.join(dir, "cluster.json"), "utf8")) as {
        nodes: { pid: number; args: string[] }[];
      };
      for (const node of file.nodes) {
        expect(node.args).toContain("--aae-interval-ms=5000");
        expect(node.args).toContain("--no-read-repair");
      }
      const put = await dkvLocal(["put", "hello", "world", "--cluster-dir", dir]);
      expect(put.code).toBe(0);
      const get = await dkvLocal(["get", "hello", "--cluster-dir", dir]);
      expect(get.stdout).toMatch(/^sibling 1\/1 .*\n  world\n/);

      // One command grows the running cluster: a fourth node joins and the plan is committed.
      const add = await dkvLocal(["cluster", "add", "--data-dir", dir]);
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toMatch(/started n4 at 127\.0\.0\.1:\d+/);
      expect(add.stdout).toMatch(/committed join n4/);
      const grown = JSON.parse(readFileSync(path.join(dir, "cluster.json"), "utf8")) as {
        nodes: { id: string; pid: number; address: string }[];
      };
      expect(grown.nodes.map((node) => node.id)).toEqual(["n1", "n2", "n3", "n4"]);
      const n4 = grown.nodes[3]!;
      // Polled in-process (each CLI run is a process start, about a second of CPU); once n4 is
      // valid, `dkv cluster show` must say so too.
      const valid = /"n4","address":"[^"]+","state":"valid"/;
      const giveUpMs = Date.now() + 60_000;
      let metadata = "";
      while (Date.now() < giveUpMs) {
        metadata = await callMembership<MetadataReply__Output>(
          [n4.address],
          2000,
          (client, options, done) => client.Get({}, options, done),
          clusterClientSecurity(dir),
        ).then(
          ({ reply }) => reply.metadata_json,
          () => "",
        );
        if (valid.test(metadata)) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(metadata).toMatch(valid);
      const shown = await dkvLocal([
        "cluster",
        "show",
        "--json",
        "--node",
        n4.address,
        "--cluster-dir",
        dir,
      ]);
      expect(shown.stdout).toMatch(valid);
      const viaN4 = await dkvLocal(["get", "hello", "--node", n4.address, "--cluster-dir", dir]);
      expect(viaN4.stdout).toMatch(/^sibling 1\/1 .*\n  world\n/);
      // --json: one object, here for a join staged only.
      const staged = await dkvLocal(["cluster", "add", "--no-commit", "--json", "--data-dir", dir]);
      expect(staged.code, staged.stderr).toBe(0);
      const added = JSON.parse(staged.stdout) as {
        started: { id: string; pid: number };
        committed: boolean;
      };
      expect(added).toMatchObject({ started: { id: "n5" }, committed: false });

      supervisor.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(existsSync(path.join(dir, "cluster.json"))).toBe(false);
      for (const { pid } of [...grown.nodes, added.started]) {
        expect(() => process.kill(pid, 0)).toThrow();
      }
    } finally {
      if (supervisor.exitCode === null) {
        supervisor.kill("SIGKILL");
        killListedNodes(dir);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("refuses a bad --aae-interval-ms or --serve-flag before starting anything", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dkv-bad-up-"));
    try {
      const interval = await dkvLocal([
        "cluster",
        "up",
        "--data-dir",
        dir,
        "--aae-interval-ms",
        "0",
      ]);
      expect(interval.code).toBe(2);
      expect(interval.stderr).toMatch(/--aae-interval-ms must be a positive number, got 0/);
      const flag = await dkvLocal(["cluster", "up", "--data-dir", dir, "--serve-flag", "x"]);
      expect(flag.code).toBe(2);
      expect(flag.stderr).toMatch(/--serve-flag takes a dkv serve flag starting with --, got x/);
      expect(existsSync(path.join(dir, "cluster.json"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says what to do when no cluster is running", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dkv-none-"));
    const run = await dkvLocal(["get", "k", "--cluster-dir", dir], { DKV_NODE: "" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /no node to talk to: pass --node host:port, set DKV_NODE, or start a local cluster with `npm start`/,
    );
    rmSync(dir, { recursive: true, force: true });
  });
});
