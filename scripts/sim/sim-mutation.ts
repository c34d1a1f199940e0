// Test-only breakage that shows the checker can fail: clients that resolve siblings by
// last-modified time (the LWW control), a replication path that drops a sibling but keeps its
// dot in the context (a broken merge), a disk that acknowledges fsyncs it never did, a KV
// service whose forwarding gives up on a silent primary and answers without writing anywhere
// (the production KvService, run with the "give-up" forwarding policy), and three background
// protocols broken through their production options (default off): a reaper that reaps while a
// member is down (ReapOptions.reapWhileDown), hint delivery that deletes hints before the
// primary's durable acknowledgement (DeliveryOptions.deleteBeforeAck), and anti-entropy that
// repairs only the opening side of a difference (AntiEntropyOptions.repairOneSide).

import type { DvvSet } from "../../node/core/dvv.js";
import {
  DEFAULT_FORWARD_POLICY,
  type ForwardPolicy,
} from "../../coordinator/core/forward-policy.js";
import type { SeededRandom } from "../../node/core/seeded-random.js";
import type { SimStorageFaults } from "./sim-storage.js";
import type { ObjectMangler } from "./sim-transport.js";

/** The mutation modes; "none" is a real run. */
export const MUTATIONS = [
  "none",
  "lww",
  "broken-merge",
  "fsync-lies",
  "forward-gives-up",
  "reap-while-down",
  "hint-early-delete",
  "ae-one-side",
] as const;

/** One mutation mode. */
export type Mutation = (typeof MUTATIONS)[number];

/** True when `value` names a mutation mode. */
export function isMutation(value: string): value is Mutation {
  return (MUTATIONS as readonly string[]).includes(value);
}

/** The cluster-level parts of a mutation (the LWW control lives in the clients). */
export function mutationOf(
  mutation: Mutation,
  random: SeededRandom,
): {
  readonly storageFaults: SimStorageFaults;
  readonly mangle: ObjectMangler | undefined;
  readonly forwardPolicy: ForwardPolicy;
  readonly breakage: BackgroundBreakage;
} {
  return {
    storageFaults: { fsyncLies: mutation === "fsync-lies" },
    mangle: mutation === "broken-merge" ? dropOneSibling(random) : undefined,
    forwardPolicy:
      mutation === "forward-gives-up"
        ? { ...DEFAULT_FORWARD_POLICY, silentCandidate: "give-up" }
        : DEFAULT_FORWARD_POLICY,
    breakage: {
      reapWhileDown: mutation === "reap-while-down",
      deleteBeforeAck: mutation === "hint-early-delete",
      repairOneSide: mutation === "ae-one-side",
    },
  };
}

/** The test-only options of the background protocols a mutation turns on. */
export interface BackgroundBreakage {
  readonly reapWhileDown: boolean;
  readonly deleteBeforeAck: boolean;
  readonly repairOneSide: boolean;
}

/**
 * A merge gone wrong: now and then an object sent to a replica loses its oldest sibling while
 * its context still covers that sibling's dot, so every replica it reaches drops the write.
 */
function dropOneSibling(random: SeededRandom): ObjectMangler {
  return (object: DvvSet): DvvSet => {
    if (object.siblings.length < 2 || !random.chance(0.3)) return object;
    return { context: object.context, siblings: object.siblings.slice(1) };
  };
}
