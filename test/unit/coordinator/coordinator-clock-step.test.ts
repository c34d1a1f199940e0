// Goal: a step of the wall clock while a request runs neither stretches nor cuts its deadline.
// A request that outlived its timeout by the step could hand a stale copy to a fallback after
// the key was deleted and its tombstone reaped (simulation seed 796: a 55 s step back made a
// put's silent primary time out 56 s late, and the hinted copy then brought back a value
// deleted and reaped in between).
// Method: a Coordinator on a ManualClock over a 4-node view (n = 3, so a key has a spare), with
// a transport that times its calls out at their deadlines as the replica stream client does;
// the wall clock steps while the request waits for its local write.

import { describe, expect, it } from "vitest";
import { Coordinator, type CoordinatorView } from "../../../coordinator/coordinator.js";
import type { GetCommand, PutCommand } from "../../../coordinator/coordinator-commands.js";
import type {
  ReplicaTransport,
  ReplicaWriteOptions,
  TransportWriteReply,
} from "../../../coordinator/replica-transport.js";
import type { ReadReply } from "../../../coordinator/core/get-quorum.js";
import { EMPTY_CONTEXT } from "../../../node/core/causal-context.js";
import type { DvvSet } from "../../../node/core/dvv.js";
import { DEFAULT_LIMITS } from "../../../node/core/limits.js";
import { nodeId, type NodeId } from "../../../node/core/node-id.js";
import { claimRing } from "../../../node/core/ring.js";
import { createLogger } from "../../../node/logger.js";
import { Replica } from "../../../node/replica.js";
import { MemoryStorage } from "../../../node/storage/memory-storage.js";
import { ManualClock } from "../node/manual-clock.js";
import { textVersion, utf8 } from "../node/core/dvv-test-helpers.js";

const NODES = ["n1", "n2", "n3", "n4"].map(nodeId);
const SELF = NODES[0]!;
const TIMEOUT_MS = 1_000;
const STEP_MS = 55_000;

/** A replica call as the transport saw it, on the monotonic clock. */
interface SentCall {
  readonly node: NodeId;
  readonly hintFor: string;
  readonly sentMs: number;
  /** When the call gives up: its wall-clock deadline read at the moment it was sent. */
  readonly givesUpMs: number;
}

/** Answers every call at once, but never those to `silent`, which end at their deadline. */
class SilentPeerTransport implements ReplicaTransport {
  readonly calls: SentCall[] = [];
  constructor(
    readonly clock: ManualClock,
    readonly silent: NodeId,
  ) {}

  get(node: NodeId, _bucket: string, _key: Uint8Array, deadlineMs: number) {
    return this.#answer<ReadReply<DvvSet>>(node, "", deadlineMs, { ok: true, object: undefined });
  }

  put(node: NodeId, _b: string, _k: Uint8Array, _o: DvvSet, options: ReplicaWriteOptions) {
    const reply = { ok: true, durable: options.durable } as const;
    return this.#answer<TransportWriteReply>(
      node,
      options.hintFor ?? "",
      options.deadlineMs,
      reply,
    );
  }

  #answer<T>(node: NodeId, hintFor: string, deadlineMs: number, reply: T): Promise<T> {
    const { clock } = this;
    // As node/replica-stream-client.ts: the wait is the deadline less the wall clock now.
    const waitMs = deadlineMs - clock.nowMs();
    const sentMs = clock.monotonicMs();
    this.calls.push({ node, hintFor, sentMs, givesUpMs: sentMs + waitMs });
    if (node !== this.silent) return Promise.resolve(reply);
    return new Promise((resolve) =>
      clock.setTimer(waitMs, () => resolve({ ok: false, error: "deadline" } as T)),
    );
  }
}

async function coordinatorOn(clock: ManualClock, transport: ReplicaTransport) {
  const storage = new MemoryStorage();
  await storage.open();
  const view: CoordinatorView = {
    self: SELF,
    ring: claimRing({ nodes: NODES, partitionCount: 8, targetN: 3 }),
    upNodes: () => new Set(NODES),
  };
  return new Coordinator({
    view,
    replica: new Replica(storage, "n1.test", undefined, { clock }),
    transport,
    limits: DEFAULT_LIMITS,
    logger: createLogger({ node: "n1", level: "silent" }),
    clock,
  });
}

/** A key n1 is a primary of, another primary of it (to fall silent) and its spare. */
function keyWithSpare(coordinator: Coordinator) {
  for (let index = 0; ; index++) {
    const key = utf8(`k${index}`);
    const list = coordinator.preferenceList("b", key, 3);
    const other = list.primaries.find((node) => node !== SELF);
    const spare = list.spares[0];
    if (list.primaries.includes(SELF) && other !== undefined && spare !== undefined) {
      return { key, silent: other, spare };
    }
  }
}

function getCommand(key: Uint8Array, clock: ManualClock, r: number): GetCommand {
  const quorum = { n: 3, r, w: 2, dw: 1, pr: 0, pw: 0 };
  return { bucket: "b", key, quorum, deadlineMs: clock.nowMs() + TIMEOUT_MS, sloppy: true };
}

function putCommand(key: Uint8Array, clock: ManualClock): PutCommand {
  return {
    ...getCommand(key, clock, 2),
    version: textVersion("v"),
    context: EMPTY_CONTEXT,
    ifNoneMatch: false,
  };
}

describe("a wall-clock step while a request runs", () => {
  it.each([-STEP_MS, STEP_MS])(
    "put: the silent primary's copy goes to the spare at the deadline (step %i ms)",
    async (stepMs) => {
      const clock = new ManualClock();
      const probe = await coordinatorOn(clock, new SilentPeerTransport(clock, NODES[1]!));
      const { key, silent, spare } = keyWithSpare(probe);
      const transport = new SilentPeerTransport(clock, silent);
      const coordinator = await coordinatorOn(clock, transport);
      const put = coordinator.put(putCommand(key, clock));
      // The step lands while the put awaits its local write, before it fans out.
      clock.jumpWall(stepMs);
      await clock.advance(0);
      await expect(put).resolves.toBeDefined();
      const toSilent = transport.calls.find((call) => call.node === silent);
      expect(toSilent?.givesUpMs).toBe(TIMEOUT_MS);
      await clock.advance(TIMEOUT_MS);
      const hinted = transport.calls.find((call) => call.node === spare);
      expect(hinted).toMatchObject({ hintFor: silent, sentMs: TIMEOUT_MS });
      // The hinted copy is background work with a deadline of its own: half the window the
      // copies get after the write's deadline (the default timeout), so that a spare that hangs
      // leaves the next one time (write-slot.ts).
      expect(hinted?.givesUpMs).toBe(TIMEOUT_MS + DEFAULT_LIMITS.requestTimeoutMsDefault / 2);
    },
  );

  it.each([-STEP_MS, STEP_MS])(
    "get at r=3 with a silent primary times out at its deadline (step %i ms)",
    async (stepMs) => {
      const clock = new ManualClock();
      const probe = await coordinatorOn(clock, new SilentPeerTransport(clock, NODES[1]!));
      const { key, silent } = keyWithSpare(probe);
      const transport = new SilentPeerTransport(clock, silent);
      const coordinator = await coordinatorOn(clock, transport);
      const outcome = { atMs: -1, error: "" };
      void coordinator.get(getCommand(key, clock, 3)).then(
        () => (outcome.atMs = clock.monotonicMs()),
        (error: Error) =>
          Object.assign(outcome, { atMs: clock.monotonicMs(), error: error.message }),
      );
      // The step lands while the get awaits its local read, before it asks the others.
      clock.jumpWall(stepMs);
      await clock.advance(TIMEOUT_MS);
      expect(outcome).toMatchObject({
        atMs: TIMEOUT_MS,
        error: expect.stringMatching(/timed out/),
      });
      expect(transport.calls.find((call) => call.node === silent)?.givesUpMs).toBe(TIMEOUT_MS);
    },
  );
});
