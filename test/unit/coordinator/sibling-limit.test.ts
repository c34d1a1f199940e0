// Goal: the sibling limit is a limit (issue 12, item 5). A put that replicas refuse at their
// limit, so that its quorum becomes impossible, fails with too-large (not applied), and the
// coordinator takes the write back: from its own copy, durably, and from every replica that
// acknowledged it, also when the acknowledgement comes after the refusal. A put acknowledged
// despite a refusal, one that timed out, or one that failed for another reason is never taken
// back. A limit refusal is told apart from the other RESOURCE_EXHAUSTED replies.
// Method: n1's Coordinator over a fake 3-node view and a scripted transport; n1's own replica
// on memory storage is inspected after each put.

import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import type { PutCommand } from "../../../coordinator/coordinator-commands.js";
import {
  writeFailure,
  type ReplicaTransport,
  type ReplicaWriteOptions,
  type TransportWriteReply,
} from "../../../coordinator/replica-transport.js";
import type { QuorumConfig } from "../../../coordinator/core/quorum-options.js";
import { EMPTY_CONTEXT, contextCovers, type Dot } from "../../../node/core/causal-context.js";
import { EMPTY_DVV_SET, update, type DvvSet } from "../../../node/core/dvv.js";
import { DEFAULT_LIMITS } from "../../../node/core/limits.js";
import { isKvError, type KvError } from "../../../node/core/errors.js";
import type { NodeId } from "../../../node/core/node-id.js";
import { Replica } from "../../../node/replica.js";
import { MemoryStorage } from "../../../node/storage/memory-storage.js";
import { textVersion, utf8 } from "../node/core/dvv-test-helpers.js";
import { coordinatorOver } from "./coordinator-test-helpers.js";

const REFUSAL = "too many siblings: 3 exceeds 2 at n2; resolve them by writing with the context";
const LIMITS = { ...DEFAULT_LIMITS, siblingsMax: 2, siblingsWarn: 2 };

type Answer = "ack" | "refuse" | "fail" | "silent" | { readonly after: Promise<unknown> };

/** Answers each node's write as the script says; records every put. */
class ScriptedTransport implements ReplicaTransport {
  readonly puts: { node: NodeId; object: DvvSet; options: ReplicaWriteOptions }[] = [];
  constructor(readonly script: Readonly<Record<string, Answer>>) {}
  get(): never {
    throw new Error("no gets in this test");
  }
  async put(
    node: NodeId,
    _bucket: string,
    _key: Uint8Array,
    object: DvvSet,
    options: ReplicaWriteOptions,
  ): Promise<TransportWriteReply> {
    this.puts.push({ node, object, options });
    if (options.reason !== "REPLICA_PUT_REASON_WRITE") return { ok: true, durable: false };
    const answer = this.script[node] ?? "ack";
    if (answer === "silent") return new Promise(() => undefined);
    if (typeof answer === "object") await answer.after;
    if (answer === "refuse") return { ok: false, error: REFUSAL, overLimit: true };
    if (answer === "fail") return { ok: false, error: "disk full" };
    return { ok: true, durable: options.durable };
  }
  /** The retractions sent (repairs carrying no sibling), by node. */
  retractions(): { node: NodeId; object: DvvSet; hintFor: string | undefined }[] {
    return this.puts
      .filter((put) => put.options.reason === "REPLICA_PUT_REASON_READ_REPAIR")
      .map((put) => ({ node: put.node, object: put.object, hintFor: put.options.hintFor }));
  }
}

function putCommand(text: string, quorum: Partial<QuorumConfig>, deadlineMs = 5000): PutCommand {
  return {
    bucket: "b",
    key: utf8("k"),
    quorum: { n: 3, r: 2, w: 2, dw: 1, pr: 0, pw: 0, ...quorum },
    deadlineMs: Date.now() + deadlineMs,
    sloppy: true,
    version: textVersion(text),
    context: EMPTY_CONTEXT,
    ifNoneMatch: false,
  };
}

/** n1's replica holding one sibling already, and n1's coordinator over `transport`. */
async function setUp(transport: ScriptedTransport) {
  const storage = new MemoryStorage();
  await storage.open();
  const replica = new Replica(storage, "n1.test");
  const earlier = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "n9.t", textVersion("earlier")).object;
  await replica.merge("b", utf8("k"), earlier, { durable: false });
  const coordinator = await coordinatorOver(transport, { replica, limits: LIMITS });
  return { replica, coordinator };
}

async function failureOf(promise: Promise<unknown>): Promise<KvError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isKvError(error)) throw new Error(`expected a KvError, got ${String(error)}`);
  return error;
}

function values(object: DvvSet | undefined): string[] {
  return (object?.siblings ?? []).map((sibling) => new TextDecoder().decode(sibling.value)).sort();
}

/** The dot of n1's write of the given version (n1's only actor). */
function n1Dot(counter: number): Dot {
  return { actor: "n1.test", counter };
}

describe("a put refused at the sibling limit", () => {
  it("fails with too-large, not applied, when refusals make w impossible, and is taken back", async () => {
    const transport = new ScriptedTransport({ n2: "refuse", n3: "refuse" });
    const { replica, coordinator } = await setUp(transport);
    const error = await failureOf(coordinator.put(putCommand("refused", { w: 2 })));
    expect(error.code).toBe("too-large");
    expect(error.notApplied).toBe(true);
    expect(error.message).toBe(`${REFUSAL} (write refused: 1/2 acks, 2 refused over the limit)`);
    const local = await replica.get("b", utf8("k"));
    expect(values(local)).toEqual(["earlier"]);
    expect(contextCovers(local!.context, n1Dot(1))).toBe(true);
    expect(transport.retractions()).toEqual([]);
  });

  it("does not take back a refused write with a context: it superseded what that covered", async () => {
    const transport = new ScriptedTransport({ n2: "refuse", n3: "refuse" });
    const { replica, coordinator } = await setUp(transport);
    const read = await replica.get("b", utf8("k"));
    const resolving = { ...putCommand("resolved", { w: 2 }), context: read!.context };
    const error = await failureOf(coordinator.put(resolving));
    expect(error.code).toBe("too-large");
    expect(error.notApplied).toBe(false);
    expect(error.message).toMatch(/carried a context, so it was not taken back and may still be/);
    // Taking back only "resolved" would leave "earlier" superseded: a replace turned delete.
    expect(values(await replica.get("b", utf8("k")))).toEqual(["resolved"]);
    expect(transport.retractions()).toEqual([]);
  });

  it("sends the retraction to the primaries when the local copy went meanwhile", async () => {
    const transport = new ScriptedTransport({ n2: "refuse", n3: "refuse" });
    const { replica, coordinator } = await setUp(transport);
    // The local copy is handed off and removed while the replicas answer (a fallback's copy).
    const put = transport.put.bind(transport);
    transport.put = async (node, bucket, key, object, options) => {
      const current = await replica.get(bucket, key);
      if (current !== undefined) await replica.removeIfUnchanged(bucket, key, current);
      return put(node, bucket, key, object, options);
    };
    const error = await failureOf(coordinator.put(putCommand("refused", { w: 2 })));
    expect(error.notApplied).toBe(true);
    const retractions = transport.retractions();
    expect(retractions.map((sent) => sent.node).sort()).toEqual(["n2", "n3"]);
    for (const sent of retractions) {
      expect(sent.object.siblings).toEqual([]);
      expect(contextCovers(sent.object.context, n1Dot(1))).toBe(true);
    }
  });

  it("sends the retraction to each replica that acknowledged, with its hint", async () => {
    const transport = new ScriptedTransport({ n2: "ack", n3: "refuse" });
    const { replica, coordinator } = await setUp(transport);
    const error = await failureOf(coordinator.put(putCommand("refused", { w: 3 })));
    expect(error.code).toBe("too-large");
    expect(values(await replica.get("b", utf8("k")))).toEqual(["earlier"]);
    const [retraction, ...others] = transport.retractions();
    expect(others).toEqual([]);
    expect(retraction?.node).toBe("n2");
    expect(retraction?.hintFor).toBe("");
    expect(retraction?.object.siblings).toEqual([]);
    expect(contextCovers(retraction!.object.context, n1Dot(1))).toBe(true);
  });

  it("also takes the write back from a replica whose ack arrives after the refusal", async () => {
    let release: () => void = () => undefined;
    const later = new Promise<void>((resolve) => (release = resolve));
    const transport = new ScriptedTransport({ n2: { after: later }, n3: "refuse" });
    const { coordinator } = await setUp(transport);
    const error = await failureOf(coordinator.put(putCommand("refused", { w: 3 })));
    expect(error.code).toBe("too-large");
    expect(transport.retractions()).toEqual([]);
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(transport.retractions().map((sent) => sent.node)).toEqual(["n2"]);
  });

  it("mixed with another failure, still names the limit and takes the write back", async () => {
    const transport = new ScriptedTransport({ n2: "fail", n3: "refuse" });
    const { replica, coordinator } = await setUp(transport);
    const error = await failureOf(coordinator.put(putCommand("refused", { w: 2 })));
    expect(error.code).toBe("too-large");
    expect(values(await replica.get("b", utf8("k")))).toEqual(["earlier"]);
  });

  it("refuses at the coordinator's own limit before anything is stored or sent", async () => {
    const transport = new ScriptedTransport({});
    const { replica, coordinator } = await setUp(transport);
    await coordinator.put(putCommand("second", { w: 2 }));
    const error = await failureOf(coordinator.put(putCommand("third", { w: 2 })));
    expect(error.code).toBe("too-large");
    expect(error.notApplied).toBe(true);
    expect(error.message).toMatch(/^too many siblings: 3 exceeds 2 at n1; resolve them/);
    expect(values(await replica.get("b", utf8("k")))).toEqual(["earlier", "second"]);
    expect(transport.puts).toHaveLength(2);
  });
});

describe("a put that is not refused at the limit keeps its write", () => {
  const rows: readonly (readonly [string, Record<string, Answer>, number, string | undefined])[] = [
    // name                           script                                 w  error code
    ["acknowledged despite a refusal", { n2: "ack", n3: "refuse" }, 2, undefined],
    ["failed for another reason", { n2: "fail", n3: "fail" }, 2, "unavailable"],
    ["timed out while still possible", { n2: "refuse", n3: "silent" }, 2, "timeout"],
  ];
  it.each(rows)("%s", async (_name, script, w, code) => {
    const transport = new ScriptedTransport(script);
    const { replica, coordinator } = await setUp(transport);
    const put = coordinator.put(putCommand("kept", { w }, code === "timeout" ? 50 : 5000));
    if (code === undefined) await put;
    else expect((await failureOf(put)).code).toBe(code);
    expect(values(await replica.get("b", utf8("k")))).toEqual(["earlier", "kept"]);
    expect(transport.retractions()).toEqual([]);
  });
});

describe("writeFailure tells a limit refusal from the other refusals", () => {
  const limit = "too many siblings: 101 exceeds 100 at n2; resolve them";
  const bytes = "object too large: 17825793 bytes over 3 siblings exceeds 17825792 at n2; resolve";
  const hints = "hint store of n4 for n2 is full: 10 bytes pending, limit 8";
  const rows: readonly (readonly [status, string, boolean, string])[] = [
    // code                       message  to a fallback  reply
    [status.RESOURCE_EXHAUSTED, limit, false, "overLimit"],
    [status.RESOURCE_EXHAUSTED, limit, true, "overLimit"],
    [status.RESOURCE_EXHAUSTED, bytes, true, "overLimit"],
    [status.RESOURCE_EXHAUSTED, hints, true, "declined"],
    [status.RESOURCE_EXHAUSTED, "512 calls already in flight to n2", false, "failed"],
    [status.UNAVAILABLE, limit, false, "failed"],
  ];
  it.each(rows)("code %s, %s, to a fallback: %s → %s", (code, message, toFallback, expected) => {
    const reply = writeFailure(code, message, toFallback);
    const kind = "overLimit" in reply ? "overLimit" : "declined" in reply ? "declined" : "failed";
    expect(kind).toBe(expected);
    expect(reply).toMatchObject({ ok: false, error: message });
  });
});
