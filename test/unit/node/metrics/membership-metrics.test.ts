// The membership metrics read the layout and the transfer loop at scrape time.

import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { registerMembershipMetrics } from "../../../../node/metrics/membership-metrics.js";
import type { IncomingTransfer } from "../../../../node/membership/transfer-loop.js";
import { nodeId } from "../../../../node/core/node-id.js";

describe("membership metrics", () => {
  it("report the layout version, the transition, partitions by state and by why, and the streams", async () => {
    const registry = new Registry();
    const row = (
      partition: number,
      state: IncomingTransfer["state"],
      why: string,
    ): IncomingTransfer => ({
      partition,
      state,
      waitingFor: [nodeId("n2")],
      why,
      stream: undefined,
    });
    let incoming: IncomingTransfer[] = [
      row(3, "confirming", "source down: n2"),
      {
        ...row(5, "streaming", ""),
        stream: {
          source: nodeId("n2"),
          keysDone: 3,
          bytesDone: 3000,
          keysLeft: 7,
          bytesLeft: 7000,
          bytesPerSecond: 2000,
          etaMs: 3500,
        },
      },
      {
        ...row(6, "streaming", ""),
        stream: {
          source: nodeId("n1"),
          keysDone: 0,
          bytesDone: 0,
          keysLeft: 5,
          bytesLeft: 0,
          bytesPerSecond: 0,
          etaMs: undefined,
        },
      },
      row(9, "queued", "source down: n2"),
      row(11, "queued", "transfer limit"),
      row(12, "received", "n1 confirms it"),
    ];
    let version = 2;
    let dropped = 0;
    registerMembershipMetrics(registry, {
      layoutVersion: () => version,
      inTransition: () => incoming.length > 0,
      incoming: () => incoming,
      droppedKeys: () => dropped,
      streams: () => ({
        received: { keys: 10, bytes: 1024, active: 1 },
        sent: { keys: 20, bytes: 2048, active: 0 },
      }),
    });
    const during = await registry.metrics();
    expect(during).toMatch(/^dkv_layout_version 2$/m);
    expect(during).toMatch(/^dkv_layout_in_transition 1$/m);
    expect(during).toMatch(/^dkv_transfer_partitions_waiting\{why="source_down"\} 2$/m);
    expect(during).toMatch(/^dkv_transfer_partitions_waiting\{why="transfer_limit"\} 1$/m);
    expect(during).toMatch(/^dkv_transfer_partitions_waiting\{why="confirmation"\} 1$/m);
    expect(during).toMatch(/^dkv_transfer_partitions_waiting\{why="throttled"\} 0$/m);
    expect(during).toMatch(/^dkv_transfer_partitions\{state="queued"\} 2$/m);
    expect(during).toMatch(/^dkv_transfer_partitions\{state="streaming"\} 2$/m);
    expect(during).toMatch(/^dkv_transfer_keys_left 12$/m);
    expect(during).toMatch(/^dkv_transfer_bytes_left 7000$/m);
    expect(during).toMatch(/^dkv_transfer_eta_seconds 3.5$/m);
    expect(during).toMatch(/^dkv_transfer_keys_total\{direction="received"\} 10$/m);
    expect(during).toMatch(/^dkv_transfer_bytes_total\{direction="sent"\} 2048$/m);
    expect(during).toMatch(/^dkv_transfer_streams\{direction="received"\} 1$/m);
    [incoming, version, dropped] = [[], 3, 42];
    const after = await registry.metrics();
    expect(after).toMatch(/^dkv_layout_version 3$/m);
    expect(after).toMatch(/^dkv_layout_in_transition 0$/m);
    expect(after).toMatch(/^dkv_transfer_partitions_waiting\{why="source_down"\} 0$/m);
    expect(after).toMatch(/^dkv_handover_keys_dropped_total 42$/m);
    expect(after).toMatch(/^dkv_transfer_keys_left 0$/m);
    expect(after).toMatch(/^dkv_transfer_eta_seconds 0$/m);
  });
});
