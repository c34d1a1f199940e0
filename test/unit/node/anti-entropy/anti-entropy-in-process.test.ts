// Goal: AntiEntropy runs with no socket and no real time, as the deterministic simulation runs
// it: built from a view, an ExchangeOpener, a ReapPort and a Clock, its schedule rebuilds the
// trees, exchanges and reaps on virtual time; it skips a peer it believes down, and reaps
// nothing while a member is down.
// Method: two nodes in one process on one ManualClock; the opener carries each exchange to the
// peer's answerer through the real protobuf encoding, the reap port calls the peer's reaper.

import { describe, expect, it } from "vitest";
import { AntiEntropy } from "../../../../node/anti-entropy/anti-entropy.js";
import type { ExchangeOpener } from "../../../../node/anti-entropy/exchange-tally.js";
import type { ReapPort } from "../../../../node/anti-entropy/tombstone-reaper.js";
import { claimRing } from "../../../../node/core/ring.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { join } from "../../../../node/core/dvv.js";
import { EMPTY_CONTEXT, type CausalContext } from "../../../../node/core/causal-context.js";
import { Replica } from "../../../../node/replica.js";
import { MemoryStorage } from "../../../../node/storage/memory-storage.js";
import { silentLogger } from "../../../../node/logger.js";
import { directPort } from "./aae-test-helpers.js";
import { ManualClock } from "../manual-clock.js";

const encoder = new TextEncoder();
const n1 = nodeId("n1");
const n2 = nodeId("n2");
const INTERVAL_MS = 10_000;
const REAP_INTERVAL_MS = 5_000;
const GRACE_MS = 3_000;

interface TestNode {
  readonly self: NodeId;
  readonly replica: Replica;
  readonly antiEntropy: AntiEntropy;
  readonly up: Set<NodeId>;
  readonly opened: NodeId[];
}

async function pair() {
  const clock = new ManualClock();
  const ring = claimRing({ nodes: [n1, n2], partitionCount: 8, targetN: 2 });
  const nodes = new Map<NodeId, TestNode>();
  for (const self of [n1, n2]) {
    const storage = new MemoryStorage();
    await storage.open();
    const replica = new Replica(storage, `${self}.t`, undefined, { clock });
    const up = new Set([n1, n2]);
    const opened: NodeId[] = [];
    const exchanges: ExchangeOpener = {
      open(peer) {
        opened.push(peer);
        return { ...directPort(nodes.get(peer)!.antiEntropy.answerer, self), close() {} };
      },
    };
    const reaps: ReapPort = {
      standing: async () => ({ hintsPending: 0, layoutVersion: 1 }),
      reap: async (peer, request) =>
        (await nodes.get(peer)!.antiEntropy.reaper.answer(request)).equal,
    };
    const antiEntropy = new AntiEntropy({
      view: { self, ring, upNodes: () => up, droppedPeers: () => [] },
      replica,
      primariesOf: () => [n1, n2],
      logger: silentLogger(),
      exchanges,
      reaps,
      clock,
      hints: { targets: () => [], totals: () => ({ count: 0, bytes: 0 }) },
      options: { intervalMs: INTERVAL_MS, confirmDelayMs: 100 },
      reap: { graceMs: GRACE_MS, intervalMs: REAP_INTERVAL_MS, heldMsMin: GRACE_MS },
    });
    replica.onWrite(antiEntropy.writeListener);
    replica.onRemove(antiEntropy.removeListener);
    nodes.set(self, { self, replica, antiEntropy, up, opened });
  }
  const write = async (at: NodeId, key: string, context: CausalContext, deleted = false) => {
    const version = {
      value: encoder.encode(deleted ? "" : "v"),
      contentType: "",
      metadata: {},
      lastModifiedMs: clock.nowMs(),
      deleted,
    };
    const accept = { durable: false, check: () => undefined };
    return (
      await nodes.get(at)!.replica.coordinate("b", encoder.encode(key), context, version, accept)
    ).object;
  };
  const holds = async (at: NodeId, key: string): Promise<boolean> =>
    (await nodes.get(at)!.replica.get("b", encoder.encode(key))) !== undefined;
  return { clock, node: (self: NodeId) => nodes.get(self)!, write, holds };
}

describe("AntiEntropy without sockets", () => {
  it("rebuilds, exchanges and reaps on its schedule, on the injected clock", async () => {
    const { clock, node, write, holds } = await pair();
    for (let index = 0; index < 20; index++) await write(n1, `k${index}`, EMPTY_CONTEXT);
    node(n1).antiEntropy.start();
    node(n2).antiEntropy.start();
    // Trees are rebuilt in the background, then the first exchange opens at once.
    await clock.advance(1_000);
    expect(node(n1).antiEntropy.trees.ready).toBe(true);
    expect(await holds(n2, "k7")).toBe(true);
    expect(node(n1).antiEntropy.stats.counters).toMatchObject({ exchanges: 1, keysRepaired: 20 });

    // A delete at n1 reaches n2 with the next exchange; after its grace, the reaper removes it.
    const live = (await node(n1).replica.get("b", encoder.encode("k3")))!;
    await write(n1, "k3", join(live), true);
    await clock.advance(INTERVAL_MS);
    expect(await holds(n2, "k3")).toBe(true);
    await clock.advance(GRACE_MS + REAP_INTERVAL_MS);
    expect(await holds(n1, "k3")).toBe(false);
    expect(await holds(n2, "k3")).toBe(false);

    await node(n1).antiEntropy.close();
    await node(n2).antiEntropy.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it("skips an exchange with a peer it believes down, opening nothing", async () => {
    const { node } = await pair();
    node(n1).antiEntropy.trees.markReady();
    node(n1).up.delete(n2);
    expect(await node(n1).antiEntropy.exchangeWith(n2)).toBeUndefined();
    expect(node(n1).opened).toEqual([]);
    expect(node(n1).antiEntropy.stats.counters.exchangesSkipped).toBe(1);
  });

  it("reaps nothing while a member is down", async () => {
    const { clock, node, write, holds } = await pair();
    const live = await write(n1, "k", EMPTY_CONTEXT);
    const dead = await write(n1, "k", join(live), true);
    await node(n2).replica.merge("b", encoder.encode("k"), dead, { durable: false });
    node(n1).up.delete(n2);
    node(n1).antiEntropy.start();
    await clock.advance(GRACE_MS + 4 * REAP_INTERVAL_MS);
    expect(node(n1).antiEntropy.reaper.blocked).toBe("members down: n2");
    expect(await holds(n1, "k")).toBe(true);
    expect(await holds(n2, "k")).toBe(true);
    await node(n1).antiEntropy.close();
  });
});
