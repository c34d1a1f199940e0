// The claimant's messaging: a forwarded call carries the forwarding header and the sooner of
// the caller's deadline and the forward bound; the claimant's refusals come back unchanged, and
// an unreachable or silent claimant is named. A commit push merges every answer and tells which
// members held another layout of the committed version.

import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import {
  CLAIMANT_FORWARD_TIMEOUT_MS,
  FORWARDED_HEADER,
  forwardToClaimant,
  pushCommit,
  type ClaimantPeers,
} from "../../../../node/membership/claimant-calls.js";
import { KvError } from "../../../../node/core/errors.js";
import { initialMetadata } from "../../../../node/core/layout.js";
import { layoutDigest } from "../../../../node/core/layout-codec.js";
import { commitStaged, compareLayouts, stageChange } from "../../../../node/core/layout-merge.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { silentLogger } from "../../../../node/logger.js";
import { MetadataStore } from "../../../../node/membership/metadata-store.js";
import { answerExchange } from "../../../../node/membership/metadata-gossip.js";
import type { PeerClients } from "../../../../node/peer-clients.js";
import { ManualClock } from "../manual-clock.js";

const [n1, n2, n3] = [nodeId("n1"), nodeId("n2"), nodeId("n3")];
const start = initialMetadata({
  members: [n1, n2, n3].map((node, index) => ({ node, address: `127.0.0.1:${7001 + index}` })),
  partitionCount: 8,
  targetN: 3,
});

type Done = (error: grpc.ServiceError | null, reply?: { ok: true }) => void;
type ExchangeDone = (error: grpc.ServiceError | null, reply?: { metadata_json: string }) => void;

/** Peers seen from n2 whose clients are `membership` (one object for every peer). */
function peersWith(membership: object | undefined, up: readonly NodeId[] = [n1, n2, n3]) {
  const peers: ClaimantPeers = {
    self: n2,
    peer: (node) =>
      membership === undefined || node === n2
        ? undefined
        : ({ node, membership } as unknown as PeerClients),
    unreachableReason: (node) => `traffic to ${node} is dropped by fault injection`,
    upNodes: () => new Set(up),
    isMember: (node) => [n1, n2, n3].includes(node as NodeId),
  };
  return peers;
}

function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** Forwards one call to n1 through a claimant that answers `answer`. */
function forwardAnswered(answer: (done: Done) => void, callerDeadline: grpc.Deadline = Infinity) {
  const seen: { metadata?: grpc.Metadata; options?: grpc.CallOptions } = {};
  const client = {};
  const promise = forwardToClaimant<{ ok: true }>({
    peers: peersWith(client),
    clock: new ManualClock(),
    claimant: n1,
    address: "127.0.0.1:7001",
    callerDeadline,
    call: (_client, metadata, options, done) => {
      Object.assign(seen, { metadata, options });
      answer(done);
    },
  });
  return { promise, seen };
}

describe("forwardToClaimant", () => {
  it("marks the call forwarded by this node and bounds its deadline", async () => {
    const clock = new ManualClock();
    const now = clock.nowMs();
    const { promise, seen } = forwardAnswered((done) => done(null, { ok: true }));
    await expect(promise).resolves.toEqual({ ok: true });
    expect(seen.metadata?.get(FORWARDED_HEADER)).toEqual(["n2"]);
    expect(seen.options?.deadline).toBe(now + CLAIMANT_FORWARD_TIMEOUT_MS);
    const sooner = forwardAnswered((done) => done(null, { ok: true }), new Date(now + 1500));
    await sooner.promise;
    expect(sooner.seen.options?.deadline).toBe(now + 1500);
  });

  it.each([
    [grpc.status.FAILED_PRECONDITION, "precondition-failed", /^nothing is staged to commit$/],
    [grpc.status.INVALID_ARGUMENT, "invalid-argument", /^nothing is staged to commit$/],
    [grpc.status.UNAVAILABLE, "unavailable", /^claimant n1 \(127\.0\.0\.1:7001\) is unreachable/],
    [grpc.status.CANCELLED, "unavailable", /^claimant n1 \(127\.0\.0\.1:7001\) is unreachable/],
    [grpc.status.DEADLINE_EXCEEDED, "timeout", /^claimant n1 .*did not answer in time.*may still/],
  ] as const)("turns the claimant's status %s into a %s error", async (code, kind, message) => {
    const { promise } = forwardAnswered((done) =>
      done(serviceError(code, "nothing is staged to commit")),
    );
    const error = (await promise.catch((failure: unknown) => failure)) as KvError;
    expect(error).toBeInstanceOf(KvError);
    expect(error.code).toBe(kind);
    expect(error.message).toMatch(message);
  });

  it("names the claimant when it has no client (traffic dropped)", async () => {
    const error = await forwardToClaimant({
      peers: peersWith(undefined),
      clock: new ManualClock(),
      claimant: n1,
      address: "127.0.0.1:7001",
      callerDeadline: Infinity,
      call: () => expect.unreachable("no call without a client"),
    }).catch((failure: unknown) => failure);
    if (!(error instanceof KvError)) return expect.unreachable("a KvError");
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe(
      "claimant n1 (127.0.0.1:7001) is unreachable: traffic to n1 is dropped by fault injection",
    );
  });
});

describe("pushCommit", () => {
  const staged = (node: NodeId) =>
    commitStaged(stageChange(start, { kind: "join", node, address: "127.0.0.1:7100" }));

  /** A Membership client whose Exchange answers as `store` would, or fails. */
  function exchangeWith(stores: Map<NodeId, MetadataStore>) {
    return (node: NodeId) => ({
      Exchange(request: { metadata_json: string }, _options: unknown, done: ExchangeDone) {
        const store = stores.get(node);
        if (store === undefined) return done(serviceError(grpc.status.UNAVAILABLE, "refused"));
        answerExchange(store, request.metadata_json).then(
          (json) =>
            done(null, {
              metadata_json: json,
            }),
          (error: Error) => done(serviceError(grpc.status.INTERNAL, error.message)),
        );
      },
    });
  }

  // Both orders, so that one case has the pushed commit win and the other has it lose.
  it.each([
    ["x1", "x2"],
    ["x2", "x1"],
  ])(
    "reaches every up member, merges their answers and names the ones whose commit wins (%s vs %s)",
    async (ours, other) => {
      const mine = MetadataStore.inMemory(staged(nodeId(ours)));
      const theirs = MetadataStore.inMemory(staged(nodeId(other)));
      const clients = exchangeWith(new Map([[n1, theirs]]));
      const peers: ClaimantPeers = {
        ...peersWith({}),
        peer: (node) =>
          node === n2 ? undefined : ({ node, membership: clients(node) } as unknown as PeerClients),
      };
      const theirsWins = compareLayouts(theirs.current.layout, mine.current.layout) > 0;
      const push = await pushCommit({ peers, store: mine, deadlineMs: 0, logger: silentLogger() });
      expect(push.reached).toEqual([n1]);
      // An answer is the merge of both: n1 shows another layout only when its own one wins.
      expect(push.heldAnother).toEqual(theirsWins ? [n1] : []);
      expect(push.missed).toEqual([{ node: n3, reason: "refused" }]);
      // Both now hold the winner of the two layouts of version 2.
      expect(layoutDigest(mine.current.layout)).toBe(layoutDigest(theirs.current.layout));
      expect(mine.current.layout.version).toBe(2);
    },
  );

  it("pushes only to members believed up, never to itself", async () => {
    const mine = MetadataStore.inMemory(staged(nodeId("x1")));
    const asked: NodeId[] = [];
    const peers: ClaimantPeers = {
      ...peersWith({}, [n2, n3]),
      peer: (node) =>
        ({
          node,
          membership: {
            Exchange(request: { metadata_json: string }, _o: unknown, done: ExchangeDone) {
              asked.push(node);
              done(null, {
                metadata_json: request.metadata_json,
              });
            },
          },
        }) as unknown as PeerClients,
    };
    const push = await pushCommit({ peers, store: mine, deadlineMs: 0, logger: silentLogger() });
    expect(asked).toEqual([n3]);
    expect(push).toEqual({ reached: [n3], heldAnother: [], missed: [] });
  });
});
