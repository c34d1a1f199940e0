// Prometheus metrics of membership: the layout version a node follows, whether a change is
// moving data, the partitions this node gains by state and those that wait by why, the keys and
// bytes its streams have still to receive and their ETA, the streams' keys and bytes both ways, and the keys it dropped after handing partitions over. Read at
// scrape time from the transfer loop, its streams and the drop loop.

import { Counter, Gauge, type Registry } from "prom-client";
import type { IncomingTransfer } from "../membership/transfer-loop.js";

/** What the membership metrics read. */
export interface MembershipMetricSources {
  layoutVersion(): number;
  inTransition(): boolean;
  incoming(): readonly IncomingTransfer[];
  /** Keys dropped so far after handing partitions over. */
  droppedKeys(): number;
  /** The partition streams: received by this node, and sent by it. */
  streams?(): Readonly<Record<"received" | "sent", TransferTotals>>;
}

/** Totals of one direction of the partition streams. */
export interface TransferTotals {
  readonly keys: number;
  readonly bytes: number;
  /** Streams running now. */
  readonly active: number;
}

/** The why label of a waiting partition; undefined while it moves. */
export function whyLabel(why: string): string | undefined {
  if (why === "") return undefined;
  for (const [prefix, label] of [
    ["source down", "source_down"],
    ["source busy", "source_busy"],
    ["transfer limit", "transfer_limit"],
    ["throttled", "throttled"],
    ["overloaded", "overloaded"],
  ] as const) {
    if (why.startsWith(prefix)) return label;
  }
  return why.endsWith("confirms it") ? "confirmation" : "other";
}

const WHY_LABELS = [
  "source_down",
  "source_busy",
  "transfer_limit",
  "throttled",
  "overloaded",
  "confirmation",
  "other",
];

/** Registers the membership metrics on `registry`. */
export function registerMembershipMetrics(
  registry: Registry,
  sources: MembershipMetricSources,
): void {
  new Gauge({
    name: "dkv_layout_version",
    help: "The cluster layout version this node follows",
    registers: [registry],
    collect() {
      this.set(sources.layoutVersion());
    },
  });
  new Gauge({
    name: "dkv_layout_in_transition",
    help: "1 while a membership change moves data to new owners, else 0",
    registers: [registry],
    collect() {
      this.set(sources.inTransition() ? 1 : 0);
    },
  });
  new Gauge({
    name: "dkv_transfer_partitions",
    help: "Partitions this node gains in the change under way, by state",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map(["queued", "streaming", "confirming", "received"].map((k) => [k, 0]));
      for (const transfer of sources.incoming()) {
        counts.set(transfer.state, (counts.get(transfer.state) ?? 0) + 1);
      }
      for (const [state, count] of counts) this.labels(state).set(count);
    },
  });
  new Gauge({
    name: "dkv_transfer_partitions_waiting",
    help: "Partitions this node gains that wait, by why (source down, busy, transfer limit, ...)",
    labelNames: ["why"],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map(WHY_LABELS.map((label) => [label, 0]));
      for (const transfer of sources.incoming()) {
        const label = whyLabel(transfer.why);
        if (label !== undefined) counts.set(label, (counts.get(label) ?? 0) + 1);
      }
      for (const [why, count] of counts) this.labels(why).set(count);
    },
  });
  const streamSum = (
    pick: (stream: NonNullable<IncomingTransfer["stream"]>) => number,
    combine: (a: number, b: number) => number,
  ) =>
    function (this: Gauge): void {
      let value = 0;
      for (const { stream } of sources.incoming()) {
        if (stream !== undefined) value = combine(value, pick(stream));
      }
      this.set(value);
    };
  new Gauge({
    name: "dkv_transfer_keys_left",
    help: "Keys the sources still have to send for the partitions this node streams, as of their last batch (queued partitions not counted)",
    registers: [registry],
    collect: streamSum(
      (stream) => stream.keysLeft,
      (a, b) => a + b,
    ),
  });
  new Gauge({
    name: "dkv_transfer_bytes_left",
    help: "Bytes still to come for the partitions this node streams, estimated from the mean size of what arrived",
    registers: [registry],
    collect: streamSum(
      (stream) => stream.bytesLeft,
      (a, b) => a + b,
    ),
  });
  new Gauge({
    name: "dkv_transfer_eta_seconds",
    help: "The longest time left of this node's partition streams at their current rates (0 when none is known)",
    registers: [registry],
    collect: streamSum((stream) => (stream.etaMs ?? 0) / 1000, Math.max),
  });
  const totals = (pick: (totals: TransferTotals) => number) =>
    function (this: Counter<"direction"> | Gauge<"direction">): void {
      this.reset();
      const streams = sources.streams?.();
      if (streams === undefined) return;
      for (const direction of ["received", "sent"] as const) {
        const value = pick(streams[direction]);
        if (this instanceof Counter) this.labels(direction).inc(value);
        else this.labels(direction).set(value);
      }
    };
  new Counter({
    name: "dkv_transfer_keys_total",
    help: "Keys the partition streams of membership changes received and sent",
    labelNames: ["direction"],
    registers: [registry],
    collect: totals((t) => t.keys),
  });
  new Counter({
    name: "dkv_transfer_bytes_total",
    help: "Object bytes the partition streams of membership changes received and sent",
    labelNames: ["direction"],
    registers: [registry],
    collect: totals((t) => t.bytes),
  });
  new Gauge({
    name: "dkv_transfer_streams",
    help: "Partition streams running now (at most --transfers-max each way)",
    labelNames: ["direction"],
    registers: [registry],
    collect: totals((t) => t.active),
  });
  new Counter({
    name: "dkv_handover_keys_dropped_total",
    help: "Local copies removed after their partitions were handed over to new owners",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.droppedKeys());
    },
  });
}
