// Who holds connections to a node's public port, by remote address, and whether one more may
// open: at most `addressConnectionsMax` from one address and `connectionsMax` in all. Pure:
// the shell (connection-gate.ts) reports each accept and close.

import type { Limits } from "../core/limits.js";

/** Why a connection was closed by the node itself. */
export type ConnectionRefusalReason =
  | "address-limit"
  | "total-limit"
  | "handshake-timeout"
  /** The address's calls kept failing authentication (address-standing.ts). */
  | "auth-failures"
  /** An address not yet trusted has addressHandshakesMax TLS handshakes under way. */
  | "handshake-limit"
  /** The node spent its strangerHandshakeRateMax on addresses it does not trust yet. */
  | "stranger-rate";

/** The verdict on one accepted socket. */
export type ConnectionVerdict =
  | { readonly admitted: true }
  | {
      readonly admitted: false;
      readonly reason: "address-limit" | "total-limit";
      /** Connections held (by the address, or in all) when it was refused. */
      readonly held: number;
      readonly limit: number;
    };

const ADMITTED: ConnectionVerdict = { admitted: true };

/**
 * Counts open connections per address. The map holds only addresses with a connection open, so
 * it is bounded by `connectionsMax`. Law: after any sequence of admit/release where every
 * release matches an admitted connection, `open` is the sum of `heldBy` over all addresses,
 * and neither bound is ever exceeded.
 */
export class ConnectionLedger {
  readonly #perAddressMax: number;
  readonly #totalMax: number;
  readonly #byAddress = new Map<string, number>();
  #open = 0;

  constructor(limits: Pick<Limits, "addressConnectionsMax" | "connectionsMax">) {
    if (!(limits.addressConnectionsMax >= 1 && limits.connectionsMax >= 1)) {
      throw new Error("connection limits must be at least 1");
    }
    this.#perAddressMax = limits.addressConnectionsMax;
    this.#totalMax = limits.connectionsMax;
  }

  /** Admits a connection from `address` (and counts it) or says why not (counting nothing). */
  admit(address: string): ConnectionVerdict {
    if (this.#open >= this.#totalMax) {
      return { admitted: false, reason: "total-limit", held: this.#open, limit: this.#totalMax };
    }
    const held = this.#byAddress.get(address) ?? 0;
    if (held >= this.#perAddressMax) {
      return { admitted: false, reason: "address-limit", held, limit: this.#perAddressMax };
    }
    this.#byAddress.set(address, held + 1);
    this.#open += 1;
    return ADMITTED;
  }

  /** An admitted connection from `address` closed. */
  release(address: string): void {
    const held = this.#byAddress.get(address);
    if (held === undefined) throw new Error(`release of ${address}, which holds no connection`);
    if (held <= 1) this.#byAddress.delete(address);
    else this.#byAddress.set(address, held - 1);
    this.#open -= 1;
  }

  /** Connections open now. */
  get open(): number {
    return this.#open;
  }

  /** Connections `address` holds now. */
  heldBy(address: string): number {
    return this.#byAddress.get(address) ?? 0;
  }

  /** Addresses holding a connection now. */
  get addresses(): number {
    return this.#byAddress.size;
  }
}
