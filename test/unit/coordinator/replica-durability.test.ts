// Goal: a coordinated put asks the other replicas to sync before answering only when dw still
// needs durable acks from them. With dw = 1 the coordinator's own durable copy is the one
// durable ack, so the others answer after their append (and count for w); with dw = 2 or more
// they must sync, and the put waits for enough durable acks.
// Method: a Coordinator over a fake 3-node view and a recording transport that answers every
// replica put with the durability it was asked for (or, for dw checks, with what the test says).

import { describe, expect, it } from "vitest";
import type { PutCommand } from "../../../coordinator/coordinator-commands.js";
import type {
  ReplicaTransport,
  ReplicaWriteOptions,
  TransportWriteReply,
} from "../../../coordinator/replica-transport.js";
import type { QuorumConfig } from "../../../coordinator/core/quorum-options.js";
import { EMPTY_CONTEXT } from "../../../node/core/causal-context.js";
import type { DvvSet } from "../../../node/core/dvv.js";
import type { NodeId } from "../../../node/core/node-id.js";
import { textVersion, utf8 } from "../node/core/dvv-test-helpers.js";
import { coordinatorOver } from "./coordinator-test-helpers.js";

/** Records what each replica put asked for; answers as `answer` says. */
class RecordingTransport implements ReplicaTransport {
  readonly puts: { node: NodeId; durable: boolean }[] = [];
  constructor(
    readonly answer: (node: NodeId, options: ReplicaWriteOptions) => TransportWriteReply = (
      _node,
      options,
    ) => ({ ok: true, durable: options.durable }),
  ) {}
  get(): never {
    throw new Error("no gets in this test");
  }
  put(
    node: NodeId,
    _bucket: string,
    _key: Uint8Array,
    _object: DvvSet,
    options: ReplicaWriteOptions,
  ): Promise<TransportWriteReply> {
    this.puts.push({ node, durable: options.durable });
    return Promise.resolve(this.answer(node, options));
  }
}

function putCommand(quorum: Partial<QuorumConfig>): PutCommand {
  return {
    bucket: "b",
    key: utf8("k"),
    quorum: { n: 3, r: 2, w: 2, dw: 1, pr: 0, pw: 0, ...quorum },
    deadlineMs: Date.now() + 5000,
    sloppy: true,
    version: textVersion("v"),
    context: EMPTY_CONTEXT,
    ifNoneMatch: false,
  };
}

describe("durability asked of the other replicas", () => {
  it("dw=1: the local copy is the durable ack; the others answer after their append", async () => {
    const transport = new RecordingTransport();
    await (await coordinatorOver(transport)).put(putCommand({ dw: 1 }));
    expect(transport.puts.map((put) => put.node).sort()).toEqual(["n2", "n3"]);
    expect(transport.puts.every((put) => !put.durable)).toBe(true);
  });

  it("dw=0: nobody syncs before answering", async () => {
    const transport = new RecordingTransport();
    await (await coordinatorOver(transport)).put(putCommand({ dw: 0 }));
    expect(transport.puts).toHaveLength(2);
    expect(transport.puts.every((put) => !put.durable)).toBe(true);
  });

  it("dw=2 and dw=3: the others sync, and the put needs their durable acks", async () => {
    for (const dw of [2, 3]) {
      const transport = new RecordingTransport();
      await (await coordinatorOver(transport)).put(putCommand({ w: dw, dw }));
      expect(transport.puts).toHaveLength(2);
      expect(transport.puts.every((put) => put.durable)).toBe(true);
    }
    // Replicas that ack without having synced do not make dw=2.
    const lazy = new RecordingTransport(() => ({ ok: true, durable: false }));
    await expect((await coordinatorOver(lazy)).put(putCommand({ dw: 2 }))).rejects.toThrow(
      /durable write quorum unreachable: 1\/2 durable acks/,
    );
  });
});
