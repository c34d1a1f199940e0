// Goal: a write that forwarding moved on from a silent primary, and that this node then refuses
// before storing, is not reported "not applied": the silent primary may still store it (the
// one checker found such writes visible in the simulation). A refusal after candidates that
// certainly stored nothing stays "not applied".
// Method: KvService with a fake coordinator whose own coordination refuses (notApplied), and a
// ForwardPort whose primaries are silent or refuse; the ManualClock moves time.

import { describe, expect, it } from "vitest";
import type { Coordinator } from "../../../coordinator/coordinator.js";
import { DEFAULT_BUCKET } from "../../../coordinator/core/quorum-options.js";
import {
  KvService,
  type DeleteReply,
  type ForwardPort,
  type ForwardResult,
  type KvCall,
  type PutReply,
} from "../../../coordinator/kv-service.js";
import { EMPTY_CONTEXT } from "../../../node/core/causal-context.js";
import { encodeKeyContext } from "../../../node/core/key-context.js";
import type { DeleteRequest__Output } from "../../../proto/generated/dkv/v1/DeleteRequest.js";
import { KvError, isKvError } from "../../../node/core/errors.js";
import { DEFAULT_LIMITS } from "../../../node/core/limits.js";
import { silentLogger } from "../../../node/logger.js";
import { ManualClock } from "../node/manual-clock.js";
import { FALLBACK_LIST, PUT_REQUEST, n4 } from "./kv-service-fixtures.js";

const LIST = FALLBACK_LIST;
const REQUEST = PUT_REQUEST;
/** A delete of the same key, with the (unsealed) context of a get that found nothing. */
const DELETE_REQUEST: DeleteRequest__Output = {
  bucket: REQUEST.bucket,
  key: REQUEST.key,
  context: Buffer.from(encodeKeyContext(REQUEST.bucket, REQUEST.key, EMPTY_CONTEXT)),
  options: null,
};

function service(candidate: "silent" | "refuses"): { kv: KvService; clock: ManualClock } {
  const clock = new ManualClock();
  const coordinator = {
    preferenceList: () => LIST,
    put: () =>
      Promise.reject(
        new KvError("unavailable", "node n4 is not a replica of this key; retry elsewhere", {
          notApplied: true,
        }),
      ),
  } as unknown as Coordinator;
  // A candidate that refuses before storing, or says nothing until the attempt's deadline.
  const attempt = <Reply>(deadlineMs: number): Promise<ForwardResult<Reply>> =>
    candidate === "refuses"
      ? Promise.resolve({
          ok: false,
          failure: { kind: "error", notApplied: true, message: "too few replicas up" },
          error: new Error("too few replicas up"),
        })
      : clock.sleep(deadlineMs - clock.nowMs()).then(() => ({
          ok: false,
          failure: { kind: "deadline", notApplied: false, message: "deadline exceeded" },
          error: new Error("deadline exceeded"),
        }));
  const forward: ForwardPort = {
    put: (_node, _request, deadlineMs) => attempt<PutReply>(deadlineMs),
    delete: (_node, _request, deadlineMs) => attempt<DeleteReply>(deadlineMs),
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
  return { kv, clock };
}

async function failureOf(put: Promise<unknown>): Promise<KvError> {
  const error = await put.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isKvError(error)) throw new Error(`expected a KvError, got ${String(error)}`);
  return error;
}

/** The write of each kind, as KvService takes it. */
const WRITES = {
  put: (kv: KvService, call: KvCall) => kv.put(REQUEST, call),
  delete: (kv: KvService, call: KvCall) => kv.delete(DELETE_REQUEST, call),
} as const;

describe("KvService forwarding", () => {
  it.each(["put", "delete"] as const)(
    "does not call a local refusal of a %s 'not applied' after a silent primary",
    async (kind) => {
      const { kv, clock } = service("silent");
      const write = failureOf(
        WRITES[kind](kv, { deadlineMs: clock.nowMs() + 5000, forwarded: false }),
      );
      // Two silent primaries, each given its patience; then this node refuses.
      for (let step = 0; step < 10; step++) await clock.advance(1000);
      const error = await write;
      expect(error.notApplied).toBe(false);
      expect(error.message).toMatch(/not a replica of this key.*may have stored the write/);
    },
  );

  it.each(["put", "delete"] as const)(
    "keeps a %s's 'not applied' when every primary refused before storing",
    async (kind) => {
      const { kv, clock } = service("refuses");
      const call = { deadlineMs: clock.nowMs() + 5000, forwarded: false };
      const error = await failureOf(WRITES[kind](kv, call));
      expect(error.notApplied).toBe(true);
      expect(error.message).toBe("node n4 is not a replica of this key; retry elsewhere");
    },
  );
});
