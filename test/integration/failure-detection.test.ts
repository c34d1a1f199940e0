// Goal: the failure detector on real processes (DESIGN.md §5): a killed node is down at once
// (refused connection), a SIGSTOPped one within 8 s by phi and up again after SIGCONT, a
// restarted one up again, and `dkv status` shows up/down and phi.
// Method: three `dkv serve` processes; the others' view is polled through Admin.Status every
// 50 ms and the detection times are printed. Bounds are generous: the machine is shared.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { MAIN_SCRIPT, TestCluster } from "./local-cluster-harness.js";

const run = promisify(execFile);
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ nodes: 3, storage: "memory" });
  // Every node must have seen every other one answer before faults start.
  await waitFor(async () => (await upSeenBy("n1")).length === 3, 10_000);
});

afterAll(async () => {
  await cluster?.stop();
});

/** The nodes `observer` believes up. */
async function upSeenBy(observer: string): Promise<string[]> {
  const status = await cluster.client(observer).status({ timeoutMs: 2000 });
  return status.members.filter((member) => member.up).map((member) => member.node_id);
}

/** Polls until check() holds; resolves with the time it took, rejects after timeoutMs. */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const startMs = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - startMs;
    if (Date.now() - startMs > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Time until every observer sees `node` in the wanted state. */
function untilAllSee(
  observers: readonly string[],
  node: string,
  up: boolean,
  timeoutMs: number,
): Promise<number> {
  return waitFor(async () => {
    const views = await Promise.all(observers.map((observer) => upSeenBy(observer)));
    return views.every((view) => view.includes(node) === up);
  }, timeoutMs);
}

/**
 * The "peer down"/"peer up" lines `observer` logged about `peer` from sinceMs on (earlier ones
 * may come from the start, when a peer still binding its port refuses connections).
 */
function transitions(
  observer: string,
  peer: string,
  sinceMs: number,
): { msg: string; phi: number; reason: string; time: number }[] {
  return cluster
    .log(observer)
    .split("\n")
    .filter((line) => line.includes(`"peer":"${peer}"`) && line.includes('"msg":"peer '))
    .map((line) => JSON.parse(line) as { msg: string; phi: number; reason: string; time: number })
    .filter((line) => line.time >= sinceMs);
}

describe("failure detection", () => {
  it("shows every member up with its phi in `dkv status`", async () => {
    const address = cluster.spec("n1").address;
    const table = await run(process.execPath, [
      MAIN_SCRIPT,
      "status",
      "--node",
      address,
      "--cluster-dir",
      cluster.dir,
    ]);
    expect(table.stdout).toMatch(/n2\s.*│ up /);
    const json = await run(process.execPath, [
      ...[MAIN_SCRIPT, "status", "--node", address, "--json"],
      ...["--cluster-dir", cluster.dir],
    ]);
    const members = (JSON.parse(json.stdout) as { members: { up: boolean; phi: number }[] })
      .members;
    expect(members.map((member) => member.up)).toEqual([true, true, true]);
    for (const member of members) expect(member.phi).toBeLessThan(8);
    for (const member of members) expect(typeof member.phi).toBe("number");
  });

  it("marks a SIGSTOPped node down within 8 s by phi, and up again after SIGCONT", async () => {
    const stoppedAtMs = Date.now();
    cluster.pause("n3");
    try {
      await untilAllSee(["n1", "n2"], "n3", false, 10_000);
    } finally {
      cluster.resume("n3");
    }
    const backUpMs = await untilAllSee(["n1", "n2"], "n3", true, 5000);
    // Measured from the nodes' own log lines, so the polling above adds nothing.
    const detectedMs = ["n1", "n2"].map((observer) => {
      const down = transitions(observer, "n3", stoppedAtMs).find((t) => t.msg === "peer down");
      return (down?.time ?? Infinity) - stoppedAtMs;
    });
    console.log(
      `SIGSTOP detected in ${detectedMs.join(" and ")} ms; up ${backUpMs} ms after SIGCONT`,
    );
    // About 3 s on a quiet machine (phi 8 over 500 ms pings); the bound leaves room for the
    // starved event loops of a loaded 2-core CI (5.5 s was seen once), not for a missed stop.
    for (const ms of detectedMs) expect(ms).toBeLessThan(8000);
    const seen = transitions("n1", "n3", stoppedAtMs);
    expect(seen.map((line) => line.msg)).toEqual(["peer down", "peer up"]);
    expect(seen[0]?.phi).toBeGreaterThanOrEqual(8);
    expect(seen[0]?.reason).toMatch(/^phi /);
  });

  it("marks a killed node down at once (refused connection) and up again after a restart", async () => {
    const killedAtMs = Date.now();
    await cluster.stopNode("n2", "kill");
    await untilAllSee(["n1", "n3"], "n2", false, 8000);
    const detectedMs = ["n1", "n3"].map((observer) => {
      const down = transitions(observer, "n2", killedAtMs).find((t) => t.msg === "peer down");
      return (down?.time ?? Infinity) - killedAtMs;
    });
    console.log(`kill -9 detected in ${detectedMs.join(" and ")} ms`);
    // One heartbeat interval (500 ms) plus slack; phi alone would need about 3.6 s.
    for (const ms of detectedMs) expect(ms).toBeLessThan(3000);
    const status = await cluster.client("n1").status();
    const n2 = status.members.find((member) => member.node_id === "n2");
    expect(n2).toMatchObject({ up: false, error: "connection refused" });
    const down = transitions("n3", "n2", killedAtMs).find((line) => line.msg === "peer down");
    expect(down?.reason).toBe("connection refused");

    await cluster.startNode("n2");
    const backUpMs = await untilAllSee(["n1", "n3"], "n2", true, 10_000);
    console.log(`restarted node seen up ${backUpMs} ms after it served`);
    expect(await upSeenBy("n2")).toEqual(["n1", "n2", "n3"]);
  });
});
