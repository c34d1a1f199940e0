// Goal: every way a KV request can fail lands on one outcome label: KvErrors by their code,
// errors passed through from a forwarded call by their gRPC status.

import { describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { KvError } from "../../../../node/core/errors.js";
import { outcomeOfError } from "../../../../node/metrics/request-outcome.js";

describe("outcomeOfError()", () => {
  it.each([
    [new KvError("invalid-argument", "w=4 exceeds n=3"), "invalid"],
    [new KvError("too-large", "value is too large"), "too_large"],
    [new KvError("overloaded", "overloaded: 1024 requests in flight"), "overloaded"],
    [new KvError("unavailable", "write quorum unreachable"), "unavailable"],
    [new KvError("timeout", "deadline"), "timeout"],
    [new KvError("precondition-failed", "if_none_match failed"), "precondition_failed"],
    [new KvError("storage-failed", "ENOSPC"), "storage_failed"],
    [new KvError("internal", "bug"), "internal"],
  ])("a KvError %s is %s", (error, outcome) => {
    expect(outcomeOfError(error)).toBe(outcome);
  });

  it.each([
    [{ code: status.INVALID_ARGUMENT, details: "r must be at least 1" }, "invalid"],
    [{ code: status.RESOURCE_EXHAUSTED, details: "overloaded: 10 in flight" }, "overloaded"],
    [{ code: status.RESOURCE_EXHAUSTED, details: "too many siblings" }, "too_large"],
    [{ code: status.UNAVAILABLE, details: "no connection" }, "unavailable"],
    [{ code: status.CANCELLED, details: "cancelled" }, "unavailable"],
    [{ code: status.DEADLINE_EXCEEDED, details: "deadline" }, "timeout"],
    [{ code: status.FAILED_PRECONDITION, details: "exists" }, "precondition_failed"],
    [{ code: status.UNKNOWN, details: "?" }, "internal"],
  ])("a forwarded error %o is %s", (error, outcome) => {
    expect(outcomeOfError(Object.assign(new Error(error.details), error))).toBe(outcome);
  });

  it("calls anything else internal", () => {
    expect(outcomeOfError(new Error("boom"))).toBe("internal");
    expect(outcomeOfError(undefined)).toBe("internal");
  });
});
