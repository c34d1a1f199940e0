// The opening side's transport: an AntiEntropy.Exchange stream to a peer over the peer's
// existing channel, as an ExchangePort that counts the bytes of every message it sends and
// receives (protobuf bytes plus gRPC's 5-byte message prefix), and the ExchangeOpener that
// opens one per exchange. Reply timeouts run on the injected clock.

import * as grpc from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import { loadProto } from "../../proto/load-proto.js";
import type { ExchangeRequest } from "../../proto/generated/dkv/v1/ExchangeRequest.js";
import type { ExchangeResponse__Output } from "../../proto/generated/dkv/v1/ExchangeResponse.js";
import type { NodeId } from "../core/node-id.js";
import { KvError } from "../core/errors.js";
import { FROM_HEADER } from "../peer-clients.js";
import { fromServiceError } from "../wire/grpc-status.js";
import type { Clock } from "../clock.js";
import type { PeerClients } from "../peer-clients.js";
import type { ByteSink, ExchangeOpener, OpenExchange } from "./exchange-tally.js";

/** Bytes gRPC puts before every message: a compressed flag and a 4-byte length. */
export const GRPC_MESSAGE_PREFIX_BYTES = 5;

const EXCHANGE_PATH = "/dkv.v1.AntiEntropy/Exchange";

type ExchangeMethod = MethodDefinition<ExchangeRequest, unknown, unknown, ExchangeResponse__Output>;

function exchangeMethod(): ExchangeMethod {
  const service = loadProto().definition["dkv.v1.AntiEntropy"] as unknown as {
    Exchange: ExchangeMethod;
  };
  return service.Exchange;
}

interface Waiter {
  readonly resolve: (response: ExchangeResponse__Output) => void;
  readonly reject: (error: Error) => void;
  readonly cancelTimer: () => void;
}

/** One Exchange stream. Requests are answered in order; `close()` ends it. */
export class GrpcExchangePort implements OpenExchange {
  readonly #call: grpc.ClientDuplexStream<ExchangeRequest, ExchangeResponse__Output>;
  readonly #waiting: Waiter[] = [];
  readonly #replyTimeoutMs: number;
  readonly #clock: Clock;
  #failure: Error | undefined;
  #sent = 0;
  #received = 0;

  /**
   * Opens the stream on `client`'s channel, naming `self` in the dkv-from header.
   * `signal` cancels the call (node shutdown).
   */
  constructor(options: {
    readonly client: grpc.Client;
    readonly self: NodeId;
    readonly replyTimeoutMs: number;
    readonly sink: ByteSink;
    readonly clock: Clock;
    readonly signal?: AbortSignal;
  }) {
    const method = exchangeMethod();
    const { sink } = options;
    this.#replyTimeoutMs = options.replyTimeoutMs;
    this.#clock = options.clock;
    const serialize = (request: ExchangeRequest): Buffer => {
      const bytes = method.requestSerialize(request);
      this.#sent += bytes.length + GRPC_MESSAGE_PREFIX_BYTES;
      sink.bytesSent += bytes.length + GRPC_MESSAGE_PREFIX_BYTES;
      return bytes;
    };
    const deserialize = (bytes: Buffer): ExchangeResponse__Output => {
      this.#received += bytes.length + GRPC_MESSAGE_PREFIX_BYTES;
      sink.bytesReceived += bytes.length + GRPC_MESSAGE_PREFIX_BYTES;
      return method.responseDeserialize(bytes);
    };
    const metadata = new grpc.Metadata();
    metadata.set(FROM_HEADER, options.self);
    this.#call = options.client.makeBidiStreamRequest(
      EXCHANGE_PATH,
      serialize,
      deserialize,
      metadata,
    );
    this.#call.on("data", (response: ExchangeResponse__Output) => this.#settle(response));
    this.#call.on("error", (error: grpc.ServiceError) => this.#fail(fromServiceError(error)));
    this.#call.on("end", () =>
      this.#fail(new KvError("unavailable", "anti-entropy peer ended the exchange")),
    );
    options.signal?.addEventListener("abort", () => this.abort(), { once: true });
  }

  bytesSent(): number {
    return this.#sent;
  }

  bytesReceived(): number {
    return this.#received;
  }

  ask(request: ExchangeRequest): Promise<ExchangeResponse__Output> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const cancelTimer = this.#clock.setTimer(this.#replyTimeoutMs, () => {
        this.#fail(
          new KvError("timeout", `anti-entropy peer did not answer in ${this.#replyTimeoutMs} ms`),
        );
        this.#call.cancel();
      });
      this.#waiting.push({ resolve, reject, cancelTimer });
      this.#call.write(request);
    });
  }

  /** Ends the conversation gracefully; pending asks reject. */
  close(): void {
    this.#fail(new KvError("unavailable", "anti-entropy exchange closed"));
    this.#call.end();
  }

  /** Cancels the call (shutdown); pending asks reject. */
  abort(): void {
    this.#fail(new KvError("unavailable", "anti-entropy exchange cancelled"));
    this.#call.cancel();
  }

  #settle(response: ExchangeResponse__Output): void {
    const waiter = this.#waiting.shift();
    if (waiter === undefined) {
      this.#fail(new KvError("internal", "anti-entropy peer answered a request never sent"));
      this.#call.cancel();
      return;
    }
    waiter.cancelTimer();
    waiter.resolve(response);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.splice(0)) {
      waiter.cancelTimer();
      waiter.reject(this.#failure);
    }
  }
}

const genericClients = new WeakMap<grpc.ChannelInterface, grpc.Client>();

/**
 * A plain client on an existing channel (a peer's, from peer-clients.ts), so the exchange
 * shares the connection the other services use. Never closed: closing a client closes its
 * channel, which belongs to the peer's clients.
 */
export function clientOnChannel(channel: grpc.ChannelInterface, address: string): grpc.Client {
  let client = genericClients.get(channel);
  if (client === undefined) {
    client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      channelOverride: channel,
    });
    genericClients.set(channel, client);
  }
  return client;
}

/** What the gRPC opener needs of the cluster view. */
export interface ExchangePeers {
  readonly self: NodeId;
  /** A peer's clients; undefined when it cannot be called (dropped, unknown, this node). */
  peer(node: NodeId): PeerClients | undefined;
}

/** Opens AntiEntropy.Exchange streams on the peers' channels (the production ExchangeOpener). */
export function grpcExchangeOpener(peers: ExchangePeers, clock: Clock): ExchangeOpener {
  return {
    open(peer, options) {
      const clients = peers.peer(peer);
      if (clients === undefined) return undefined;
      return new GrpcExchangePort({
        client: clientOnChannel(clients.replica.getChannel(), clients.address),
        self: peers.self,
        replyTimeoutMs: options.replyTimeoutMs,
        sink: options.sink,
        clock,
        signal: options.signal,
      });
    },
  };
}
