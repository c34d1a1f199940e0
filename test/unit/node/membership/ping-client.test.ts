// Goal: a ping's outcome is read correctly: refusals (connection refused, a node-level
// partition, a stranger at the address) convict at once; deadlines and dropped connections
// are mere silence for phi to judge; an answer that arrives after the peer was cut off does not
// count.

import { describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { GrpcPingPort, classifyPing } from "../../../../node/membership/ping-client.js";
import type { PeerClients } from "../../../../node/peer-clients.js";
import type { NodeId } from "../../../../node/core/node-id.js";

const n2 = "n2" as NodeId;

function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), {
    code,
    details,
    metadata: new grpc.Metadata(),
  });
}

describe("classifyPing()", () => {
  it("counts an answer from the right node as a heartbeat", () => {
    expect(classifyPing(n2, null, "n2")).toEqual({ kind: "answered" });
  });

  it.each([
    [
      "a refused connection",
      serviceError(
        grpc.status.UNAVAILABLE,
        "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:4000",
      ),
      "connection refused",
    ],
    [
      "a node-level partition on the other side",
      serviceError(grpc.status.UNAVAILABLE, "traffic from n1 is dropped by fault injection"),
      "traffic from n1 is dropped by fault injection",
    ],
  ])("convicts at once on %s", (_name, error, reason) => {
    expect(classifyPing(n2, error, undefined)).toEqual({ kind: "refused", reason });
  });

  it("convicts at once when another node answers at the address", () => {
    expect(classifyPing(n2, null, "n7")).toEqual({
      kind: "refused",
      reason: "answered as n7: wrong address?",
    });
  });

  it.each([
    serviceError(grpc.status.DEADLINE_EXCEEDED, "Deadline exceeded"),
    serviceError(grpc.status.UNAVAILABLE, "Connection dropped"),
  ])("leaves %s to phi", (error) => {
    expect(classifyPing(n2, error, undefined).kind).toBe("silent");
  });
});

describe("GrpcPingPort", () => {
  it("does not count an answer that arrives after the peer was cut off", async () => {
    let answer: (() => void) | undefined;
    const peer = {
      admin: {
        Ping: (_request: unknown, _options: unknown, callback: (...args: unknown[]) => void) => {
          answer = () => callback(null, { node_id: "n2", metadata_digest: "" });
        },
      },
    } as unknown as PeerClients;
    let dropped = false;
    const port = new GrpcPingPort({
      peer: () => (dropped ? undefined : peer),
      unreachableReason: () => "traffic to n2 is dropped by fault injection",
    });
    const before = port.ping(n2, Date.now() + 1000);
    answer?.();
    expect(await before).toEqual({ kind: "answered" });

    const late = port.ping(n2, Date.now() + 1000);
    dropped = true;
    answer?.();
    expect(await late).toEqual({
      kind: "refused",
      reason: "traffic to n2 is dropped by fault injection",
    });
  });
});
