// Goal: the Access service changes users through the node's metadata store, answers a token
// once and never a hash, and maps mistakes to INVALID_ARGUMENT and refusals to
// FAILED_PRECONDITION; users survive a layout commit and its retirement.
// Method: the handlers over an in-memory MetadataStore, called with stand-in call objects; a
// cheap scrypt cost.

import { describe, expect, it } from "vitest";
import { status, type ServiceError } from "@grpc/grpc-js";
import { accessHandlers } from "../../../../node/membership/access-server.js";
import { MetadataStore } from "../../../../node/membership/metadata-store.js";
import { silentLogger } from "../../../../node/logger.js";
import { initialMetadata, movingPartitions } from "../../../../node/core/layout.js";
import { markTransferred, retireIfComplete } from "../../../../node/core/layout-progress.js";
import { commitStaged, stageChange } from "../../../../node/core/layout-merge.js";
import { liveUser } from "../../../../node/core/access.js";
import { nodeId } from "../../../../node/core/node-id.js";
import { hashToken, verifyToken } from "../../../../node/security/tokens.js";
import type { AccessReply__Output } from "../../../../proto/generated/dkv/v1/AccessReply.js";

function setup() {
  const members = ["n1", "n2"].map((id, i) => ({
    node: nodeId(id),
    address: `127.0.0.1:${7001 + i}`,
  }));
  const store = MetadataStore.inMemory(initialMetadata({ members, partitionCount: 8, targetN: 2 }));
  const handlers = accessHandlers({
    metadata: store,
    logger: silentLogger(),
    hash: (token) => hashToken(token, { n: 1024, r: 8, p: 1 }),
  });
  /** Calls one handler; resolves with its reply or its error. */
  const call = (method: keyof typeof handlers, request: object) =>
    new Promise<{ error: ServiceError | null; reply?: AccessReply__Output }>((resolve) => {
      const handler = handlers[method] as (
        call: { request: object },
        callback: (error: ServiceError | null, reply?: AccessReply__Output) => void,
      ) => void;
      handler({ request }, (error, reply) =>
        resolve(reply === undefined ? { error } : { error, reply }),
      );
    });
  return { store, call };
}

describe("Access service", () => {
  it("adds a user with a token shown once and stored only as its hash", async () => {
    const { store, call } = setup();
    const { reply } = await call("AddUser", { user: "alice", without_token: false });
    expect(reply?.token).toMatch(/^dkv_/);
    expect(JSON.stringify(reply?.users)).not.toContain("scrypt");
    expect(store.json).not.toContain(reply!.token.slice(27));
    const record = liveUser(store.current.access, "alice")!;
    expect(await verifyToken(record.tokenHashes, reply!.token)).toBeDefined();
    const listed = await call("ListUsers", {});
    expect(listed.reply?.token).toBe("");
    expect(listed.reply?.users).toEqual([
      { user: "alice", grants: [], token_count: 1, revision: 1 },
    ]);
  });

  it.each([
    [
      "AddUser",
      { user: "no spaces", without_token: true },
      status.INVALID_ARGUMENT,
      /invalid user name/,
    ],
    [
      "Grant",
      { user: "alice", permission: "own", bucket: "a" },
      status.INVALID_ARGUMENT,
      /unknown permission/,
    ],
    [
      "Grant",
      { user: "alice", permission: "admin", bucket: "a" },
      status.INVALID_ARGUMENT,
      /cluster-wide/,
    ],
    [
      "Grant",
      { user: "alice", permission: "read", bucket: "" },
      status.INVALID_ARGUMENT,
      /invalid bucket/,
    ],
    [
      "Grant",
      { user: "bob", permission: "read", bucket: "a" },
      status.FAILED_PRECONDITION,
      /no user bob/,
    ],
    ["RemoveUser", { user: "bob" }, status.FAILED_PRECONDITION, /no user bob/],
  ] as const)("%s %j fails with status %i", async (method, request, code, message) => {
    const { call } = setup();
    await call("AddUser", { user: "alice", without_token: true });
    const { error } = await call(method, request);
    expect(error?.code).toBe(code);
    expect(error?.details).toMatch(message);
  });

  it("keeps users and grants through a layout commit and its retirement", async () => {
    const { store, call } = setup();
    await call("AddUser", { user: "alice", without_token: true });
    await call("Grant", { user: "alice", permission: "write", bucket: "*" });
    const join = { kind: "join", node: nodeId("n3"), address: "127.0.0.1:7003" } as const;
    const committed = await store.update((current) => commitStaged(stageChange(current, join)));
    expect(liveUser(committed.access, "alice")?.grants).toEqual([
      { permission: "write", bucket: "*" },
    ]);
    const retired = await store.update((current) =>
      retireIfComplete(markTransferred(current, movingPartitions(current.layout))),
    );
    expect(retired.layout.version).toBe(3);
    expect(liveUser(retired.access, "alice")?.grants).toHaveLength(1);
  });
});
