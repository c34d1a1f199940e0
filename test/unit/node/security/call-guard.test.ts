// The verdicts of the call guard's rules, pure: who may call what.

import { describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import {
  bucketOf,
  bucketsOf,
  sessionItemsOf,
  verdictOf,
  type Caller,
} from "../../../../node/security/call-guard.js";
import { itemRefusalOf } from "../../../../node/security/session-item-refusal.js";
import { ruleOf } from "../../../../node/security/call-rules.js";
import type { NodeId } from "../../../../node/core/node-id.js";

const members = new Set(["n1", "n2", "n3"]);
const options = {
  isMember: (node: NodeId) => members.has(node),
  access: {
    userOfToken: () => Promise.resolve({ refused: "unknown or revoked token" }),
    refusal: (user: string, permission: string, bucket: string | undefined) =>
      user === "admin" || (user === "reader" && permission === "read" && bucket === "a")
        ? undefined
        : `user ${user} has no ${permission} grant`,
  },
};
const node = (id: string): Caller => ({ kind: "node", nodeId: id as NodeId });
const user = (name: string): Caller => ({ kind: "user", user: name });
const nobody: Caller = { kind: "anonymous", reason: "no verified client certificate" };
const verdict = (method: string, caller: Caller, message?: unknown) =>
  verdictOf(ruleOf(method), caller, options, message)?.code;

describe("call rules", () => {
  it("refuses a method without a rule to everyone, even the admin and members", () => {
    expect(verdict("/dkv.v1.Replica/Drop", user("admin"))).toBe(grpc.status.PERMISSION_DENIED);
    expect(verdict("/dkv.v1.Replica/Drop", node("n1"))).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("lets anyone ask for health, and nobody else anything", () => {
    expect(verdict("/grpc.health.v1.Health/Check", nobody)).toBeUndefined();
    for (const method of ["/dkv.v1.KV/Get", "/dkv.v1.Replica/Put", "/dkv.v1.Admin/Status"]) {
      expect(verdict(method, nobody)).toBe(grpc.status.UNAUTHENTICATED);
    }
  });

  it("keeps the data services for current members", () => {
    expect(verdict("/dkv.v1.Replica/Put", node("n2"))).toBeUndefined();
    expect(verdict("/dkv.v1.Replica/Put", node("n9"))).toBe(grpc.status.PERMISSION_DENIED);
    expect(verdict("/dkv.v1.AntiEntropy/Reap", user("admin"))).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("checks a user's grant on the request's bucket", () => {
    expect(verdict("/dkv.v1.KV/Get", user("reader"), { bucket: "a" })).toBeUndefined();
    expect(verdict("/dkv.v1.KV/Put", user("reader"), { bucket: "a" })).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    expect(verdict("/dkv.v1.KV/Get", user("reader"), { bucket: "b" })).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    expect(verdict("/dkv.v1.KV/Get", user("admin"), { bucket: "b" })).toBeUndefined();
    expect(bucketOf({ bucket: "" })).toBe("default");
  });

  it("checks every item's bucket of a batch: one refused bucket refuses the batch", () => {
    const items = (...buckets: string[]) => ({ items: buckets.map((bucket) => ({ bucket })) });
    expect(verdict("/dkv.v1.KV/BatchGet", user("reader"), items("a", "a"))).toBeUndefined();
    expect(verdict("/dkv.v1.KV/BatchGet", user("reader"), items("a", "b", "a"))).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    expect(verdict("/dkv.v1.KV/BatchPut", user("reader"), items("a"))).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    expect(verdict("/dkv.v1.KV/BatchPut", node("n2"), items("b"))).toBeUndefined();
    expect(bucketsOf(items("a", "", "a", "b"))).toEqual(["a", "default", "b"]);
  });

  it("refuses a node of the CA that is not a member everything but what a joining node needs", () => {
    // A node never added, or one removed (its certificate stays valid until it expires).
    const stranger = node("n9");
    const refused = [
      ["/dkv.v1.KV/Get", { bucket: "a" }],
      ["/dkv.v1.KV/Put", { bucket: "a" }],
      ["/dkv.v1.KV/Delete", { bucket: "a" }],
      ["/dkv.v1.KV/BatchGet", { items: [{ bucket: "a" }] }],
      ["/dkv.v1.KV/BatchPut", { items: [{ bucket: "a" }] }],
      ["/dkv.v1.KV/Session", undefined],
      ["/dkv.v1.Admin/Status", undefined],
      ["/dkv.v1.Admin/LocalGet", undefined],
      ["/dkv.v1.AntiEntropy/Status", undefined],
      ["/dkv.v1.Membership/Clear", undefined],
      ["/dkv.v1.Membership/Plan", undefined],
      ["/dkv.v1.Membership/Commit", undefined],
    ] as const;
    for (const [method, message] of refused) {
      // At the headers (no message yet) and, for rules that read it, with the message.
      expect(verdict(method, stranger), method).toBe(grpc.status.PERMISSION_DENIED);
      expect(verdict(method, stranger, message), method).toBe(grpc.status.PERMISSION_DENIED);
      expect(verdictOf(ruleOf(method), stranger, options)?.reason).toBe(
        "node n9 is not a member of the cluster",
      );
      expect(verdict(method, node("n2"), message), method).toBeUndefined();
    }
    // What `dkv serve --join` calls before the commit makes it a member.
    expect(verdict("/dkv.v1.Membership/Get", stranger)).toBeUndefined();
    expect(verdict("/dkv.v1.Admin/Ping", stranger)).toBeUndefined();
    // Open, but a non-member's metadata is not merged (membership-server.ts).
    expect(verdict("/dkv.v1.Membership/Exchange", stranger)).toBeUndefined();
    expect(verdict("/dkv.v1.Membership/Get", user("reader"))).toBe(grpc.status.PERMISSION_DENIED);
    // A session's items too, should the node be removed while its stream is open.
    const items = { items: [{ id: 1, timeout_ms: 0, op: "get", get: { bucket: "a" } }] };
    const checked = sessionItemsOf(stranger, options, items);
    expect(checked.refusals).toEqual([
      { code: grpc.status.PERMISSION_DENIED, reason: "node n9 is not a member of the cluster" },
    ]);
    expect(sessionItemsOf(node("n1"), options, items)).toEqual({ message: items, refusals: [] });
  });

  it("lets a node that is not a member stage only its own join", () => {
    const stage = "/dkv.v1.Membership/Stage";
    expect(verdict(stage, node("n9"), { kind: "join", node: "n9" })).toBeUndefined();
    expect(verdict(stage, node("n9"), { kind: "join", node: "n8" })).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    expect(verdict(stage, node("n9"), { kind: "leave", node: "n1" })).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    expect(verdict(stage, node("n1"), { kind: "leave", node: "n2" })).toBeUndefined();
    expect(verdict(stage, user("reader"), { kind: "leave", node: "n2" })).toBe(
      grpc.status.PERMISSION_DENIED,
    );
  });

  it("serves fault injection to an admin user only, never to a node", () => {
    expect(verdict("/dkv.v1.Admin/SetDroppedPeers", node("n1"))).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    expect(verdict("/dkv.v1.Admin/SetDroppedPeers", user("admin"))).toBeUndefined();
  });

  it("checks each session item for its operation's permission on its bucket, alone", () => {
    const item = (id: number, op: string, bucket: string) => ({
      id,
      timeout_ms: 0,
      op,
      [op]: { bucket, key: Buffer.from("k") },
    });
    const message = {
      items: [
        item(1, "get", "a"),
        item(2, "put", "a"),
        item(3, "get", "b"),
        item(4, "delete", "a"),
        { id: 5, timeout_ms: 0 },
      ],
    };
    expect(verdict("/dkv.v1.KV/Session", user("reader"), message)).toBeUndefined();
    const checked = sessionItemsOf(user("reader"), options, message);
    const items = (checked.message as typeof message).items;
    // Case   | refused? | why
    const table: [number, string | undefined][] = [
      [1, undefined],
      [2, "user reader has no write grant"],
      [3, "user reader has no read grant"],
      [4, "user reader has no delete grant"],
      [5, undefined], // no operation: left for the session to answer INVALID_ARGUMENT
    ];
    table.forEach(([id, reason], index) => {
      const refused = itemRefusalOf(items[index]!);
      expect(refused?.reason, `item ${id}`).toBe(reason);
      expect(items[index]!.id).toBe(id);
      // A refused item carries no operation, so nothing downstream can run it.
      if (reason !== undefined) expect(Object.keys(items[index]!)).toEqual(["id", "timeout_ms"]);
    });
    expect(checked.refusals.map((refusal) => refusal.code)).toEqual([
      grpc.status.PERMISSION_DENIED,
      grpc.status.PERMISSION_DENIED,
      grpc.status.PERMISSION_DENIED,
    ]);
    // The message the client sent is not changed; the admin and nodes pass it whole.
    expect(itemRefusalOf(message.items[1]!)).toBeUndefined();
    expect(sessionItemsOf(user("admin"), options, message).message).toBe(message);
    expect(sessionItemsOf(node("n1"), options, message).message).toBe(message);
  });

  it("refuses every session item of a caller whose token was revoked since the stream opened", () => {
    const message = { items: [{ id: 1, timeout_ms: 0, op: "get", get: { bucket: "a" } }] };
    const revoked = { kind: "anonymous", reason: "unknown or revoked token" } as const;
    const checked = sessionItemsOf(revoked, options, message);
    expect(checked.refusals).toEqual([
      { code: grpc.status.UNAUTHENTICATED, reason: "unknown or revoked token" },
    ]);
    expect(Object.keys((checked.message as typeof message).items[0]!)).toEqual([
      "id",
      "timeout_ms",
    ]);
  });
});
