// Goal: membership changes are serialised by one node, the claimant (issue 14): operators
// staging at two different nodes at once end up in one staged set, and of two concurrent
// commits exactly one reports "committed"; the other is refused with a clear error. A call
// forwarded once is never forwarded again, and a dead claimant is named in the error.
// Method: three `dkv serve` processes (n1 is the claimant: the lowest valid member); the dkv
// command line against n2 and n3, and raw Membership calls where a header must be set.

import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { MAIN_SCRIPT, TestCluster, runDkv, type CliRun } from "./local-cluster-harness.js";
import { loadProto } from "../../proto/load-proto.js";
import type { MembershipClient } from "../../proto/generated/dkv/v1/Membership.js";
import type { ClusterMetadata } from "../../node/core/layout.js";
import { decodeMetadata, layoutDigest } from "../../node/core/layout-codec.js";
import { FORWARDED_HEADER } from "../../node/membership/claimant-calls.js";

let cluster: TestCluster;
const clients: MembershipClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await cluster?.stop();
});

/** Runs the dkv command line against this file's cluster; resolves with its exit code and output. */
function dkv(args: string[]): Promise<CliRun> {
  return runDkv(args, cluster?.cliEnv);
}

function at(node: string): string[] {
  return ["--node", cluster.spec(node).address];
}

function membership(node: string): MembershipClient {
  const v1 = loadProto().grpcObject.dkv.v1;
  const address = cluster.spec(node).address;
  const secured = cluster.security.channel(address);
  const client = new v1.Membership(address, secured.credentials, secured.options);
  clients.push(client);
  return client;
}

async function metadataOf(node: string): Promise<ClusterMetadata> {
  const reply = await new Promise<{ metadata_json: string }>((resolve, reject) =>
    membership(node).Get({}, { deadline: Date.now() + 5000 }, (error, value) =>
      error !== null || value === undefined ? reject(error) : resolve(value),
    ),
  );
  return decodeMetadata(Buffer.from(reply.metadata_json, "utf8"));
}

/** Joins of nodes that never start: staging and committing them moves no real data. */
const X1 = "x1=127.0.0.1:1";
const X2 = "x2=127.0.0.1:2";

describe("the claimant serialises membership changes", () => {
  it("puts changes staged at two nodes in one set, and lets one of two concurrent commits win", async () => {
    cluster = await TestCluster.start({ nodes: 3, partitions: 16 });
    const [first, second] = await Promise.all([
      dkv(["cluster", "join", X1, ...at("n2")]),
      dkv(["cluster", "join", X2, ...at("n3")]),
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    // Both landed on the claimant at once, one after the other: no gossip needed.
    const { staged } = await metadataOf("n1");
    expect(staged.changes.map((change) => change.node).sort()).toEqual(["x1", "x2"]);
    expect(staged.revision).toBe(2);
    // The plan at n3 is the claimant's: it shows both changes.
    const plan = await dkv(["cluster", "plan", ...at("n3")]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/x1/);
    expect(plan.stdout).toMatch(/x2/);

    // Two operators commit the plan they were shown (layout 1, revision 2) at two nodes.
    const shown = ["--based-on", "1", "--revision", "2"];
    const commits = await Promise.all([
      dkv(["cluster", "commit", ...shown, ...at("n2")]),
      dkv(["cluster", "commit", ...shown, ...at("n3")]),
    ]);
    const won = commits.filter((run) => run.code === 0);
    const lost = commits.filter((run) => run.code !== 0);
    expect(won.length, commits.map((run) => run.stdout + run.stderr).join("\n")).toBe(1);
    expect(won[0]!.stdout).toMatch(/→ layout version 2/);
    expect(won[0]!.stdout).toMatch(/held by n1, n2, n3/);
    expect(lost[0]!.code).toBe(6);
    expect(lost[0]!.stderr).toMatch(/version 2 is committed now .*re-stage your changes/);
    expect(lost[0]!.stdout).toBe("");

    // Every member holds the one layout of version 2, with both joins.
    const layouts = await Promise.all(["n1", "n2", "n3"].map(async (node) => metadataOf(node)));
    const digests = new Set(layouts.map(({ layout }) => layoutDigest(layout)));
    expect(digests.size).toBe(1);
    const joining = layouts[0]!.layout.members.filter((member) => member.state === "joining");
    expect(joining.map((member) => member.node)).toEqual(["x1", "x2"]);
  }, 60_000);

  it("refuses a forwarded call at a node that is not the claimant, naming the claimant", async () => {
    cluster = await TestCluster.start({ nodes: 3, partitions: 16 });
    const metadata = new grpc.Metadata();
    metadata.set(FORWARDED_HEADER, "n3");
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      membership("n2").Stage(
        { kind: "join", node: "x1", address: "127.0.0.1:1", by: "" },
        metadata,
        { deadline: Date.now() + 5000 },
        (failure) => resolve(failure),
      ),
    );
    expect(error?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error?.details).toMatch(/n2 is not the claimant .*sees n1 as claimant/);
    // Nothing was staged anywhere.
    expect((await metadataOf("n1")).staged.changes).toEqual([]);
    expect((await metadataOf("n2")).staged.changes).toEqual([]);
    // `dkv cluster show` names the claimant as the node asked sees it.
    const shown = await dkv(["cluster", "show", ...at("n2")]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^claimant: n1 \(as n2 sees who is up\)$/m);
  }, 60_000);

  it("names a dead claimant, then moves the claimant to the next valid member", async () => {
    cluster = await TestCluster.start({ nodes: 3, partitions: 16 });
    await cluster.stopNode("n1", "kill");
    // Right after the kill n3 may still believe n1 up: then the error names it. Or n3 already
    // sees n1 down and forwards to n2, which still sees n1 as the claimant and refuses (exit 6,
    // FAILED_PRECONDITION): the detectors of two nodes mark a death at different moments. Once
    // n2's marks n1 down, n2 is the claimant and applies the change itself.
    const run = await dkv(["cluster", "join", X1, ...at("n3")]);
    if (run.code === 6) {
      expect(run.stderr).toMatch(/n2 is not the claimant/);
    } else if (run.code !== 0) {
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/claimant n1 \(127\.0\.0\.1:\d+\) is unreachable/);
    }
    const giveUpAtMs = Date.now() + 20_000;
    let staged = (await metadataOf("n2")).staged.changes;
    while (staged.length === 0 && Date.now() < giveUpAtMs) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await dkv(["cluster", "join", X1, ...at("n3")]);
      staged = (await metadataOf("n2")).staged.changes;
    }
    expect(staged.map((change) => change.node)).toEqual(["x1"]);
  }, 60_000);
});
