// Goal: the heartbeat loop on virtual time: it pings each peer once per heartbeat interval from
// one interval after start, with a deadline on the wall clock; a peer that falls silent is
// convicted by phi within the documented ~3.1 s and comes back with its next answer; a refusal
// convicts at once; a stall of this process is nobody's silence; stop() ends the timers.
// Method: a real MemberView and HeartbeatLoop with the default detector settings, a fake
// PingPort whose peers answer as each test says, and a ManualClock.

import { describe, expect, it } from "vitest";
import { HeartbeatLoop, type PingReply } from "../../../../node/membership/heartbeat-loop.js";
import { MemberView, type PeerTransition } from "../../../../node/membership/member-view.js";
import { failureDetectorOptions } from "../../../../node/membership/failure-detector-options.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { silentLogger } from "../../../../node/logger.js";
import { ManualClock } from "../manual-clock.js";

const n1 = nodeId("n1");
const n2 = nodeId("n2");

/** How the peer answers: at once, after some ms, never (silent at the deadline), or refused. */
type Behaviour = { readonly answerAfterMs: number } | "silent" | "refused";

function setup() {
  const clock = new ManualClock();
  const options = failureDetectorOptions({});
  const members = new MemberView(n1, [n2], options, clock.monotonicMs());
  const pings: { node: NodeId; atMs: number; deadlineMs: number }[] = [];
  const transitions: PeerTransition[] = [];
  let behaviour: Behaviour = { answerAfterMs: 1 };
  const loop = new HeartbeatLoop({
    members,
    clock,
    options,
    logger: silentLogger(),
    onTransition: (transition) => transitions.push(transition),
    port: {
      ping(node, deadlineMs) {
        pings.push({ node, atMs: clock.monotonicMs(), deadlineMs });
        const now = behaviour;
        if (now === "refused") {
          return Promise.resolve({ kind: "refused", reason: "connection refused" });
        }
        return new Promise<PingReply>((resolve) => {
          if (now === "silent") {
            clock.setTimer(deadlineMs - clock.nowMs(), () =>
              resolve({ kind: "silent", reason: "deadline exceeded" }),
            );
          } else {
            clock.setTimer(now.answerAfterMs, () => resolve({ kind: "answered" }));
          }
        });
      },
    },
  });
  const behave = (next: Behaviour): void => {
    behaviour = next;
  };
  return { clock, options, members, loop, pings, transitions, behave };
}

describe("HeartbeatLoop", () => {
  it("pings each peer once per heartbeat interval from one interval after start", async () => {
    const { clock, options, loop, pings } = setup();
    loop.start();
    await clock.advance(options.heartbeatIntervalMs - 1);
    expect(pings).toEqual([]);
    await clock.advance(1);
    expect(pings).toEqual([
      { node: n2, atMs: 500, deadlineMs: clock.nowMs() + options.pingTimeoutMs },
    ]);
    await clock.advance(2000);
    expect(pings.map((ping) => ping.atMs)).toEqual([500, 1000, 1500, 2000, 2500]);
  });

  it("convicts a peer that falls silent within ~3.1 s, and brings it back on its next answer", async () => {
    const { clock, members, loop, transitions, behave } = setup();
    loop.start();
    await clock.advance(10_000);
    expect(members.isUp(n2)).toBe(true);
    behave("silent");
    const silentFromMs = clock.monotonicMs();
    while (members.isUp(n2) && clock.monotonicMs() - silentFromMs < 10_000) {
      await clock.advance(100);
    }
    const convictedAfterMs = clock.monotonicMs() - silentFromMs;
    expect(convictedAfterMs).toBeGreaterThan(2_000);
    expect(convictedAfterMs).toBeLessThanOrEqual(3_500);
    expect(transitions).toMatchObject([{ node: n2, state: "down" }]);
    expect(transitions[0]?.reason).toMatch(/^phi \d+\.\d ≥ 8$/);

    // Its silent ping ends at the 10 s deadline; the next one is answered.
    behave({ answerAfterMs: 1 });
    await clock.advance(11_000);
    expect(members.isUp(n2)).toBe(true);
    expect(transitions.map((transition) => transition.state)).toEqual(["down", "up"]);
  });

  it("convicts at once when a peer that answered before refuses", async () => {
    const { clock, members, loop, transitions, behave } = setup();
    loop.start();
    await clock.advance(1000);
    behave("refused");
    await clock.advance(500);
    expect(members.isUp(n2)).toBe(false);
    expect(transitions).toMatchObject([{ state: "down", reason: "connection refused" }]);
  });

  it("does not count a stall of its own process as the peer's silence", async () => {
    const { clock, members, loop, transitions, behave } = setup();
    loop.start();
    await clock.advance(10_000);
    // Answers take 50 ms: after the stall, phi is evaluated before the next answer arrives.
    // The stall starts between pings (the one at 11 000 was answered at 11 050).
    behave({ answerAfterMs: 50 });
    await clock.advance(1_100);
    clock.stall(20_000);
    await clock.advance(0);
    expect(members.isUp(n2)).toBe(true);
    await clock.advance(5_000);
    expect(transitions).toEqual([]);
  });

  it("sets no timer after stop()", async () => {
    const { clock, loop, pings } = setup();
    loop.start();
    await clock.advance(1000);
    loop.stop();
    const sent = pings.length;
    await clock.advance(60_000);
    expect(pings).toHaveLength(sent);
    expect(clock.pendingTimers).toBe(0);
  });
});
