// Prometheus metrics of membership: the layout version a node follows, whether a change is
// moving data, the partitions this node still waits for (by why), and the keys it dropped after
// handing partitions over. Read at scrape time from the transfer and drop loops.

import { Counter, Gauge, type Registry } from "prom-client";
import type { IncomingTransfer } from "../membership/transfer-loop.js";

/** What the membership metrics read. */
export interface MembershipMetricSources {
  layoutVersion(): number;
  inTransition(): boolean;
  incoming(): readonly IncomingTransfer[];
  /** Keys dropped so far after handing partitions over. */
  droppedKeys(): number;
}

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
    name: "dkv_transfer_partitions_waiting",
    help: "Partitions this node gains and has not confirmed yet, by why they wait",
    labelNames: ["why"],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>([
        ["source_down", 0],
        ["comparing", 0],
      ]);
      for (const transfer of sources.incoming()) {
        const why = transfer.why.startsWith("source down") ? "source_down" : "comparing";
        counts.set(why, (counts.get(why) ?? 0) + 1);
      }
      for (const [why, count] of counts) this.labels(why).set(count);
    },
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
