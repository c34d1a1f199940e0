// Goal: a write acknowledged without a slot's copy always leaves a hinted copy for the slot's
// primary on some spare: after a primary that failed, after a fallback that failed (its copy,
// and so its hint, may be missing), and on the next spare when a hinted copy itself fails.
// The hinted copies of one write share one window after its deadline, so that no copy of a
// write is sent after the write's life (limits.ts writeLifeMs), which tombstone reaping waits out.
// Method: sendToSlot over a transport that answers each node as a table says, on a ManualClock.

import { describe, expect, it } from "vitest";
import { sendToSlot, type WriteSlotDeps } from "../../../coordinator/write-slot.js";
import type { PutCommand } from "../../../coordinator/coordinator-commands.js";
import type {
  ReplicaTransport,
  ReplicaWriteOptions,
  TransportWriteReply,
} from "../../../coordinator/replica-transport.js";
import { WriteCopies } from "../../../coordinator/write-copies.js";
import { EMPTY_CONTEXT } from "../../../node/core/causal-context.js";
import { EMPTY_DVV_SET, type DvvSet } from "../../../node/core/dvv.js";
import { DEFAULT_LIMITS } from "../../../node/core/limits.js";
import { nodeId, type NodeId } from "../../../node/core/node-id.js";
import { createLogger } from "../../../node/logger.js";
import { ManualClock } from "../node/manual-clock.js";
import { textVersion } from "../node/core/dvv-test-helpers.js";

type Answer = "ok" | "failed" | "declined" | "over-limit" | "times-out";

/** Answers each node as `answers` says ("ok" for any other) and records every call. */
class TableTransport {
  readonly calls: string[] = [];
  /** The wall-clock deadline of each call, in order. */
  readonly deadlines: number[] = [];
  constructor(
    readonly answers: Readonly<Record<string, Answer>>,
    readonly clock = new ManualClock(),
  ) {}

  put(node: NodeId, _b: string, _k: Uint8Array, _o: DvvSet, options: ReplicaWriteOptions) {
    this.calls.push(options.hintFor === "" ? node : `${node} for ${options.hintFor}`);
    this.deadlines.push(options.deadlineMs);
    const answer = this.answers[node] ?? "ok";
    if (answer === "times-out") {
      return new Promise<TransportWriteReply>((resolve) => {
        this.clock.setTimer(options.deadlineMs - this.clock.nowMs(), () =>
          resolve({ ok: false, error: "deadline" }),
        );
      });
    }
    const reply: TransportWriteReply =
      answer === "ok"
        ? { ok: true, durable: false }
        : answer === "declined"
          ? { ok: false, error: "hints full", declined: true }
          : answer === "over-limit"
            ? { ok: false, error: "too many siblings: 101", overLimit: true }
            : { ok: false, error: "unreachable" };
    return Promise.resolve(reply);
  }
}

const COMMAND: PutCommand = {
  bucket: "b",
  key: new TextEncoder().encode("k"),
  quorum: { n: 3, r: 2, w: 2, dw: 0, pr: 0, pw: 0 },
  deadlineMs: 1_000,
  sloppy: true,
  version: textVersion("v"),
  context: EMPTY_CONTEXT,
  ifNoneMatch: false,
};

/** Sends to `node` (standing in for `hintFor`) and lets the background copies finish. */
async function slot(answers: Record<string, Answer>, node: string, hintFor?: string) {
  const transport = new TableTransport(answers);
  const deps: WriteSlotDeps = {
    transport: transport as unknown as ReplicaTransport,
    clock: transport.clock,
    limits: DEFAULT_LIMITS,
    logger: createLogger({ node: "n1", level: "silent" }),
    sloppyAllowed: true,
  };
  const copies = new WriteCopies();
  const spares = ["s1", "s2", "s3"].map(nodeId);
  const reply = await sendToSlot(
    deps,
    COMMAND,
    nodeId(node),
    hintFor === undefined ? undefined : nodeId(hintFor),
    spares,
    { object: EMPTY_DVV_SET, durable: false, copies, deadlineMs: 1_000 },
  );
  for (let turn = 0; turn < 10; turn++) await Promise.resolve();
  return { ok: reply.ok, calls: transport.calls.join(", ") };
}

describe("sendToSlot", () => {
  // prettier-ignore
  const rows: readonly (readonly [string, Record<string, Answer>, string, string | undefined, boolean, string])[] = [
    ["a primary that answers",                 {},                              "p",  undefined, true,  "p"],
    ["a primary that fails: hinted copy",      { p: "failed" },                 "p",  undefined, false, "p, s1 for p"],
    ["a fallback that declines: next spare",   { f: "declined" },               "f",  "p",       true,  "f for p, s1 for p"],
    ["a fallback that fails: hinted copy",     { f: "failed" },                 "f",  "p",       false, "f for p, s1 for p"],
    ["a hinted copy that fails: next spare",   { p: "failed", s1: "failed" },   "p",  undefined, false, "p, s1 for p, s2 for p"],
    ["a hinted copy declined: next spare",     { p: "failed", s1: "declined" }, "p",  undefined, false, "p, s1 for p, s2 for p"],
    ["every spare fails: all tried, then none", { p: "failed", s1: "failed", s2: "failed", s3: "failed" }, "p", undefined, false, "p, s1 for p, s2 for p, s3 for p"],
    ["over its limit: no spare",               { p: "over-limit" },             "p",  undefined, false, "p"],
    ["a hinted copy over its limit: no next",  { p: "failed", s1: "over-limit" }, "p", undefined, false, "p, s1 for p"],
  ];
  it.each(rows)("%s", async (_, answers, node, hintFor, ok, calls) => {
    expect(await slot(answers, node, hintFor)).toEqual({ ok, calls });
  });

  it("gives the hinted copies one window after the write's deadline, and no spare after it", async () => {
    const clock = new ManualClock();
    const answers: Record<string, Answer> = {
      p: "failed",
      s1: "times-out",
      s2: "times-out",
      s3: "times-out",
    };
    const transport = new TableTransport(answers, clock);
    const deps: WriteSlotDeps = {
      transport: transport as unknown as ReplicaTransport,
      clock,
      limits: DEFAULT_LIMITS,
      logger: createLogger({ node: "n1", level: "silent" }),
      sloppyAllowed: true,
    };
    const payload = { object: EMPTY_DVV_SET, durable: false, copies: new WriteCopies() };
    const spares = ["s1", "s2", "s3", "s4"].map(nodeId);
    const startMs = clock.nowMs();
    const deadlineMs = clock.monotonicMs() + 1_000;
    await sendToSlot(deps, COMMAND, nodeId("p"), undefined, spares, { ...payload, deadlineMs });
    for (let step = 0; step < 8; step++) {
      await clock.advance(1_000);
      for (let turn = 0; turn < 10; turn++) await Promise.resolve();
    }
    // Each spare that hangs gets half the window at most; the window ends 1 + 5 s after the
    // start, and s4, whose turn would come then, is never asked, though it would answer.
    expect(transport.calls).toEqual(["p", "s1 for p", "s2 for p", "s3 for p"]);
    expect(transport.deadlines.slice(1).map((ms) => ms - startMs)).toEqual([2_500, 5_000, 6_000]);
  });
});
