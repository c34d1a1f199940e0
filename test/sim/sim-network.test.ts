// Goal: the simulated network runs a replica call whose deadline has passed by the time it
// arrives (a delayed message, or one queued at a paused node) no more than production's replica
// stream does (replica-stream-server.ts runCall), so a write's copy never lands after its life
// (limits.ts writeLifeMs), which tombstone reaping waits out; other calls still run late.
// Method: two endpoints on a SimNetwork over a SimScheduler; n2 paused past the deadlines.

import { describe, expect, it } from "vitest";
import { nodeId } from "../../node/core/node-id.js";
import { SeededRandom } from "../../node/core/seeded-random.js";
import { SimNetwork } from "../../scripts/sim/sim-network.js";
import { SimScheduler } from "../../scripts/sim/sim-scheduler.js";
import { SimTrace } from "../../scripts/sim/sim-trace.js";

interface Endpoint {
  ran: string[];
}

describe("SimNetwork", () => {
  it("does not run a late-refused call whose deadline passed before it arrived", async () => {
    const scheduler = new SimScheduler(0, 10_000);
    const network = new SimNetwork<Endpoint>(
      scheduler,
      new SeededRandom(1),
      new SimTrace(scheduler),
    );
    const [n1, n2] = [nodeId("n1"), nodeId("n2")];
    const target: Endpoint = { ran: [] };
    network.attach(n1, 1, { ran: [] });
    network.attach(n2, 1, target);
    network.pause(n2);
    const call = (kind: string, lateRefused: boolean) =>
      network.call({
        from: n1,
        fromIncarnation: 1,
        to: n2,
        kind,
        deadlineMs: 100,
        idempotent: true,
        lateRefused,
        handle: (endpoint) => {
          endpoint.ran.push(kind);
          return Promise.resolve(kind);
        },
      });
    const replies = [call("replica-put", true), call("kv-put", false)];
    scheduler.after(1_000, () => network.resume(n2));
    await scheduler.run({ untilMs: 2_000 });
    const outcomes = await Promise.all(replies);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([false, false]);
    // Both callers had their deadline; only the call that production runs late ran.
    expect(target.ran).toEqual(["kv-put"]);
  });
});
