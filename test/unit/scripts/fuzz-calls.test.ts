// The fuzzer's oracle on how a call may end without a status: a stream the node refused
// unprocessed is retried (sendCall), and one cut by the node closing the connection of a caller
// whose calls keep failing authentication is accepted for an anonymous caller only.

import { describe, expect, it } from "vitest";
import protobuf from "protobufjs";
import {
  CUT_BY_CONNECTION_CLOSE,
  findingOf,
  type FuzzCall,
  type FuzzOutcome,
} from "../../../scripts/lib/fuzz-calls.js";

const method = {
  path: "/grpc.health.v1.Health/Watch",
  service: "grpc.health.v1.Health",
  requestType: new protobuf.Type("HealthCheckRequest"),
  requestStream: false,
  responseStream: true,
};

function outcome(anonymous: boolean, code: number): FuzzOutcome {
  const call: FuzzCall = {
    index: 0,
    method,
    caller: { name: anonymous ? "anonymous" : "admin", credentials: { ca: "" }, anonymous },
    address: "127.0.0.1:1",
    body: { bytes: Buffer.from([0, 0, 0, 0, 0]), how: "valid" },
  };
  return { call, code, details: "", elapsedMs: 1 };
}

describe("the fuzzer's oracle", () => {
  it("accepts a call cut by the node closing an anonymous caller's connection, no other", () => {
    expect(findingOf(outcome(true, CUT_BY_CONNECTION_CLOSE))).toBeUndefined();
    expect(findingOf(outcome(false, CUT_BY_CONNECTION_CLOSE))).toBe(
      "cut by the node closing its connection",
    );
    expect(findingOf(outcome(true, -1))).toMatch(/^no status/);
    expect(findingOf(outcome(true, -2))).toMatch(/^hang/);
  });
});
