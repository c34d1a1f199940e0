// Goal: `dkv cluster up` starts after its last supervisor was killed with SIGKILL even when that
// supervisor is a zombie (a parent that never reaps, as PID 1 in a container without an init),
// and a live supervisor still refuses a second one with a clear message and exit status 2.
// Method: `sh -c 'dkv cluster up & exec sleep'` makes sleep the supervisor's parent; sleep never
// waits, so after SIGKILL the supervisor stays a zombie (checked in /proc) until sleep is killed.

import { afterEach, describe, expect, it } from "vitest";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MAIN_SCRIPT } from "./local-cluster-harness.js";

const pidsToKill: number[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const pid of pidsToKill.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function upArgs(dir: string): string[] {
  return [MAIN_SCRIPT, "cluster", "up", "--nodes", "1", "--storage", "memory", "--data-dir", dir];
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const giveUpAtMs = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > giveUpAtMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function processState(pid: number): string | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

function nodePids(dir: string): number[] {
  const file = JSON.parse(readFileSync(path.join(dir, "cluster.json"), "utf8")) as {
    nodes: { pid: number }[];
  };
  return file.nodes.map((node) => node.pid);
}

describe("dkv cluster up and its supervisor lock", () => {
  it("starts over a zombie supervisor, and a live one refuses a second start", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dkv-lock-"));
    dirs.push(dir);
    const log = path.join(dir, "first.log");
    const quoted = upArgs(dir)
      .map((arg) => `'${arg}'`)
      .join(" ");
    const parent = spawn(
      "sh",
      ["-c", `'${process.execPath}' ${quoted} >'${log}' 2>&1 & echo $!; exec sleep 600`],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    pidsToKill.push(parent.pid ?? 0);
    const firstPid = await new Promise<number>((resolve) =>
      parent.stdout.once("data", (chunk: Buffer) => resolve(Number.parseInt(chunk.toString(), 10))),
    );
    pidsToKill.push(firstPid);
    const readLog = (): string => {
      try {
        return readFileSync(log, "utf8");
      } catch {
        return "";
      }
    };
    await waitFor(() => readLog().includes("press Ctrl-C"), "the first cluster");

    const orphans = nodePids(dir);
    pidsToKill.push(...orphans);

    process.kill(firstPid, "SIGKILL");
    await waitFor(() => processState(firstPid) === "Z", "the first supervisor to be a zombie");
    expect(() => process.kill(firstPid, 0)).not.toThrow(); // what fooled the pid check

    const second: ChildProcess = spawn(process.execPath, upArgs(dir), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    pidsToKill.push(second.pid ?? 0);
    let output = "";
    second.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    second.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => second.on("exit", resolve));
    await waitFor(() => output.includes("press Ctrl-C") || second.exitCode !== null, "restart");
    expect(output).toMatch(/dkv cluster of 1 nodes is up/);
    // The first cluster's node was an orphan on the same data dir: it was stopped first.
    expect(output).toMatch(new RegExp(`left by the previous supervisor: pid ${orphans[0]}`));
    pidsToKill.push(...nodePids(dir));

    const refused = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, upArgs(dir), (error, _stdout, stderr) =>
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stderr }),
      ),
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `a cluster is already running from ${dir} (pid ${second.pid}); stop it first`,
    );

    second.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(processState(firstPid)).toBe("Z"); // still unreaped all along
  });
});
