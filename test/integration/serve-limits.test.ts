// Goal: every limit of node/core/limits.ts can be set per node (`dkv serve --limit NAME=VALUE`),
// is enforced as set, and a bad override stops the node at start with a message naming it.
// Method: a one-node cluster with a small sibling limit; `dkv serve` with bad overrides.

import { describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { spawnSync } from "node:child_process";
import { MAIN_SCRIPT, TestCluster, failure } from "./local-cluster-harness.js";

const ONE = { n: 1, r: 1, w: 1 } as const;

describe("dkv serve --limit", () => {
  it("enforces an overridden sibling limit", async () => {
    const cluster = await TestCluster.start({
      nodes: 1,
      serveArgs: ["--limit", "siblingsMax=3", "--limit", "siblingsWarn=2"],
    });
    try {
      const client = cluster.client("n1");
      for (let index = 0; index < 3; index++) await client.put("few", `v${index}`, ONE);
      const error = await failure(client.put("few", "one too many", ONE));
      expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(error.details).toMatch(/too many siblings: 4 exceeds 3/);
    } finally {
      await cluster.stop();
    }
  });

  it.each([
    [["--limit", "nonsense=1"], /--limit: unknown limit in 'nonsense=1'/],
    [["--limit", "siblingsMax=0"], /--limit: siblingsMax must be a positive integer/],
    [["--limit", "valueBytesMax=999999999"], /valueBytesMax=999999999 exceeds objectBytesMax/],
  ])("refuses %j before starting, naming it", (flags, message) => {
    const run = spawnSync(
      process.execPath,
      [MAIN_SCRIPT, "serve", "--id", "n1", "--insecure", ...flags],
      { encoding: "utf8", timeout: 20_000 },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
