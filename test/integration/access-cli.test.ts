// Goal: an operator manages users and grants from the command line on a live cluster (issue
// 15): `dkv user add` prints a token once, `dkv grant`/`revoke` change what the user holds,
// `dkv user list` never shows a hash, `dkv user remove` removes; each change reaches every node
// by gossip, and what the nodes store verifies the token that was printed.
// Method: three `dkv serve` processes; the CLI asks n1; every node is read with `dkv user list`
// and Membership.Get (the metadata, hashes included, as gossip carries it).

import { afterEach, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import { MAIN_SCRIPT, TestCluster } from "./local-cluster-harness.js";
import { loadProto } from "../../proto/load-proto.js";
import { decodeMetadata } from "../../node/core/layout-codec.js";
import { liveUser, type Access } from "../../node/core/access.js";
import { authorize } from "../../node/core/authorize.js";
import { verifyToken } from "../../node/security/tokens.js";

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** Runs the dkv command line against `node`; resolves with its exit code and output. */
function dkv(
  node: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const address = cluster!.spec(node).address;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN_SCRIPT, ...args, "--node", address],
      { env: { ...process.env, ...cluster?.cliEnv } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function ok(node: string, args: string[]): Promise<string> {
  const result = await dkv(node, args);
  expect(result.stderr, args.join(" ")).toBe("");
  expect(result.code, args.join(" ")).toBe(0);
  return result.stdout;
}

interface ListedUser {
  user: string;
  grants: { permission: string; bucket?: string }[];
  tokens: number;
}

async function listed(node: string): Promise<ListedUser[]> {
  return (JSON.parse(await ok(node, ["user", "list", "--json"])) as { users: ListedUser[] }).users;
}

/** The access component a node holds, read from its metadata as gossip carries it. */
async function accessOf(node: string): Promise<Access> {
  const v1 = loadProto().grpcObject.dkv.v1;
  const address = cluster!.spec(node).address;
  const secured = cluster!.security.channel(address);
  const client = new v1.Membership(address, secured.credentials, secured.options);
  try {
    const json = await new Promise<string>((resolve, reject) =>
      client.Get({}, { deadline: Date.now() + 5000 }, (error, reply) =>
        error !== null || reply === undefined ? reject(error) : resolve(reply.metadata_json),
      ),
    );
    return decodeMetadata(Buffer.from(json, "utf8")).access;
  } finally {
    client.close();
  }
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const giveUpAtMs = Date.now() + timeoutMs;
  while (Date.now() < giveUpAtMs) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(await check()).toBe(true);
}

const NODES = ["n1", "n2", "n3"];

describe("dkv user and dkv grant on a live cluster", () => {
  it("adds, grants, lists without hashes, revokes and removes; every node learns each change", async () => {
    cluster = await TestCluster.start({ nodes: 3 });

    const added = JSON.parse(await ok("n1", ["user", "add", "alice", "--json"])) as {
      token: string;
    };
    expect(added.token).toMatch(/^dkv_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    const text = await ok("n1", ["grant", "read", "--bucket", "photos", "--user", "alice"]);
    expect(text).toContain("granted read on bucket photos to alice");
    await ok("n1", ["grant", "admin", "--user", "alice"]);

    // Every node learns the user by gossip, and what it stores verifies the printed token.
    await eventually(async () => {
      for (const node of NODES) {
        const record = liveUser(await accessOf(node), "alice");
        if (record?.grants.length !== 2) return false;
      }
      return true;
    });
    for (const node of NODES) {
      const access = await accessOf(node);
      const record = liveUser(access, "alice")!;
      expect(await verifyToken(record.tokenHashes, added.token)).toBeDefined();
      const alice = { kind: "user", user: "alice" } as const;
      expect(authorize(access, alice, "read", "photos").allowed).toBe(true);
      expect(authorize(access, alice, "write", "photos").allowed).toBe(false);
      expect(authorize(access, alice, "read", "other").allowed).toBe(false);
    }

    // Listing, on another node, shows grants and a token count, never the token or a hash.
    const users = await listed("n3");
    expect(users).toEqual([
      {
        user: "alice",
        grants: [{ permission: "read", bucket: "photos" }, { permission: "admin" }],
        tokens: 1,
        revision: 3,
      },
    ]);
    const outputs = [ok("n2", ["user", "list", "--json"]), ok("n2", ["user", "list"])];
    for (const out of await Promise.all(outputs)) {
      expect(out).not.toContain("scrypt");
      expect(out).not.toContain(added.token.slice(4, 26));
      expect(out).not.toContain(added.token.slice(27));
    }

    // Mistakes: usage errors exit 2 before any call; refusals of the cluster exit 6.
    const refusals: [string[], number, RegExp][] = [
      [["grant", "admin", "--bucket", "photos", "--user", "alice"], 2, /admin is cluster-wide/],
      [["grant", "read", "--user", "alice"], 2, /read needs --bucket/],
      [["grant", "own", "--bucket", "a", "--user", "alice"], 2, /must be one of read, write/],
      [["user", "add", "bad name"], 2, /1..64 of/],
      [["grant", "read", "--bucket", "a", "--user", "bob"], 6, /no user bob/],
      [["user", "add", "alice"], 6, /user alice exists already/],
    ];
    const results = await Promise.all(refusals.map(([args]) => dkv("n1", args)));
    refusals.forEach(([args, code, message], i) => {
      expect(results[i]!.code, args.join(" ")).toBe(code);
      expect(results[i]!.stderr).toMatch(message);
    });

    await ok("n2", ["revoke", "read", "--bucket", "photos", "--user", "alice"]);
    await eventually(async () => {
      for (const node of NODES) {
        const access = await accessOf(node);
        const alice = { kind: "user", user: "alice" } as const;
        if (authorize(access, alice, "read", "photos").allowed) return false;
      }
      return true;
    });

    // A new token replaces the old one; then removal ends the user everywhere.
    const rotated = JSON.parse(await ok("n3", ["user", "token", "alice", "--json"])) as {
      token: string;
    };
    expect(rotated.token).not.toBe(added.token);
    const record = liveUser(await accessOf("n3"), "alice")!;
    expect(await verifyToken(record.tokenHashes, added.token)).toBeUndefined();
    expect(await verifyToken(record.tokenHashes, rotated.token)).toBeDefined();

    expect(await ok("n1", ["user", "remove", "alice"])).toContain("removed user alice");
    await eventually(async () => {
      for (const node of NODES) {
        if (liveUser(await accessOf(node), "alice") !== undefined) return false;
      }
      return true;
    });
    expect(await ok("n2", ["user", "list"])).toContain("no users");
  }, 120_000);
});
