// Goal: `dkv status` shows each partition coming to the node asked, as `dkv cluster transfers`
// does: from, to, state, keys and bytes done and left, rate, ETA, and why it waits.

import { describe, expect, it } from "vitest";
import { incomingLine } from "../../../cli/commands/cluster-transfers.js";
import type { IncomingTransfer__Output } from "../../../proto/generated/dkv/v1/IncomingTransfer.js";

const transfer = (overrides: Partial<IncomingTransfer__Output>): IncomingTransfer__Output => ({
  partition: 3,
  waiting_for: [],
  why: "",
  state: "streaming",
  source: "n1",
  keys_done: 120,
  bytes_done: 120 * 1024,
  keys_left: 80,
  bytes_left: 80 * 1024,
  bytes_per_second: 12 * 1024,
  eta_ms: 7000,
  ...overrides,
});

describe("incomingLine", () => {
  it("shows a stream under way with its progress, rate and ETA", () => {
    expect(incomingLine("n4", transfer({}))).toBe(
      "partition 3 to n4 from n1: streaming, 120 keys done, 80 left, 120.0 KiB / ~80.0 KiB left, 12.0 KiB/s, ETA 7s",
    );
  });

  it("says whom a partition is confirmed with, and why it waits", () => {
    const line = incomingLine(
      "n4",
      transfer({
        state: "confirming",
        waiting_for: ["n3"],
        why: "source down: n3",
        bytes_per_second: 0,
        eta_ms: 0,
        keys_left: 0,
        bytes_left: 0,
      }),
    );
    expect(line).toBe(
      "partition 3 to n4 from n1: confirming with n3, 120 keys done, 0 left, 120.0 KiB / ~0 B left; waits: source down: n3",
    );
  });
});
