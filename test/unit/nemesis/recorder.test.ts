// How the nemesis client classifies a failed put: `fail` only when nothing can have been stored
// (refused input, the client never connected, a node's answer marked not applied); anything a
// silent replica may still have stored is `indeterminate`. A live run once counted a put as
// failed because the node's message quoted a peer's "No connection established" while two other
// primaries had been silent, and the checker then reported the write's value as a failed write
// made visible.

import { describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { writeErrorOutcome } from "../../../scripts/nemesis/recorder.js";
import { NOT_APPLIED_HEADER, ORIGIN_HEADER } from "../../../coordinator/kv-server.js";

function error(code: grpc.status, details: string, headers: string[] = []): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  for (const header of headers) metadata.set(header, "n1");
  return Object.assign(new Error(details), { code, details, metadata });
}

describe("writeErrorOutcome", () => {
  it("counts a node's unavailable answer as failed only when it says nothing was applied", () => {
    const quoted =
      "no replica of the key reachable to coordinate the write (n3: no answer within 999 ms; " +
      "n5: No connection established. Last error: connect ECONNREFUSED)";
    expect(writeErrorOutcome(error(grpc.status.UNAVAILABLE, quoted, [ORIGIN_HEADER]))).toBe(
      "indeterminate",
    );
    expect(
      writeErrorOutcome(
        error(grpc.status.UNAVAILABLE, "too few replicas", [ORIGIN_HEADER, NOT_APPLIED_HEADER]),
      ),
    ).toBe("fail");
  });

  it("counts the client's own failure to connect as failed, and a timeout as indeterminate", () => {
    const refused = "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1";
    expect(writeErrorOutcome(error(grpc.status.UNAVAILABLE, refused))).toBe("fail");
    expect(writeErrorOutcome(error(grpc.status.DEADLINE_EXCEEDED, "deadline"))).toBe(
      "indeterminate",
    );
    expect(writeErrorOutcome(error(grpc.status.INVALID_ARGUMENT, "bad key"))).toBe("fail");
  });
});
