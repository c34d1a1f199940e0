// Goal: nothing a client sends crashes a node or slips past validation; every refusal has the
// right status and a message naming the field and the numbers.
// Method: one 3-node cluster; a table of bad requests sent through the client, then a normal
// request to show the node still serves. Also the internal Replica service's digest reads
// over the wire: "same" for the stored digest, the object for another, a bad digest refused.

import path from "node:path";
import { certDirOf } from "../../cli/local-credentials.js";
import { SYSTEM_CLOCK } from "../../node/clock.js";
import { tlsChannels } from "../../node/security/channel-security.js";
import { nodeCredentialFiles } from "../../node/security/credential-files.js";
import { ReloadingCertificateProvider } from "../../node/security/tls-credentials.js";
import { useClusterSecurity } from "../../scripts/lib/script-security.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { TestCluster, failure } from "./local-cluster-harness.js";
import type { DkvClient } from "../../coordinator/client.js";
import { closePeer, connectPeer } from "../../node/peer-clients.js";
import { nodeId } from "../../node/core/node-id.js";
import { adminClient } from "../../scripts/lib/fault-cluster.js";
import type { AdminClient } from "../../proto/generated/dkv/v1/Admin.js";
import { decodeObject } from "../../node/core/object-decode.js";
import { versionDigest } from "../../node/core/version-digest.js";
import type { ReplicaGetRequest } from "../../proto/generated/dkv/v1/ReplicaGetRequest.js";
import type { ReplicaGetResponse__Output } from "../../proto/generated/dkv/v1/ReplicaGetResponse.js";

let cluster: TestCluster;
let client: DkvClient;

beforeAll(async () => {
  cluster = await TestCluster.start({ nodes: 3 });
  client = cluster.client("n1");
});

afterAll(async () => {
  await cluster?.stop();
});

const KiB = 1024;
const MiB = 1024 * KiB;

describe("bad input", () => {
  const cases: [string, () => Promise<unknown>, grpc.status, RegExp][] = [
    [
      "w > n",
      () => client.put("k", "v", { w: 4 }),
      grpc.status.INVALID_ARGUMENT,
      /w=4 exceeds n=3/,
    ],
    [
      "r = 0",
      () => client.get("k", { r: 0 }),
      grpc.status.INVALID_ARGUMENT,
      /r must be at least 1 \(got 0\)/,
    ],
    [
      "dw > w",
      () => client.put("k", "v", { w: 1, dw: 2 }),
      grpc.status.INVALID_ARGUMENT,
      /dw=2 exceeds w=1/,
    ],
    [
      "n > bucket n",
      () => client.put("k", "v", { n: 5 }),
      grpc.status.INVALID_ARGUMENT,
      /n=5 exceeds the bucket's n=3/,
    ],
    ["pr > n", () => client.get("k", { pr: 4 }), grpc.status.INVALID_ARGUMENT, /pr=4 exceeds n=3/],
    ["empty key", () => client.put("", "v"), grpc.status.INVALID_ARGUMENT, /key is empty/],
    [
      "oversize key",
      () => client.get(Buffer.alloc(64 * KiB + 1, 1)),
      grpc.status.RESOURCE_EXHAUSTED,
      /key is 65537 bytes, over the limit of 65536/,
    ],
    [
      "oversize value",
      () => client.put("big", Buffer.alloc(16 * MiB + 1, 1), { timeoutMs: 20_000 }),
      grpc.status.RESOURCE_EXHAUSTED,
      /value is 16777217 bytes, over the limit of 16777216/,
    ],
    [
      "garbage context",
      () => client.put("k", "v", { context: Buffer.from("not a context at all") }),
      grpc.status.INVALID_ARGUMENT,
      /context refused: it was not issued by this cluster/,
    ],
    [
      "truncated context",
      () => client.put("k", "v", { context: Buffer.from([1, 5, 200]) }),
      grpc.status.INVALID_ARGUMENT,
      /context refused/,
    ],
    [
      "delete without context",
      () => client.delete("k", { context: new Uint8Array(0) }),
      grpc.status.INVALID_ARGUMENT,
      /context is required to delete/,
    ],
    [
      "oversize bucket",
      () => client.get("k", { bucket: "b".repeat(256) }),
      grpc.status.INVALID_ARGUMENT,
      /bucket is 256 bytes, over the limit of 255/,
    ],
  ];

  it.each(cases)("%s is refused with a clear error", async (_name, call, code, message) => {
    const error = await failure(call());
    expect(error.code).toBe(code);
    expect(error.details).toMatch(message);
  });

  it("leaves every node serving after the bad requests", async () => {
    for (const node of ["n1", "n2", "n3"]) {
      const reply = await cluster.client(node).put(`after-bad-${node}`, "fine");
      expect(reply.vtag).not.toBe("");
    }
  });

  it("refuses a put that would leave more siblings than the limit, losing nothing", async () => {
    for (let index = 0; index < 100; index++) await client.put("crowded", `v${index}`, { w: 1 });
    const error = await failure(client.put("crowded", "one too many", { w: 1 }));
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(error.details).toMatch(/too many siblings: 101 exceeds 100/);
    const read = await client.get("crowded", { r: 3 });
    expect(read.siblings.length).toBe(100);
    await client.put("crowded", "resolved", { context: read.context });
    expect((await client.get("crowded")).siblings.map((s) => s.value.toString())).toEqual([
      "resolved",
    ]);
  });
});

describe("contexts are bound to their key", () => {
  it("refuses the context of one key on another", async () => {
    const put = await client.put("context-owner", "v");
    const error = await failure(client.put("context-thief", "v", { context: put.context }));
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/context refused: its seal does not match/);
    const other = await failure(
      client.put("context-owner", "v", { bucket: "elsewhere", context: put.context }),
    );
    expect(other.code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe("digest reads on the Replica service", () => {
  it("answers same for the stored digest, the object for another, and refuses a bad digest", async () => {
    await client.put("digested", "v", { w: 3 });
    // Called as node n2 would call, with n2's certificate: only members may use Replica.
    const provider = await ReloadingCertificateProvider.open(
      nodeCredentialFiles(path.resolve(certDirOf(cluster.dir)), nodeId("n2")),
      { clock: SYSTEM_CLOCK, expectNodeId: nodeId("n2") },
    );
    const peer = connectPeer(
      nodeId("n2"),
      nodeId("n1"),
      cluster.spec("n1").address,
      4 * MiB,
      [],
      tlsChannels(provider),
    );
    const get = (request: ReplicaGetRequest): Promise<ReplicaGetResponse__Output> =>
      new Promise((resolve, reject) =>
        peer.replica.Get(request, (error, reply) =>
          error === null && reply !== undefined ? resolve(reply) : reject(error),
        ),
      );
    try {
      const key = Buffer.from("digested");
      const full = await get({ bucket: "default", key });
      expect(full.found).toBe(true);
      expect(full.same).toBe(false);
      const decoded = decodeObject(full.object);
      if (!decoded.ok) throw new Error(decoded.reason);
      const digest = versionDigest("default", key, decoded.object);

      const same = await get({ bucket: "default", key, digest });
      expect(same).toMatchObject({ found: true, same: true });
      expect(same.object.length).toBe(0);

      const stale = Buffer.from(digest);
      stale[7] = (stale[7]! + 1) & 0xff;
      const other = await get({ bucket: "default", key, digest: stale });
      expect(other.same).toBe(false);
      expect(Buffer.compare(other.object, full.object)).toBe(0);

      const error = await failure(get({ bucket: "default", key, digest: Buffer.alloc(3) }));
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.details).toMatch(/digest must be 8 bytes, got 3/);
    } finally {
      closePeer(peer);
    }
  });
});

describe("fault injection on a node started without --enable-fault-injection", () => {
  const deadline = (): { deadline: number } => ({ deadline: Date.now() + 2000 });
  /** Both fault calls on n1, each as a promise that rejects with the grpc-js ServiceError. */
  const calls: Record<"SetDroppedPeers" | "SetLinkFaults", () => Promise<unknown>> = {
    SetDroppedPeers: () =>
      adminCall((admin, done) => admin.SetDroppedPeers({ peers: ["n2", "n3"] }, deadline(), done)),
    SetLinkFaults: () =>
      adminCall((admin, done) =>
        admin.SetLinkFaults(
          {
            faults: [
              { peer: "n2", delay_ms: 5000 },
              { peer: "n3", delay_ms: 5000 },
            ],
          },
          deadline(),
          done,
        ),
      ),
  };

  function adminCall(
    send: (admin: AdminClient, done: (error: grpc.ServiceError | null) => void) => void,
  ): Promise<void> {
    useClusterSecurity(cluster.dir);
    const admin = adminClient(cluster.spec("n1").address);
    return new Promise<void>((resolve, reject) =>
      send(admin, (error) => (error ? reject(error) : resolve())),
    ).finally(() => admin.close());
  }

  it.each(["SetDroppedPeers", "SetLinkFaults"] as const)(
    "refuses %s with FAILED_PRECONDITION naming the flag",
    async (rpc) => {
      const error = await failure(calls[rpc]());
      expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(error.details).toContain(`${rpc} is fault injection`);
      expect(error.details).toContain("--enable-fault-injection");
    },
  );

  it("changes nothing: no peer dropped, no link delayed, and Status says it is off", async () => {
    // Whatever the calls answer, what counts here is the state afterwards.
    await calls.SetDroppedPeers().catch(() => undefined);
    await calls.SetLinkFaults().catch(() => undefined);
    const status = await client.status({ timeoutMs: 2000 });
    expect(status.fault_injection_enabled).toBe(false);
    expect(status.dropped_peers).toEqual([]);
    // Either fault, had it been set, would fail a w=all write through n1 within 1.5 s: dropped
    // peers cannot ack, and every replica call to them would wait 5 s.
    await client.put("fault-gate", "v", { w: 3, timeoutMs: 1500 });
  });
});
