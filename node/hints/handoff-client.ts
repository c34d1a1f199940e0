// Hint delivery's transport in production: a HandoffPort whose conversations are Handoff.Deliver
// streams on the peers' clients. Each batch written is answered by one HintAck, in order; the
// acknowledgements are read off the stream as they come. No decisions are made here.

import type { HintAck__Output } from "../../proto/generated/dkv/v1/HintAck.js";
import type { NodeId } from "../core/node-id.js";
import type { PeerClients } from "../peer-clients.js";
import type { HandoffPort, HandoffStream } from "./hint-delivery.js";

/** What the gRPC handoff port needs of the cluster view. */
export interface HandoffPeers {
  /** A peer's clients; undefined when it cannot be called (dropped, unknown, this node). */
  peer(node: NodeId): PeerClients | undefined;
}

/** The production HandoffPort: one Handoff.Deliver stream per conversation. */
export class GrpcHandoffPort implements HandoffPort {
  readonly #peers: HandoffPeers;

  constructor(peers: HandoffPeers) {
    this.#peers = peers;
  }

  open(target: NodeId): HandoffStream | undefined {
    const peer = this.#peers.peer(target);
    if (peer === undefined) return undefined;
    const stream = peer.handoff.Deliver();
    const acks = ackReader(stream);
    return {
      send(to, items) {
        stream.write({ target: to, items: [...items] });
        return acks().then((ack) => ack.ids);
      },
      end: () => stream.end(),
      cancel: () => stream.cancel(),
    };
  }
}

/** Reads acknowledgements in order from a stream; rejects when the stream fails or ends. */
function ackReader(stream: NodeJS.EventEmitter): () => Promise<HintAck__Output> {
  const queued: HintAck__Output[] = [];
  const waiting: { resolve: (ack: HintAck__Output) => void; reject: (error: Error) => void }[] = [];
  let failure: Error | undefined;
  stream.on("data", (ack: HintAck__Output) => {
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter.resolve(ack);
    else queued.push(ack);
  });
  const fail = (error: Error): void => {
    failure = error;
    for (const waiter of waiting.splice(0)) waiter.reject(error);
  };
  stream.on("error", fail);
  stream.on("end", () => fail(new Error("handoff stream ended")));
  return () => {
    const ack = queued.shift();
    if (ack !== undefined) return Promise.resolve(ack);
    if (failure !== undefined) return Promise.reject(failure);
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
}
