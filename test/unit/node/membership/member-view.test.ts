// Goal: the member view decides up/down as DESIGN.md §5 says: phi past the threshold convicts,
// a refused connection convicts at once, one answered ping brings a peer back, and upNodes()
// always holds this node plus exactly the peers believed up.

import { describe, expect, it } from "vitest";
import { MemberView } from "../../../../node/membership/member-view.js";
import { failureDetectorOptions } from "../../../../node/membership/failure-detector-options.js";
import type { NodeId } from "../../../../node/core/node-id.js";

const n1 = "n1" as NodeId;
const n2 = "n2" as NodeId;
const n3 = "n3" as NodeId;
const OPTIONS = failureDetectorOptions();

/** A view of n1 whose peers answered every 500 ms until `lastMs`. */
function steady(untilMs = 10_000): MemberView {
  const view = new MemberView(n1, [n1, n2, n3], OPTIONS, 0);
  for (let nowMs = 500; nowMs <= untilMs; nowMs += 500) {
    view.heartbeat(n2, nowMs, 1);
    view.heartbeat(n3, nowMs, 1);
  }
  return view;
}

function names(set: ReadonlySet<NodeId>): string[] {
  return [...set].sort();
}

describe("MemberView", () => {
  it("starts with every member up, this node included", () => {
    const view = new MemberView(n1, [n1, n2, n3], OPTIONS, 0);
    expect(names(view.upNodes())).toEqual(["n1", "n2", "n3"]);
    expect(view.peers()).toEqual(["n2", "n3"]);
  });

  it("convicts a silent peer once phi reaches the threshold, and only it", () => {
    const view = steady();
    for (let nowMs = 10_500; nowMs <= 13_500; nowMs += 500) view.heartbeat(n3, nowMs, 1);
    // Defaults: 500 + 1500 + 5.61 × 200 ≈ 3122 ms of silence.
    expect(view.check(10_000 + 3000)).toEqual([]);
    const transitions = view.check(10_000 + 3300);
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ node: "n2", state: "down" });
    expect(transitions[0]?.phi).toBeGreaterThanOrEqual(8);
    expect(transitions[0]?.reason).toMatch(/^phi \d+\.\d ≥ 8$/);
    expect(transitions[0]?.elapsedMs).toBe(3300);
    expect(names(view.upNodes())).toEqual(["n1", "n3"]);
  });

  it("does not convict within the acceptable pause", () => {
    const view = steady();
    expect(view.check(10_000 + 2000)).toEqual([]);
    expect(view.report(n2, 12_000).phi).toBeLessThan(0.5);
  });

  it("reports a transition once, not at every check", () => {
    const view = steady();
    expect(view.check(20_000)).toHaveLength(2);
    expect(view.check(21_000)).toEqual([]);
  });

  it("marks a refused peer down at once, and reports only the first refusal", () => {
    const view = steady();
    const transition = view.refused(n2, "connection refused", 10_100);
    expect(transition).toMatchObject({ node: "n2", state: "down", reason: "connection refused" });
    expect(view.refused(n2, "connection refused", 10_200)).toBeUndefined();
    expect(view.isUp(n2)).toBe(false);
    expect(view.report(n2, 10_200)).toMatchObject({ state: "down", reason: "connection refused" });
  });

  it("cuts off a peer at once even before it first answered, and brings it back on a ping", () => {
    const view = new MemberView(n1, [n1, n2, n3], OPTIONS, 0);
    const transition = view.cutOff(n2, "traffic to n2 is dropped by fault injection", 50);
    expect(transition).toMatchObject({ node: "n2", state: "down" });
    expect(names(view.upNodes())).toEqual(["n1", "n3"]);
    expect(view.cutOff(n2, "still dropped", 60)).toBeUndefined();
    expect(view.report(n2, 60).reason).toBe("still dropped");
    expect(view.heartbeat(n2, 700, 1)).toMatchObject({ node: "n2", state: "up" });
    expect(names(view.upNodes())).toEqual(["n1", "n2", "n3"]);
  });

  it("leaves refusals of a peer that never answered to phi: it may still be starting", () => {
    const view = new MemberView(n1, [n1, n2], OPTIONS, 0);
    expect(view.refused(n2, "connection refused", 600)).toBeUndefined();
    expect(view.isUp(n2)).toBe(true);
    const [transition] = view.check(3300);
    expect(transition?.reason).toMatch(/^phi \d+\.\d ≥ 8, never answered \(connection refused\)$/);
  });

  it("brings a peer back up on its first answered ping, with the phi it had", () => {
    const view = steady();
    view.check(20_000);
    const transition = view.heartbeat(n2, 25_000, 3);
    expect(transition).toMatchObject({ node: "n2", state: "up", reason: "heartbeats resumed" });
    expect(transition?.phi).toBeGreaterThan(8);
    expect(transition?.elapsedMs).toBe(5000);
    expect(view.isUp(n2)).toBe(true);
    expect(view.report(n2, 25_000)).toMatchObject({ state: "up", reason: "", roundTripMs: 3 });
  });

  it("does not learn the outage as an interval (detection stays as fast after it)", () => {
    const view = steady();
    view.check(30_000);
    view.heartbeat(n2, 30_000, 1);
    for (let nowMs = 30_500; nowMs <= 35_000; nowMs += 500) view.heartbeat(n2, nowMs, 1);
    expect(view.check(35_000 + 3800).map((t) => t.node)).toContain("n2");
  });

  it("convicts a peer that never answers after the usual silence", () => {
    const view = new MemberView(n1, [n1, n2], OPTIONS, 0);
    expect(view.check(2000)).toEqual([]);
    expect(view.check(5000).map((t) => t.node)).toEqual(["n2"]);
  });

  it("keeps a peer whose requests keep coming up, even while its pings go unanswered", () => {
    const view = steady();
    for (let nowMs = 10_100; nowMs <= 20_000; nowMs += 100) view.heardFrom(n2, nowMs);
    expect(view.check(20_000).map((t) => t.node)).toEqual(["n3"]);
  });

  it("does not bring a down peer up on its requests, only on an answered ping", () => {
    const view = steady();
    view.refused(n2, "connection refused", 10_100);
    view.heardFrom(n2, 10_200);
    expect(view.isUp(n2)).toBe(false);
  });

  it("does not count this process's stalls as the peers' silence", () => {
    const view = steady();
    view.localStall(3000, 13_500);
    expect(view.check(13_500)).toEqual([]);
    expect(view.report(n2, 13_500).silenceMs).toBe(500);
  });

  it("keeps the same upNodes() object until a transition", () => {
    const view = steady();
    const before = view.upNodes();
    view.heartbeat(n2, 10_500, 1);
    expect(view.upNodes()).toBe(before);
    view.refused(n2, "connection refused", 10_600);
    expect(view.upNodes()).not.toBe(before);
  });

  it("refuses to talk about a node that is not a peer", () => {
    const view = steady();
    expect(() => view.heartbeat("n9" as NodeId, 1, 1)).toThrow(/n9 is not a peer of n1/);
  });
});

describe("failureDetectorOptions()", () => {
  it("defaults to 500 ms heartbeats and phi 8", () => {
    expect(OPTIONS).toMatchObject({ heartbeatIntervalMs: 500, phiThreshold: 8 });
  });

  it("makes the first interval estimate follow the heartbeat interval", () => {
    expect(failureDetectorOptions({ heartbeatIntervalMs: 200 }).firstIntervalMsEstimate).toBe(200);
  });

  it.each([
    [{ phiThreshold: 0 }, /phiThreshold must be a number from 1 to 50, got 0/],
    [{ heartbeatIntervalMs: Number.NaN }, /heartbeatIntervalMs/],
    [{ pingTimeoutMs: 1 }, /pingTimeoutMs/],
  ])("refuses %o", (override, message) => {
    expect(() => failureDetectorOptions(override)).toThrow(message);
  });
});
