// Goal: the actor lease keeps a node's actor across clean restarts of a real log engine and
// takes a new one after an unclean stop, a corrupt lease or floors file, or on the memory
// engine; a removed copy of its own writes keeps its counter floor across the restart.
// Method: open, acquire, (close, release), reopen, as startNode does.

import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ACTOR_FLOORS_FILE, ACTOR_LEASE_FILE, ActorLease } from "../../../node/actor-lease.js";
import { LogStorage } from "../../../node/storage/log-storage.js";
import { MemoryStorage } from "../../../node/storage/memory-storage.js";
import type { Storage } from "../../../node/storage/storage.js";
import { Replica } from "../../../node/replica.js";
import { EMPTY_CONTEXT } from "../../../node/core/causal-context.js";
import { textVersion as text } from "./core/dvv-test-helpers.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-lease-"));
  dirs.push(dir);
  return dir;
}

/** One incarnation: opens storage, takes the lease; `stop` closes cleanly or not at all. */
async function incarnation(
  dir: string,
  storage: Storage = new LogStorage({ dir: path.join(dir, "log") }),
): Promise<{ lease: ActorLease; replica: Replica; stop: (clean: boolean) => Promise<void> }> {
  await storage.open();
  const lease = await ActorLease.acquire({ self: "n1", dataDir: dir, storage });
  const replica = new Replica(storage, lease.actor, lease.newActor, {
    removed: lease.removedCopies,
  });
  const stop = async (clean: boolean): Promise<void> => {
    await storage.close();
    // An unclean stop never gets to release: the lease stays as acquire wrote it.
    if (clean) await lease.release(replica);
  };
  return { lease, replica, stop };
}

describe("ActorLease", () => {
  it("keeps the actor across a clean restart, and writes continue its counter", async () => {
    const dir = dataDir();
    const first = await incarnation(dir);
    expect(first.lease.actor).toMatch(/^n1\.[0-9a-f]{8}$/);
    const check = (): void => undefined;
    const written = await first.replica.coordinate(
      "b",
      Buffer.from("k"),
      EMPTY_CONTEXT,
      text("1"),
      {
        durable: false,
        check,
      },
    );
    await first.stop(true);

    const second = await incarnation(dir);
    expect(second.lease.reused).toBe(true);
    expect(second.lease.actor).toBe(first.lease.actor);
    const again = await second.replica.coordinate(
      "b",
      Buffer.from("k"),
      written.object.context,
      text("2"),
      {
        durable: true,
        check,
      },
    );
    expect(again.dot).toEqual({ actor: first.lease.actor, counter: 2 });
    expect(again.object.context.vv.size).toBe(1);
    await second.stop(true);
  });

  it("takes a new actor after an unclean stop, and again after one", async () => {
    const dir = dataDir();
    const first = await incarnation(dir);
    await first.stop(false);
    const second = await incarnation(dir);
    expect(second.lease.reused).toBe(false);
    expect(second.lease.actor).not.toBe(first.lease.actor);
    // The lease on disk says clean: false from the start, so a crash now is seen too.
    expect(JSON.parse(readFileSync(path.join(dir, ACTOR_LEASE_FILE), "utf8"))).toEqual({
      version: 1,
      actor: second.lease.actor,
      clean: false,
    });
    await second.stop(true);
  });

  it("takes a new actor when the lease file is corrupt", async () => {
    const dir = dataDir();
    const first = await incarnation(dir);
    await first.stop(true);
    writeFileSync(path.join(dir, ACTOR_LEASE_FILE), '{"version":1,"actor":"n1.');
    const second = await incarnation(dir);
    expect(second.lease.reused).toBe(false);
    expect(second.lease.actor).not.toBe(first.lease.actor);
    await second.stop(true);
  });

  it("takes a new actor on every start of the memory engine, and writes no file", async () => {
    const dir = dataDir();
    const first = await incarnation(dir, new MemoryStorage());
    await first.stop(true);
    const second = await incarnation(dir, new MemoryStorage());
    expect(second.lease.reused).toBe(false);
    expect(second.lease.actor).not.toBe(first.lease.actor);
    expect(() => readFileSync(path.join(dir, ACTOR_LEASE_FILE))).toThrow(/ENOENT/);
    await second.stop(true);
  });

  it("keeps the actor after a removed copy of its own writes, with its counter floor", async () => {
    const dir = dataDir();
    const first = await incarnation(dir);
    const key = Buffer.from("k");
    const write = { durable: true, check: () => undefined } as const;
    const one = await first.replica.coordinate("b", key, EMPTY_CONTEXT, text("1"), write);
    const two = await first.replica.coordinate("b", key, one.object.context, text("2"), write);
    expect(await first.replica.removeIfUnchanged("b", key, two.object)).toBe(true);
    await first.stop(true);
    const second = await incarnation(dir);
    expect(second.lease.reused).toBe(true);
    expect(second.lease.actor).toBe(first.lease.actor);
    // Dots (actor, 1..2) live on at the primaries the copy was handed to: never again.
    const again = await second.replica.coordinate("b", key, EMPTY_CONTEXT, text("3"), write);
    expect(again.dot).toEqual({ actor: first.lease.actor, counter: 3 });
    await second.stop(true);
  });

  it("takes a new actor when the floors file does not match the lease", async () => {
    const dir = dataDir();
    const first = await incarnation(dir);
    const key = Buffer.from("k");
    const write = { durable: true, check: () => undefined } as const;
    const one = await first.replica.coordinate("b", key, EMPTY_CONTEXT, text("1"), write);
    expect(await first.replica.removeIfUnchanged("b", key, one.object)).toBe(true);
    await first.stop(true);
    writeFileSync(path.join(dir, ACTOR_FLOORS_FILE), "[]");
    const second = await incarnation(dir);
    expect(second.lease.reused).toBe(false);
    expect(second.lease.actor).not.toBe(first.lease.actor);
    await second.stop(true);
  });
});
