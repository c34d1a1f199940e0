// Gossip of the cluster metadata: a node that hears another digest exchanges metadata with that
// peer (push-pull), after which both hold the merge; exchanges run one at a time per peer; an
// unreadable or failed exchange changes nothing.

import { describe, expect, it } from "vitest";
import { MetadataStore } from "../../../../node/membership/metadata-store.js";
import { MetadataGossip, answerExchange } from "../../../../node/membership/metadata-gossip.js";
import { initialMetadata } from "../../../../node/core/layout.js";
import { stageChange } from "../../../../node/core/layout-merge.js";
import { nodeId } from "../../../../node/core/node-id.js";
import { silentLogger } from "../../../../node/logger.js";
import { ManualClock, settle } from "../manual-clock.js";

const [n1, n2, n3] = [nodeId("n1"), nodeId("n2"), nodeId("n3")];
const start = initialMetadata({
  members: [n1, n2, n3].map((node, index) => ({ node, address: `127.0.0.1:${7001 + index}` })),
  partitionCount: 8,
  targetN: 3,
});

describe("MetadataGossip", () => {
  it("brings two nodes to the same metadata with one push-pull exchange", async () => {
    const a = MetadataStore.inMemory(start);
    const b = MetadataStore.inMemory(start);
    await a.update((m) => stageChange(m, { kind: "leave", node: n3 }));
    expect(a.digest).not.toBe(b.digest);
    let calls = 0;
    const gossip = new MetadataGossip({
      store: b,
      exchange: async (_node, json) => {
        calls += 1;
        return answerExchange(a, json);
      },
      clock: new ManualClock(),
      logger: silentLogger(),
    });
    gossip.differs(n1);
    gossip.differs(n1); // one exchange at a time per peer
    await settle();
    expect(calls).toBe(1);
    expect(b.digest).toBe(a.digest);
    expect(b.current.staged.changes).toEqual([{ kind: "leave", node: n3 }]);
    expect(gossip.stats).toEqual({ exchanges: 1, failures: 0 });
  });

  it("keeps its metadata when the peer's answer is unreadable or the call fails", async () => {
    const b = MetadataStore.inMemory(start);
    const before = b.digest;
    let answer: () => Promise<string> = async () => "{not json";
    const gossip = new MetadataGossip({
      store: b,
      exchange: () => answer(),
      clock: new ManualClock(),
      logger: silentLogger(),
    });
    gossip.differs(n2);
    await settle();
    answer = async () => Promise.reject(new Error("connection refused"));
    gossip.differs(n2);
    await settle();
    expect(b.digest).toBe(before);
    expect(gossip.stats).toEqual({ exchanges: 0, failures: 2 });
  });
});
