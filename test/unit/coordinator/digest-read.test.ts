// Goal: a get coordinated by a node holding a copy is a digest read: the node reads its own copy
// first and sends its digest to the other replicas; a replica answering "same" counts as holding
// that copy, a replica with another version sends its object, and the merge and read repair come
// out as with full reads. A coordinator without a copy asks for full objects.
// Method: a Coordinator over a fake 3-node view and a transport that keeps each node's copy and
// answers digest reads as the gRPC transport does (the coordinator's object for "same").

import { describe, expect, it } from "vitest";
import type {
  OwnCopy,
  ReplicaTransport,
  TransportWriteReply,
} from "../../../coordinator/replica-transport.js";
import type { ReadReply } from "../../../coordinator/core/get-quorum.js";
import { sync, type DvvSet } from "../../../node/core/dvv.js";
import type { NodeId } from "../../../node/core/node-id.js";
import { digestMatches, versionDigest } from "../../../node/core/version-digest.js";
import { utf8, written } from "../node/core/dvv-test-helpers.js";
import { NODES as nodes, coordinatorOver } from "./coordinator-test-helpers.js";

const key = utf8("k");

/** Each node's copy; digest reads answered as GrpcReplicaTransport does. */
class CopiesTransport implements ReplicaTransport {
  readonly gets: { node: NodeId; digest: Uint8Array | undefined; same: boolean }[] = [];
  readonly repairs: { node: NodeId; object: DvvSet }[] = [];
  constructor(readonly copies: Map<NodeId, DvvSet | undefined>) {}

  get(
    node: NodeId,
    bucket: string,
    _key: Uint8Array,
    _deadlineMs: number,
    own?: OwnCopy,
  ): Promise<ReadReply<DvvSet>> {
    const copy = this.copies.get(node);
    const same =
      own !== undefined && copy !== undefined && digestMatches(own.digest, bucket, key, copy);
    this.gets.push({ node, digest: own?.digest, same });
    return Promise.resolve({ ok: true, object: same ? own.object : copy });
  }

  put(
    node: NodeId,
    _bucket: string,
    _key: Uint8Array,
    object: DvvSet,
  ): Promise<TransportWriteReply> {
    this.repairs.push({ node, object });
    return Promise.resolve({ ok: true, durable: false });
  }
}

const getCommand = {
  bucket: "b",
  key,
  quorum: { n: 3, r: 3, w: 2, dw: 1, pr: 0, pw: 0 },
  deadlineMs: Date.now() + 60_000,
  sloppy: true,
};

/** Lets read repair, which runs after the reply, send its writes. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("digest reads", () => {
  it("sends the local copy's digest; replicas with the same version send no object", async () => {
    const object = written("n1.x", "v1");
    const transport = new CopiesTransport(
      new Map([
        [nodes[0]!, object],
        [nodes[1]!, object],
        [nodes[2]!, object],
      ]),
    );
    const result = await (await coordinatorOver(transport)).get(getCommand);
    expect(result).toBe(object);
    const digest = versionDigest("b", key, object);
    // The local read goes first and carries no digest; both others get the local digest.
    expect(transport.gets[0]).toEqual({ node: "n1", digest: undefined, same: false });
    expect(transport.gets.slice(1)).toEqual([
      { node: "n2", digest, same: true },
      { node: "n3", digest, same: true },
    ]);
    await settle();
    expect(transport.repairs).toEqual([]);
  });

  it("merges a newer copy and repairs the coordinator and the replica that matched", async () => {
    const old = written("n1.x", "v1");
    const concurrent = sync(old, written("n2.x", "v2"));
    const transport = new CopiesTransport(
      new Map<NodeId, DvvSet | undefined>([
        [nodes[0]!, old],
        [nodes[1]!, old],
        [nodes[2]!, concurrent],
      ]),
    );
    const result = await (await coordinatorOver(transport)).get(getCommand);
    expect(result?.siblings.map((sibling) => sibling.dot.actor).sort()).toEqual(["n1.x", "n2.x"]);
    expect(transport.gets.map((get) => [get.node, get.same])).toEqual([
      ["n1", false],
      ["n2", true],
      ["n3", false],
    ]);
    await settle();
    expect(transport.repairs.map((repair) => repair.node).sort()).toEqual(["n1", "n2"]);
    for (const repair of transport.repairs) expect(repair.object).toEqual(result);
  });

  it("asks for full objects when the coordinator holds no copy", async () => {
    const object = written("n2.x", "v1");
    const transport = new CopiesTransport(
      new Map<NodeId, DvvSet | undefined>([
        [nodes[0]!, undefined],
        [nodes[1]!, object],
        [nodes[2]!, object],
      ]),
    );
    expect(await (await coordinatorOver(transport)).get(getCommand)).toEqual(object);
    expect(transport.gets.every((get) => get.digest === undefined)).toBe(true);
    await settle();
    expect(transport.repairs.map((repair) => repair.node)).toEqual(["n1"]);
  });
});
