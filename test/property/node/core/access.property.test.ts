// Property tests of users and grants (node/core/access.ts, authorize.ts): three replicas change
// users at random and gossip. Checked: mergeAccess is a semilattice and gossip converges; a
// removal, revoke or new token is never undone by a stale or concurrent copy; authorize agrees with a plain model of the grants
// (default deny, a grant on one bucket gives nothing on another, nor another permission).

import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";

import {
  type Access,
  ANY_BUCKET,
  emptyAccess,
  addUser,
  grantPermission,
  liveUser,
  mergeAccess,
  revokePermission,
  setTokenHashes,
} from "../../../../node/core/access.js";
import { accessJson, decodeAccess } from "../../../../node/core/access-codec.js";
import { authorize } from "../../../../node/core/authorize.js";
import { LayoutError } from "../../../../node/core/layout-error.js";
import {
  BUCKETS,
  PERMISSIONS,
  USERS,
  changeAccess,
  fakeTokenHash,
  grantOf,
} from "./access-history.js";

const RUNS = 200;
const REPLICAS = 3;

interface Step {
  readonly replica: number;
  readonly gossip: boolean;
  readonly x: number;
  readonly y: number;
}

const steps = fc.array(
  fc.record({
    replica: fc.nat(REPLICAS - 1),
    gossip: fc.boolean(),
    x: fc.nat(),
    y: fc.nat(),
  }),
  { maxLength: 60 },
);

/** Every state the replicas went through, the start included. */
function run(history: readonly Step[]): Access[] {
  const replicas: Access[] = Array.from({ length: REPLICAS }, () => emptyAccess);
  const seen = [emptyAccess];
  for (const { replica, gossip, x, y } of history) {
    const current = replicas[replica]!;
    try {
      replicas[replica] = gossip
        ? mergeAccess(current, replicas[x % REPLICAS]!)
        : changeAccess(current, x, y);
    } catch (error) {
      if (!(error instanceof LayoutError)) throw error;
    }
    seen.push(replicas[replica]!);
  }
  return seen;
}

function bytes(access: Access): string {
  return JSON.stringify(accessJson(access));
}

const indices = fc.tuple(fc.nat(), fc.nat(), fc.nat());

test.prop([steps, indices], { numRuns: RUNS })(
  "mergeAccess is commutative, associative and idempotent (as canonical bytes)",
  (history, [i, j, k]) => {
    const seen = run(history);
    const [a, b, c] = [i, j, k].map((index) => seen[index % seen.length]!) as [
      Access,
      Access,
      Access,
    ];
    expect(bytes(mergeAccess(a, b))).toBe(bytes(mergeAccess(b, a)));
    expect(bytes(mergeAccess(mergeAccess(a, b), c))).toBe(bytes(mergeAccess(a, mergeAccess(b, c))));
    expect(bytes(mergeAccess(a, a))).toBe(bytes(a));
  },
);

test.prop([steps], { numRuns: RUNS })(
  "gossip converges, and decodeAccess reads back every state",
  (history) => {
    const seen = run(history);
    const all = seen.reduce(mergeAccess);
    expect(bytes([...seen].reverse().reduce(mergeAccess))).toBe(bytes(all));
    for (const state of seen) {
      expect(bytes(mergeAccess(state, all))).toBe(bytes(all));
      expect(decodeAccess(JSON.parse(bytes(state)))).toEqual(state);
    }
  },
);

test.prop([steps, fc.nat(), fc.nat()], { numRuns: RUNS })(
  "a removed user stays removed when any older copy is merged in",
  (history, pickUser, pickOlder) => {
    const seen = run(history);
    const latest = seen.reduce(mergeAccess);
    const user = USERS[pickUser % USERS.length]!;
    fc.pre(liveUser(latest, user) !== undefined);
    const removed = changeAccess(latest, 1, pickUser); // x % 6 = 1: remove
    const older = seen[pickOlder % seen.length]!;
    expect(liveUser(mergeAccess(removed, older), user)).toBeUndefined();
    expect(liveUser(mergeAccess(older, removed), user)).toBeUndefined();
  },
);

/** The grants as a plain model: user → set of "permission bucket", replayed change by change. */
function model(history: readonly Step[]): { access: Access; grants: Map<string, Set<string>> } {
  let access = emptyAccess;
  const grants = new Map<string, Set<string>>();
  for (const { x, y } of history) {
    const user = USERS[y % USERS.length]!;
    const grant = grantOf(y);
    const key = `${grant.permission} ${"bucket" in grant ? grant.bucket : ""}`;
    try {
      access = changeAccess(access, x, y);
    } catch (error) {
      if (!(error instanceof LayoutError)) throw error;
      continue;
    }
    const kind = x % 6;
    if (kind === 0) grants.set(user, new Set());
    if (kind === 1) grants.delete(user);
    if (kind === 2 || kind === 3) grants.get(user)!.add(key);
    if (kind === 4) grants.get(user)!.delete(key);
  }
  return { access, grants };
}

test.prop([steps], { numRuns: RUNS })(
  "authorize allows exactly what the grants of a live user allow; default deny",
  (history) => {
    const { access, grants } = model(history);
    for (const user of [...USERS, "mallory"]) {
      const held = grants.get(user);
      for (const permission of PERMISSIONS) {
        for (const bucket of [...BUCKETS.filter((b) => b !== ANY_BUCKET), "c"]) {
          const want =
            held !== undefined &&
            (permission === "admin"
              ? held.has("admin ")
              : held.has(`${permission} ${bucket}`) || held.has(`${permission} *`));
          const decision = authorize(access, { kind: "user", user }, permission, bucket);
          expect(decision.allowed, `${user} ${permission} ${bucket}`).toBe(want);
          if (!decision.allowed) expect(decision.reason).toMatch(user);
        }
      }
      const anonymous = { kind: "anonymous", reason: "no certificate" } as const;
      expect(authorize(access, anonymous, "read", "a").allowed).toBe(false);
      expect(authorize(access, { kind: "node" }, "admin").allowed).toBe(false);
    }
  },
);

test.prop([steps, fc.nat(), fc.nat(), fc.nat(), fc.nat()], { numRuns: RUNS })(
  "a revoke or a new token is never undone by a concurrent change or an older copy",
  (history, pickGrant, x, y, pickOlder) => {
    const seen = run(history);
    // Some user holding some grant, on top of whatever the history left.
    const user = USERS[pickGrant % USERS.length]!;
    const held = grantOf(pickGrant);
    let latest = seen.reduce(mergeAccess);
    if (liveUser(latest, user) === undefined) latest = addUser(latest, user, [fakeTokenHash(7)]);
    latest = grantPermission(latest, user, held);
    const record = liveUser(latest, user);
    const revoked = revokePermission(latest, user, held);
    const rotated = setTokenHashes(latest, user, [fakeTokenHash(999)]);
    let concurrent: Access;
    try {
      concurrent = changeAccess(latest, x, y);
    } catch (error) {
      if (!(error instanceof LayoutError)) throw error;
      concurrent = latest;
    }
    const older = seen[pickOlder % seen.length]!;
    const bucket = "bucket" in held ? held.bucket : undefined;
    for (const other of [concurrent, older]) {
      for (const merged of [mergeAccess(revoked, other), mergeAccess(other, revoked)]) {
        const still = liveUser(merged, user)?.grants.some(
          (g) =>
            g.permission === held.permission && ("bucket" in g ? g.bucket : undefined) === bucket,
        );
        expect(still ?? false).toBe(false);
      }
      const tokens = liveUser(mergeAccess(rotated, other), user)?.tokenHashes ?? [];
      expect(tokens.every((hash) => !record!.tokenHashes.includes(hash))).toBe(true);
    }
  },
);
