// The membership metrics read the layout and the transfer loop at scrape time.

import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { registerMembershipMetrics } from "../../../../node/metrics/membership-metrics.js";
import type { IncomingTransfer } from "../../../../node/membership/transfer-loop.js";
import { nodeId } from "../../../../node/core/node-id.js";

describe("membership metrics", () => {
  it("report the layout version, the transition and waiting partitions by why", async () => {
    const registry = new Registry();
    let incoming: IncomingTransfer[] = [
      { partition: 3, waitingFor: [nodeId("n2")], why: "source down: n2" },
      { partition: 5, waitingFor: [nodeId("n1")], why: "comparing" },
      { partition: 9, waitingFor: [nodeId("n2")], why: "source down: n2" },
    ];
    let version = 2;
    let dropped = 0;
    registerMembershipMetrics(registry, {
      layoutVersion: () => version,
      inTransition: () => incoming.length > 0,
      incoming: () => incoming,
      droppedKeys: () => dropped,
    });
    const during = await registry.metrics();
    expect(during).toMatch(/^dkv_layout_version 2$/m);
    expect(during).toMatch(/^dkv_layout_in_transition 1$/m);
    expect(during).toMatch(/^dkv_transfer_partitions_waiting\{why="source_down"\} 2$/m);
    expect(during).toMatch(/^dkv_transfer_partitions_waiting\{why="comparing"\} 1$/m);
    [incoming, version, dropped] = [[], 3, 42];
    const after = await registry.metrics();
    expect(after).toMatch(/^dkv_layout_version 3$/m);
    expect(after).toMatch(/^dkv_layout_in_transition 0$/m);
    expect(after).toMatch(/^dkv_transfer_partitions_waiting\{why="source_down"\} 0$/m);
    expect(after).toMatch(/^dkv_handover_keys_dropped_total 42$/m);
  });
});
