// The ports of the background protocols for one simulated node incarnation, over the simulated
// network, standing in for their gRPC clients: PingPort (ping-client.ts), HandoffPort
// (handoff-client.ts), ExchangeOpener (exchange-client.ts) and ReapPort (reap-client.ts). They
// only carry messages and tell transport facts apart (refused, no answer by the deadline, the
// peer's error), and classify a ping with production's classifyPing; every decision stays in the
// production loops that call them. Deadlines are this node's wall-clock times, as gRPC's are.

import * as grpc from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import { loadProto } from "../../proto/load-proto.js";
import type { ExchangeRequest } from "../../proto/generated/dkv/v1/ExchangeRequest.js";
import type { ExchangeRequest__Output } from "../../proto/generated/dkv/v1/ExchangeRequest.js";
import type { ExchangeResponse } from "../../proto/generated/dkv/v1/ExchangeResponse.js";
import type { ExchangeResponse__Output } from "../../proto/generated/dkv/v1/ExchangeResponse.js";
import { KvError } from "../../node/core/errors.js";
import type { NodeId } from "../../node/core/node-id.js";
import type { PingPort, PingReply } from "../../node/membership/heartbeat-loop.js";
import { classifyPing, type PingGossip } from "../../node/membership/ping-client.js";
import type { MetadataExchangePort } from "../../node/membership/metadata-gossip.js";
import type { HandoffItem, HandoffPort, HandoffStream } from "../../node/hints/hint-delivery.js";
import { GRPC_MESSAGE_PREFIX_BYTES } from "../../node/anti-entropy/exchange-client.js";
import type {
  ByteSink,
  ExchangeOpener,
  OpenExchange,
} from "../../node/anti-entropy/exchange-tally.js";
import type {
  PeerStanding,
  ReapPort,
  ReapRequest,
} from "../../node/anti-entropy/tombstone-reaper.js";
import type { SimClock } from "./sim-clock.js";
import type { SimEndpoint, WireReply } from "./sim-endpoint.js";
import type { CallResult, SimNetwork } from "./sim-network.js";

/** One node incarnation's end of the network. */
export class SimLink {
  readonly self: NodeId;
  readonly incarnation: number;
  readonly clock: SimClock;
  readonly #network: SimNetwork<SimEndpoint>;

  constructor(options: {
    readonly self: NodeId;
    readonly incarnation: number;
    readonly clock: SimClock;
    readonly network: SimNetwork<SimEndpoint>;
  }) {
    this.self = options.self;
    this.incarnation = options.incarnation;
    this.clock = options.clock;
    this.#network = options.network;
  }

  /** A call to `to` that gives up at `deadlineMs` (this node's wall clock). */
  call<T>(
    to: NodeId,
    kind: string,
    deadlineMs: number,
    handle: (endpoint: SimEndpoint) => Promise<WireReply<T>>,
    idempotent = false,
  ): Promise<CallResult<WireReply<T>>> {
    return this.#network.call({
      from: this.self,
      fromIncarnation: this.incarnation,
      to,
      kind,
      deadlineMs: this.clock.toVirtualMs(deadlineMs),
      idempotent,
      handle,
    });
  }

  /** The reply, or a rejection with the transport's or the peer's error (a gRPC client's). */
  async expect<T>(
    to: NodeId,
    kind: string,
    deadlineMs: number,
    handle: (endpoint: SimEndpoint) => Promise<WireReply<T>>,
  ): Promise<T> {
    const result = await this.call(to, kind, deadlineMs, handle);
    if (!result.ok) {
      throw new KvError(result.kind === "deadline" ? "timeout" : "unavailable", result.error);
    }
    if (!result.value.ok) throw new KvError(result.value.code, result.value.error);
    return result.value.reply;
  }
}

/**
 * Admin.Ping over the network; the reply is read by production's classifyPing. As GrpcPingPort,
 * the ping carries this node's metadata digest and an answer naming another tells the gossip.
 */
export class SimPingPort implements PingPort {
  readonly #link: SimLink;
  readonly #gossip: PingGossip | undefined;

  constructor(link: SimLink, gossip?: PingGossip) {
    this.#link = link;
    this.#gossip = gossip;
  }

  async ping(node: NodeId, deadlineMs: number): Promise<PingReply> {
    const digest = this.#gossip?.digest() ?? "";
    const result = await this.#link.call(node, "ping", deadlineMs, (endpoint) => endpoint.ping());
    if (result.ok && result.value.ok) {
      const { nodeId, metadataDigest: theirs } = result.value.reply;
      const answer = classifyPing(node, null, nodeId);
      if (answer.kind === "answered" && theirs !== "" && theirs !== digest) {
        this.#gossip?.differs(node, theirs);
      }
      return answer;
    }
    // What grpc-js reports: a refused or reset connection is UNAVAILABLE, no answer in time is
    // DEADLINE_EXCEEDED, a peer's error keeps its status.
    const [code, details] = !result.ok
      ? result.kind === "refused"
        ? [grpc.status.UNAVAILABLE, `connection refused (${result.error})`]
        : [grpc.status.DEADLINE_EXCEEDED, "Deadline exceeded"]
      : [grpc.status.UNKNOWN, (result.value as { error: string }).error];
    const error = Object.assign(new Error(`${code} ${details}`), {
      code,
      details,
      metadata: new grpc.Metadata(),
    });
    return classifyPing(node, error, undefined);
  }
}

/**
 * Handoff.Deliver: each batch one message with its acknowledgement. It also watches the rule
 * that hints wait for the acknowledgement: when the primary's durable ack comes back, every hint
 * of the batch must still be in the sender's store (delivery deletes them only after the ack; a
 * batch lost on the way would otherwise lose the writes it carried). A hint gone too early is
 * reported through `violated`, which makes the run fail.
 */
export class SimHandoffPort implements HandoffPort {
  readonly #link: SimLink;
  readonly #ackTimeoutMs: number;
  readonly #stillHinted: (item: HandoffItem) => boolean;
  readonly #violated: (message: string) => void;

  /** @param ackTimeoutMs the delivery's own bound; a batch's call gives up just after it */
  constructor(
    link: SimLink,
    ackTimeoutMs: number,
    watch: {
      readonly stillHinted: (item: HandoffItem) => boolean;
      readonly violated: (message: string) => void;
    },
  ) {
    this.#link = link;
    this.#ackTimeoutMs = ackTimeoutMs;
    this.#stillHinted = watch.stillHinted;
    this.#violated = watch.violated;
  }

  open(target: NodeId): HandoffStream {
    const link = this.#link;
    let open = true;
    return {
      send: (to, items) => {
        if (!open) return Promise.reject(new Error("handoff stream ended"));
        const deadlineMs = link.clock.nowMs() + this.#ackTimeoutMs + 1;
        const acked = link.expect(target, "handoff", deadlineMs, (endpoint) =>
          endpoint.handoff({ target: to, items }),
        );
        return acked.then((ids) => {
          const gone = items.filter((item) => !this.#stillHinted(item));
          if (gone.length > 0) {
            this.#violated(
              `${link.self} deleted ${gone.length} hint(s) for ${to} before their durable ack`,
            );
          }
          return ids;
        });
      },
      end: () => (open = false),
      cancel: () => (open = false),
    };
  }
}

type ExchangeMethod = MethodDefinition<
  ExchangeRequest,
  ExchangeResponse,
  ExchangeRequest__Output,
  ExchangeResponse__Output
>;

/** AntiEntropy.Exchange's codecs, the ones grpc-js uses on both sides. */
export function exchangeMethod(): ExchangeMethod {
  if (exchange === undefined) {
    const service = loadProto().definition["dkv.v1.AntiEntropy"] as unknown as {
      Exchange: ExchangeMethod;
    };
    exchange = service.Exchange;
  }
  return exchange;
}

let exchange: ExchangeMethod | undefined;

/**
 * Opens exchanges as one message per request and response, in order. As GrpcExchangePort, an
 * ask unanswered within replyTimeoutMs (on this node's clock) fails the conversation, and every
 * message's bytes (protobuf plus gRPC's prefix) are counted. `completed` learns of each
 * exchange that finished (the node's exchange count rose while it was open).
 */
export class SimExchangeOpener implements ExchangeOpener {
  readonly #link: SimLink;
  readonly #exchanges: () => number;
  readonly #completed: (peer: NodeId, openedMs: number) => void;

  constructor(
    link: SimLink,
    exchanges: () => number,
    completed: (peer: NodeId, openedMs: number) => void,
  ) {
    this.#link = link;
    this.#exchanges = exchanges;
    this.#completed = completed;
  }

  open(
    peer: NodeId,
    options: { readonly replyTimeoutMs: number; readonly sink: ByteSink },
  ): OpenExchange {
    const link = this.#link;
    const method = exchangeMethod();
    const openedMs = link.clock.monotonicMs();
    const before = this.#exchanges();
    let failure: Error | undefined;
    let closed = false;
    let cancelTimer = (): void => undefined;
    let [sent, received] = [0, 0];
    // Closing is a failure too, made only when something asks for it: a KvError takes a stack
    // trace, and most exchanges close after their last answer.
    const failed = (): Error | undefined => {
      if (failure === undefined && closed) {
        failure = new KvError("unavailable", "anti-entropy exchange closed");
      }
      return failure;
    };
    const fail = (error: Error): void => {
      if (failed() === undefined) failure = error;
      cancelTimer();
    };
    return {
      bytesSent: () => sent,
      bytesReceived: () => received,
      ask: (request) => {
        if (failed() !== undefined) return Promise.reject(failed());
        const bytes = method.requestSerialize(request);
        sent += bytes.length + GRPC_MESSAGE_PREFIX_BYTES;
        options.sink.bytesSent += bytes.length + GRPC_MESSAGE_PREFIX_BYTES;
        return new Promise((resolve, reject) => {
          const timeoutMs = options.replyTimeoutMs;
          cancelTimer = link.clock.setTimer(timeoutMs, () => {
            fail(new KvError("timeout", `anti-entropy peer did not answer in ${timeoutMs} ms`));
            reject(failed());
          });
          const deadlineMs = link.clock.nowMs() + timeoutMs + 1;
          link
            .expect(peer, "ae-exchange", deadlineMs, (endpoint) =>
              endpoint.exchange(bytes, link.self),
            )
            .then(
              (answer) => {
                if (failed() !== undefined) return reject(failed());
                cancelTimer();
                received += answer.length + GRPC_MESSAGE_PREFIX_BYTES;
                options.sink.bytesReceived += answer.length + GRPC_MESSAGE_PREFIX_BYTES;
                resolve(method.responseDeserialize(Buffer.from(answer)));
              },
              (error: Error) => {
                fail(error);
                reject(failed());
              },
            );
        });
      },
      close: () => {
        closed = true;
        cancelTimer();
        if (this.#exchanges() > before) this.#completed(peer, openedMs);
      },
    };
  }
}

/** Membership.Exchange over the network: this node's metadata out, the peer's merge back. */
export function simMetadataExchange(link: SimLink): MetadataExchangePort {
  return (node, json, deadlineMs) =>
    link.expect(node, "metadata-exchange", deadlineMs, (endpoint) =>
      endpoint.metadataExchange(json),
    );
}

/** Admin.Status's hint counts and AntiEntropy.Reap over the network. */
export class SimReapPort implements ReapPort {
  readonly #link: SimLink;

  constructor(link: SimLink) {
    this.#link = link;
  }

  async standing(node: NodeId, deadlineMs: number): Promise<PeerStanding> {
    const status = await this.#link.expect(node, "status", deadlineMs, (endpoint) =>
      endpoint.hintsPending(),
    );
    // As GrpcReapPort: every hint the node holds, whatever its target, and the layout version.
    return {
      hintsPending: status.counts.reduce((sum, count) => sum + count, 0),
      layoutVersion: status.layoutVersion,
    };
  }

  async reap(peer: NodeId, request: ReapRequest, deadlineMs: number): Promise<readonly boolean[]> {
    const answer = await this.#link.expect(peer, "ae-reap", deadlineMs, (endpoint) =>
      endpoint.reap(request),
    );
    return answer.equal;
  }
}
