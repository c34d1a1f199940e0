// Goal: a step of the wall clock while KvService forwards a write moves neither the forward
// attempts' deadlines nor the deadline of the command it then hands to its own coordinator: the
// client's deadline is read once, as the call arrives, and kept on the monotonic clock.
// Method: KvService on a ManualClock as a fallback of the key (n4), both up primaries silent (a
// forward attempt ends at its deadline, read on the wall clock when sent, as gRPC does); the
// wall clock steps as the first attempt gives up; a fake coordinator records the command.

import { describe, expect, it } from "vitest";
import type { Coordinator } from "../../../coordinator/coordinator.js";
import type { PutCommand } from "../../../coordinator/coordinator-commands.js";
import { DEFAULT_FORWARD_POLICY } from "../../../coordinator/core/forward-policy.js";
import { DEFAULT_BUCKET } from "../../../coordinator/core/quorum-options.js";
import { KvService, type ForwardPort } from "../../../coordinator/kv-service.js";
import { KvError } from "../../../node/core/errors.js";
import { DEFAULT_LIMITS } from "../../../node/core/limits.js";
import { silentLogger } from "../../../node/logger.js";
import { ManualClock } from "../node/manual-clock.js";
import { FALLBACK_LIST, PUT_REQUEST, n1, n2, n4 } from "./kv-service-fixtures.js";

const LIST = FALLBACK_LIST;
const REQUEST = PUT_REQUEST;

const TIMEOUT_MS = 5_000;
const PATIENCE_MS = DEFAULT_FORWARD_POLICY.patienceMs;

describe("KvService and a wall-clock step while it forwards", () => {
  it.each([-55_000, 55_000])("keeps the client's deadline (step %i ms)", async (stepMs) => {
    const clock = new ManualClock();
    const attempts: { node: string; sentMs: number; waitMs: number }[] = [];
    const commands: { atMs: number; leftMs: number }[] = [];
    const coordinator = {
      preferenceList: () => LIST,
      put: (command: PutCommand) => {
        commands.push({ atMs: clock.monotonicMs(), leftMs: command.deadlineMs - clock.nowMs() });
        return Promise.reject(new KvError("unavailable", "test coordinator"));
      },
    } as unknown as Coordinator;
    const forward: ForwardPort = {
      put: async (node, _request, deadlineMs) => {
        const waitMs = deadlineMs - clock.nowMs();
        attempts.push({ node, sentMs: clock.monotonicMs(), waitMs });
        await clock.sleep(waitMs);
        if (attempts.length === 1) clock.jumpWall(stepMs);
        const message = "deadline exceeded";
        const failure = { kind: "deadline", notApplied: false, message } as const;
        return { ok: false, failure, error: new Error(message) };
      },
      delete: () => Promise.reject(new Error("not used")),
    };
    const kv = new KvService({
      coordinator,
      self: n4,
      limits: DEFAULT_LIMITS,
      bucket: DEFAULT_BUCKET,
      logger: silentLogger(),
      clock,
      forward,
      contextKeys: () => undefined,
    });
    const put = kv.put(REQUEST, { deadlineMs: clock.nowMs() + TIMEOUT_MS, forwarded: false });
    put.catch(() => undefined);
    await clock.advance(TIMEOUT_MS);
    expect(attempts).toEqual([
      { node: n1, sentMs: 0, waitMs: PATIENCE_MS },
      { node: n2, sentMs: PATIENCE_MS, waitMs: PATIENCE_MS },
    ]);
    expect(commands).toEqual([{ atMs: 2 * PATIENCE_MS, leftMs: TIMEOUT_MS - 2 * PATIENCE_MS }]);
    await expect(put).rejects.toThrow(/test coordinator/);
  });
});
