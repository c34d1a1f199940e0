// Goal: the access rules in cases an operator meets: read on one bucket gives nothing else,
// revoke and removal take effect, admin does not read data, bad names and bounds are refused
// with messages that say why, and metadata from before users decodes with no users.
// Method: tables over the pure core.

import { describe, expect, it } from "vitest";
import {
  type Access,
  type Grant,
  accessUsersMax,
  addUser,
  emptyAccess,
  grantPermission,
  grantsPerUserMax,
  removeUser,
  revokePermission,
} from "../../../../node/core/access.js";
import { decodeAccess } from "../../../../node/core/access-codec.js";
import { authorize } from "../../../../node/core/authorize.js";
import { initialMetadata } from "../../../../node/core/layout.js";
import { decodeMetadata, encodeMetadata } from "../../../../node/core/layout-codec.js";
import { nodeId } from "../../../../node/core/node-id.js";
import { fakeTokenHash } from "../../../property/node/core/access-history.js";

const alice = { kind: "user", user: "alice" } as const;

function aliceWith(...grants: Grant[]): Access {
  let access = addUser(emptyAccess, "alice", [fakeTokenHash(1)]);
  for (const grant of grants) access = grantPermission(access, "alice", grant);
  return access;
}

describe("authorize", () => {
  const readA = aliceWith({ permission: "read", bucket: "a" });
  it.each([
    // access, permission, bucket, allowed
    ["read a", readA, "read", "a", true],
    ["write a", readA, "write", "a", false],
    ["delete a", readA, "delete", "a", false],
    ["read b", readA, "read", "b", false],
    ["admin", readA, "admin", undefined, false],
    ["read * covers b", aliceWith({ permission: "read", bucket: "*" }), "read", "b", true],
    ["admin reads nothing", aliceWith({ permission: "admin" }), "read", "a", false],
    ["admin", aliceWith({ permission: "admin" }), "admin", undefined, true],
    [
      "empty bucket is default",
      aliceWith({ permission: "write", bucket: "default" }),
      "write",
      "",
      true,
    ],
    ["no bucket", readA, "read", undefined, false],
  ] as const)("%s", (_, access, permission, bucket, allowed) => {
    expect(authorize(access, alice, permission, bucket).allowed).toBe(allowed);
  });

  it("denies after revoke and after removal, with the reason", () => {
    const revoked = revokePermission(readA, "alice", { permission: "read", bucket: "a" });
    expect(authorize(revoked, alice, "read", "a")).toEqual({
      allowed: false,
      reason: 'user alice has no read grant on bucket "a"',
    });
    expect(authorize(removeUser(readA, "alice"), alice, "read", "a")).toEqual({
      allowed: false,
      reason: "unknown user alice",
    });
  });
});

describe("changes", () => {
  it.each([
    ["a bad user name", () => addUser(emptyAccess, "al ice", []), /invalid user name "al ice"/],
    ["a user twice", () => addUser(aliceWith(), "alice", []), /user alice exists already/],
    [
      "a grant to nobody",
      () => grantPermission(emptyAccess, "bob", { permission: "admin" }),
      /no user bob/,
    ],
    [
      "admin on a bucket",
      () =>
        grantPermission(aliceWith(), "alice", {
          permission: "admin",
          bucket: "a",
        } as unknown as Grant),
      /admin is cluster-wide/,
    ],
    [
      "an empty bucket",
      () => grantPermission(aliceWith(), "alice", { permission: "read", bucket: "" }),
      /invalid bucket ""/,
    ],
    [
      "a long bucket",
      () => grantPermission(aliceWith(), "alice", { permission: "read", bucket: "x".repeat(256) }),
      /1..255 bytes/,
    ],
    [
      "an unknown permission",
      () =>
        grantPermission(aliceWith(), "alice", {
          permission: "own",
          bucket: "a",
        } as unknown as Grant),
      /unknown permission "own"/,
    ],
    [
      "a malformed hash",
      () => addUser(emptyAccess, "bob", ["plain-token"]),
      /malformed token hash/,
    ],
  ])("refuses %s", (_, change, message) => {
    expect(change).toThrow(message);
  });

  it("bounds grants per user and users", () => {
    let access = aliceWith();
    for (let i = 0; i < grantsPerUserMax; i++) {
      access = grantPermission(access, "alice", { permission: "read", bucket: `b${i}` });
    }
    expect(() => grantPermission(access, "alice", { permission: "write", bucket: "x" })).toThrow(
      `holds ${grantsPerUserMax} grants`,
    );
    let many = emptyAccess;
    for (let i = 0; i < accessUsersMax; i++) many = addUser(many, `u${i}`, []);
    expect(() => addUser(many, "one-more", [])).toThrow(`at most ${accessUsersMax} users`);
  });

  it("adds a removed user again at a higher revision, without its old grants", () => {
    const removed = removeUser(aliceWith({ permission: "admin" }), "alice");
    const again = addUser(removed, "alice", []);
    expect(again.users[0]).toMatchObject({ revision: 4, removed: false, grants: [] });
  });
});

describe("decoding", () => {
  const members = [{ node: nodeId("n1"), address: "127.0.0.1:7001" }];
  const metadata = initialMetadata({ members, partitionCount: 4, targetN: 1 });

  it("reads metadata written before users as having none, and writes it unchanged", () => {
    const old = encodeMetadata(metadata);
    expect(new TextDecoder().decode(old)).not.toContain("access");
    expect(decodeMetadata(old).access).toEqual(emptyAccess);
    const withUsers = encodeMetadata({ ...metadata, access: aliceWith() });
    expect(decodeMetadata(withUsers).access).toEqual(aliceWith());
  });

  const record = { user: "alice", revision: 1, removed: false, tokenHashes: [], grants: [] };
  it.each([
    ["not a list", {}, /access: want an array/],
    ["an unknown field", [{ ...record, password: "x" }], /unknown field "password"/],
    ["revision 0", [{ ...record, revision: 0 }], /revision: want an integer in 1/],
    ["a bad hash", [{ ...record, tokenHashes: ["x"] }], /not a token hash/],
    ["unsorted users", [{ ...record, user: "b" }, record], /not sorted by user/],
    ["a grant with no bucket", [{ ...record, grants: [{ permission: "read" }] }], /needs a bucket/],
    [
      "a tombstone with grants",
      [{ ...record, removed: true, grants: [{ permission: "admin" }] }],
      /still holds/,
    ],
  ])("refuses %s", (_, value, message) => {
    expect(() => decodeAccess(value)).toThrow(message);
  });
});
