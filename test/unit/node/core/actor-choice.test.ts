// Goal: a node keeps its actor id only when its last incarnation stopped cleanly and nothing
// can have been lost since; every other start takes a new actor, never the leased one.

import { describe, expect, it } from "vitest";
import {
  chooseActor,
  encodeActorLease,
  parseActorLease,
  type LeaseOnDisk,
} from "../../../../node/core/actor-choice.js";

const leased = "n1.0badf00d";
const lease = (clean: boolean, actor = leased): LeaseOnDisk => ({
  kind: "found",
  text: encodeActorLease({ version: 1, actor, clean }),
});

describe("chooseActor", () => {
  // engine, lease, damaged records → reused?
  it.each<[string, LeaseOnDisk, string, number, boolean]>([
    ["a clean stop", lease(true), "log", 0, true],
    ["a clean stop on lmdb", lease(true), "lmdb", 0, true],
    ["an unclean stop (crash, kill -9)", lease(false), "log", 0, false],
    ["no lease (first start, wiped data dir)", { kind: "absent" }, "log", 0, false],
    ["an unreadable lease", { kind: "unreadable", reason: "EIO" }, "log", 0, false],
    ["a corrupt lease", { kind: "found", text: '{"version":1,"actor":"n1.0ba' }, "log", 0, false],
    ["a lease of another version", { kind: "found", text: '{"version":2}' }, "log", 0, false],
    ["another node's lease", lease(true, "n2.0badf00d"), "log", 0, false],
    ["the memory engine", lease(true), "memory", 0, false],
    ["storage damage found at open", lease(true), "log", 1, false],
  ])("%s: reused %s", (_name, onDisk, engine, damagedRecords, reused) => {
    const choice = chooseActor(
      { self: "n1", lease: onDisk, engine, damagedRecords },
      () => "12345678",
    );
    expect(choice.reused).toBe(reused);
    expect(choice.actor).toBe(reused ? leased : "n1.12345678");
  });

  it("draws again when the new suffix is the leased one", () => {
    const suffixes = ["0badf00d", "0badf00d", "cafe0001"];
    const choice = chooseActor(
      { self: "n1", lease: lease(false), engine: "log", damagedRecords: 0 },
      () => suffixes.shift() ?? "ffffffff",
    );
    expect(choice.actor).toBe("n1.cafe0001");
  });
});

describe("parseActorLease", () => {
  it("reads back what encodeActorLease wrote", () => {
    const record = { version: 1, actor: leased, clean: true } as const;
    expect(parseActorLease(encodeActorLease(record))).toEqual({ ok: true, record });
  });
});
