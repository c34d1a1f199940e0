// Goal: the coordinator's cached preference lists equal a fresh computation for the view's
// current up set, and a new up set (a peer down or back) is seen at once.
// Method: a Coordinator over a fake view whose up set the test replaces, compared with the pure
// preferenceList for every partition.

import { describe, expect, it } from "vitest";
import { Coordinator, type CoordinatorView } from "../../../coordinator/coordinator.js";
import { preferenceList } from "../../../coordinator/core/preference-list.js";
import { partitionOfKey } from "../../../node/core/key-hash.js";
import { DEFAULT_LIMITS } from "../../../node/core/limits.js";
import { nodeId, type NodeId } from "../../../node/core/node-id.js";
import { claimRing } from "../../../node/core/ring.js";
import { createLogger } from "../../../node/logger.js";
import { Replica } from "../../../node/replica.js";
import { MemoryStorage } from "../../../node/storage/memory-storage.js";
import type { ReplicaTransport } from "../../../coordinator/replica-transport.js";

const nodes = ["n1", "n2", "n3", "n4", "n5"].map(nodeId);
const ring = claimRing({ nodes, partitionCount: 16, targetN: 3 });

class FakeView implements CoordinatorView {
  readonly self = nodes[0]!;
  readonly ring = ring;
  up: ReadonlySet<NodeId> = new Set(nodes);
  upNodes(): ReadonlySet<NodeId> {
    return this.up;
  }
}

function coordinatorOver(view: FakeView): Coordinator {
  return new Coordinator({
    view,
    replica: new Replica(new MemoryStorage(), "n1.test"),
    transport: {} as ReplicaTransport,
    limits: DEFAULT_LIMITS,
    logger: createLogger({ node: "n1", level: "silent" }),
  });
}

describe("Coordinator.preferenceList", () => {
  it("answers as the pure function for the current up set, before and after it changes", () => {
    const view = new FakeView();
    const coordinator = coordinatorOver(view);
    const keys = Array.from({ length: 200 }, (_, index) => new TextEncoder().encode(`k${index}`));
    const check = (): void => {
      for (const key of keys) {
        const partition = partitionOfKey("b", key, ring.partitionCount);
        for (const sloppy of [true, false]) {
          for (const n of [1, 3, 5]) {
            const expected = preferenceList(ring, view.up, partition, n, { sloppy });
            expect(coordinator.preferenceList("b", key, n, sloppy)).toEqual(expected);
          }
        }
      }
    };
    check();
    const cached = coordinator.preferenceList("b", keys[0]!, 3);
    expect(coordinator.preferenceList("b", keys[0]!, 3)).toBe(cached);
    view.up = new Set(nodes.filter((node) => node !== nodes[1] && node !== nodes[2]));
    check();
    view.up = new Set(nodes);
    check();
  });
});
