// Goal: a request's deadline is the client's, or the default timeout, and never later than the
// longest timeout (Limits.requestTimeoutMsMax), which bounds how long replica traffic can stay
// in flight (tombstone reaping relies on it).

import { describe, expect, it } from "vitest";
import { deadlineOf } from "../../../coordinator/request-decode.js";
import { DEFAULT_LIMITS } from "../../../node/core/limits.js";

describe("deadlineOf", () => {
  const nowMs = 1_000_000;

  it("takes the client's deadline", () => {
    expect(deadlineOf(new Date(nowMs + 1234), nowMs, DEFAULT_LIMITS)).toBe(nowMs + 1234);
  });

  it("gives the default timeout to a call without a deadline", () => {
    expect(deadlineOf(Infinity, nowMs, DEFAULT_LIMITS)).toBe(
      nowMs + DEFAULT_LIMITS.requestTimeoutMsDefault,
    );
  });

  it("cuts a later deadline to the longest timeout", () => {
    expect(deadlineOf(new Date(nowMs + 3_600_000), nowMs, DEFAULT_LIMITS)).toBe(
      nowMs + DEFAULT_LIMITS.requestTimeoutMsMax,
    );
  });
});
