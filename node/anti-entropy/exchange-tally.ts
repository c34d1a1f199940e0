// The bookkeeping shared by the steps of an exchange: the ports to the peer (one conversation,
// and the opener that starts one: gRPC in production, exchange-client.ts; the simulation's
// network), what the opening side needs, and the tally that charges each step's bytes to the
// partitions it concerns.

import type { ExchangeRequest } from "../../proto/generated/dkv/v1/ExchangeRequest.js";
import type { ExchangeResponse__Output } from "../../proto/generated/dkv/v1/ExchangeResponse.js";
import type { NodeId } from "../core/node-id.js";
import { KvError } from "../core/errors.js";
import type { Replica } from "../replica.js";
import type { PartitionTrees } from "./partition-trees.js";
import type { AntiEntropyOptions } from "./aae-options.js";
import type { TokenBucket } from "./token-bucket.js";
import type { Clock } from "../clock.js";

/** A key found different between the two replicas. */
export interface Difference {
  readonly bucket: string;
  readonly key: Uint8Array;
  readonly partition: number;
}

/** One conversation with a peer: each request gets one response, in order. */
export interface ExchangePort {
  ask(request: ExchangeRequest): Promise<ExchangeResponse__Output>;
  /** Message bytes sent and received so far on this conversation. */
  bytesSent(): number;
  bytesReceived(): number;
}

/** A conversation the opening side ends when it is done with it. */
export interface OpenExchange extends ExchangePort {
  /** Ends the conversation; asks still pending reject. */
  close(): void;
}

/** Where the byte counts of a conversation also go (the node's counters). */
export interface ByteSink {
  bytesSent: number;
  bytesReceived: number;
}

/** How the opening side reaches a peer: the AntiEntropy.Exchange stream in production. */
export interface ExchangeOpener {
  /**
   * Opens a conversation with `peer`, or undefined when it cannot be called now (dropped by
   * fault injection, unknown). An ask unanswered within `replyTimeoutMs` fails the conversation
   * (KvError "timeout"); `signal` aborts it (node shutdown); every message's bytes are added
   * to `sink` as well as to the conversation's own counts.
   */
  open(
    peer: NodeId,
    options: {
      readonly replyTimeoutMs: number;
      readonly sink: ByteSink;
      readonly signal: AbortSignal;
    },
  ): OpenExchange | undefined;
}

/** What the opening side needs. */
export interface ExchangeContext {
  readonly trees: PartitionTrees;
  readonly replica: Replica;
  readonly options: AntiEntropyOptions;
  readonly limiter: TokenBucket;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
}

/** The outcome for one partition. */
export interface PartitionTally {
  differences: number;
  repaired: number;
  bytes: number;
}

/** Asks through the port and charges the bytes of each step to the partitions it concerns. */
export class ExchangeTally {
  readonly perPartition = new Map<number, PartitionTally>();
  readonly #port: ExchangePort;

  constructor(port: ExchangePort) {
    this.#port = port;
  }

  tally(partition: number): PartitionTally {
    let entry = this.perPartition.get(partition);
    if (entry === undefined) {
      entry = { differences: 0, repaired: 0, bytes: 0 };
      this.perPartition.set(partition, entry);
    }
    return entry;
  }

  /** Sends one step; its bytes both ways are split evenly over `partitions` (approximate). */
  async ask<S extends NonNullable<ExchangeResponse__Output["step"]>>(
    step: S,
    request: ExchangeRequest,
    partitions: readonly number[],
  ): Promise<NonNullable<ExchangeResponse__Output[S]>> {
    const before = this.#port.bytesSent() + this.#port.bytesReceived();
    const response = await this.#port.ask(request);
    const bytes = this.#port.bytesSent() + this.#port.bytesReceived() - before;
    for (const partition of partitions) this.tally(partition).bytes += bytes / partitions.length;
    const answer = response[step];
    if (response.step !== step || answer === undefined || answer === null) {
      throw protocolError(`expected a ${step} response, got ${response.step ?? "nothing"}`);
    }
    return answer as NonNullable<ExchangeResponse__Output[S]>;
  }
}

export function protocolError(message: string): KvError {
  return new KvError("internal", `anti-entropy exchange: ${message}`);
}

/** Splits a list into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let from = 0; from < items.length; from += size) result.push(items.slice(from, from + size));
  return result;
}
