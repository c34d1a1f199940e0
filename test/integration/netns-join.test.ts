// Goal: dkv runs on several hosts (issue 14, multi-host): five nodes, each in its own network
// namespace with its own address, become one cluster by starting one node and joining the
// others with `--join` and `--advertise` — no --peers anywhere — and then serve as one: a key
// written through one address reads back through another, and a joined node shows 5 members.
// Method: `netns-cluster.ts up --join` (compiled) builds and settles the cluster on a slot of
// its own; root only, visibly skipped where network namespaces are missing.

import { clusterClientSecurity } from "../../cli/local-cluster.js";
import { describe, expect, it } from "vitest";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { readClusterFile } from "../../cli/cluster-file.js";
import { parseMetadataJson } from "../../cli/membership-output.js";
import { DkvClient } from "../../coordinator/client.js";
import { requireNetnsSupport } from "../../scripts/netns-commands.js";
import { MAIN_SCRIPT } from "./local-cluster-harness.js";

const execFileAsync = promisify(execFile);
const NODES = 5;
const KEYS = 20;

/** Why this test cannot run here, or undefined when it can. */
function netnsUnavailable(): string | undefined {
  try {
    requireNetnsSupport();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Runs a compiled script of scripts/; resolves with its stdout, rejects on a non-zero exit. */
async function script(name: string, args: readonly string[]): Promise<string> {
  const file = path.join("dist", "scripts", `${name}.js`);
  const { stdout } = await execFileAsync(process.execPath, [file, ...args], { timeout: 45_000 });
  return stdout;
}

/** SIGKILLs these pids (memory storage: nothing to lose; graceful stops take seconds). */
function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/**
 * A network slot no bridge uses yet, from 200-249: apart from the fault-scripts test (100-199)
 * and an operator's slot 0, and from a run of this test in another checkout.
 */
function freeSlot(): number {
  for (let tried = 0; tried < 50; tried++) {
    const slot = 200 + ((process.pid + tried) % 50);
    try {
      execFileSync("ip", ["link", "show", `dkvbr${slot}`], { stdio: "ignore" });
    } catch {
      return slot;
    }
  }
  throw new Error("every network slot from 200 to 249 has a bridge: run netns-cluster.ts down");
}

const skip = netnsUnavailable();

describe("a cluster on several hosts, grown by --join", () => {
  it.skipIf(skip !== undefined)(
    `five netns nodes joined to one serve as one cluster${skip ? ` — skipped: ${skip}` : ""}`,
    async () => {
      const slot = String(freeSlot());
      const dir = mkdtempSync(path.join(tmpdir(), "dkv-netns-join-"));
      const where = ["--cluster-dir", dir, "--slot", slot];
      const address = (index: number): string => `10.77.${slot}.${index}:7000`;
      const clients: DkvClient[] = [];
      const startedMs = performance.now();
      try {
        const output = await script("netns-cluster", [
          ...where,
          ...["up", "--nodes", String(NODES), "--join", "--storage", "memory"],
          ...["--partitions", "16", "--serve-arg=--drop-grace-ms=500"],
          ...["--settle-timeout-ms", "20000"],
        ]);
        const upMs = performance.now() - startedMs;
        expect(output).toMatch(/committed join n\d at 10\.77\.\d+\.\d:7000/);
        expect(output).toContain(`every node holds layout version`);
        const args = readClusterFile(dir)?.nodes.map((node) => node.args.join(" ")) ?? [];
        expect(args).toHaveLength(NODES);
        args.forEach((line, index) => {
          expect(line).not.toContain("--peers");
          expect(line).toContain(`--advertise=${address(index + 1)}`);
          if (index > 0) expect(line).toContain(`--join=${address(1)}`);
        });

        // Asked while the keys are written: a node process takes a second to start.
        const shown = execFileAsync(process.execPath, [
          ...[MAIN_SCRIPT, "cluster", "show", "--json", "--node", address(3)],
          ...["--cluster-dir", dir],
        ]);
        shown.catch(() => undefined); // awaited below; a failed put must not leave it unhandled
        // Written through n1, read back through n4: another host, another address.
        const security = clusterClientSecurity(dir);
        const writer = new DkvClient([address(1)], { security });
        const reader = new DkvClient([address(4)], { security });
        clients.push(writer, reader);
        const keys = Array.from({ length: KEYS }, (_, index) => index);
        await Promise.all(
          keys.map((index) =>
            writer.put(`joined-${index}`, `v${index}`, { n: 3, timeoutMs: 3000 }),
          ),
        );
        const replies = await Promise.all(
          keys.map((index) => reader.get(`joined-${index}`, { n: 3, timeoutMs: 3000 })),
        );
        const values = replies.map((reply) =>
          reply.siblings.map((sibling) => Buffer.from(sibling.value).toString()).join("|"),
        );
        expect(values).toEqual(keys.map((index) => `v${index}`));

        // A joined node knows every member by its advertised address, all valid, settled.
        const { layout, staged } = parseMetadataJson((await shown).stdout);
        expect(layout.previousOwners).toBeUndefined();
        expect(staged.changes).toEqual([]);
        expect(layout.members.map((member) => `${member.node}=${member.address}`).sort()).toEqual(
          Array.from({ length: NODES }, (_, index) => `n${index + 1}=${address(index + 1)}`),
        );
        expect(new Set(layout.members.map((member) => member.state))).toEqual(new Set(["valid"]));
        expect(new Set(layout.owners).size).toBe(NODES);
        console.log(
          `netns join: ${NODES} nodes up and settled in ${upMs.toFixed(0)} ms, ` +
            `checked in ${(performance.now() - startedMs).toFixed(0)} ms`,
        );
      } finally {
        for (const client of clients) client.close();
        // Every pid this test started is in cluster.json (written after each start); down then
        // finds them gone and deletes the namespaces, their veths and the bridge.
        killAll(readClusterFile(dir)?.nodes.map((node) => node.pid) ?? []);
        await script("netns-cluster", [...where, "down"]).catch(() => "");
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
