// Gossip of the cluster metadata, piggybacked on the failure detector's pings: every ping
// carries the sender's metadata digest and every answer the peer's; a node that hears another
// digest does a push-pull exchange with that peer (sends its metadata, merges what comes back),
// one at a time per peer. Both sides then hold the merge, so a change spreads to every member
// within a few heartbeats. Transport-free: production exchanges over Membership.Exchange, the
// simulation over its network.

import type { Clock } from "../clock.js";
import type { NodeId } from "../core/node-id.js";
import type { ClusterMetadata } from "../core/layout.js";
import { decodeMetadata } from "../core/layout-codec.js";
import type { Logger } from "../logger.js";
import type { MetadataStore } from "./metadata-store.js";
import type { PingGossip } from "./ping-client.js";

/** How long one metadata exchange may take. */
export const METADATA_EXCHANGE_TIMEOUT_MS = 5_000;

/** Sends this node's metadata (canonical JSON) to `node`; resolves with the peer's merge. */
export type MetadataExchangePort = (
  node: NodeId,
  json: string,
  deadlineMs: number,
) => Promise<string>;

/** The gossip of one node. */
export class MetadataGossip implements PingGossip {
  readonly #store: MetadataStore;
  readonly #exchange: MetadataExchangePort;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #inFlight = new Set<NodeId>();
  /** Exchanges completed and failed, for tests and status. */
  readonly stats = { exchanges: 0, failures: 0 };

  constructor(options: {
    readonly store: MetadataStore;
    readonly exchange: MetadataExchangePort;
    readonly clock: Clock;
    readonly logger: Logger;
  }) {
    this.#store = options.store;
    this.#exchange = options.exchange;
    this.#clock = options.clock;
    this.#logger = options.logger;
  }

  digest(): string {
    return this.#store.digest;
  }

  /** A ping answer named another digest: exchange with that peer, unless one is under way. */
  differs(node: NodeId): void {
    if (this.#inFlight.has(node)) return;
    this.#inFlight.add(node);
    void this.#exchangeWith(node).finally(() => this.#inFlight.delete(node));
  }

  async #exchangeWith(node: NodeId): Promise<void> {
    const deadlineMs = this.#clock.nowMs() + METADATA_EXCHANGE_TIMEOUT_MS;
    let theirs: ClusterMetadata;
    try {
      const json = await this.#exchange(node, this.#store.json, deadlineMs);
      theirs = decodeMetadata(Buffer.from(json, "utf8"));
    } catch (error) {
      this.stats.failures += 1;
      const reason = error instanceof Error ? error.message : String(error);
      this.#logger.debug({ peer: node, reason }, "metadata exchange failed");
      return;
    }
    try {
      await this.#store.merge(theirs);
      this.stats.exchanges += 1;
    } catch (error) {
      this.stats.failures += 1;
      this.#logger.error({ err: error, peer: node }, "merging cluster metadata failed");
    }
  }
}

/**
 * The answering side of an exchange (Membership.Exchange): merges the caller's metadata into
 * this node's and returns the result. Throws a LayoutError for unreadable metadata.
 */
export async function answerExchange(store: MetadataStore, json: string): Promise<string> {
  const theirs = decodeMetadata(Buffer.from(json, "utf8"));
  await store.merge(theirs);
  return store.json;
}
