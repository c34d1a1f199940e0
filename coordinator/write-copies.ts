// The nodes besides the coordinator that stored one write's object, so that a write refused at
// the sibling limit can be taken back from each (coordinator.ts #retract), including those
// whose acknowledgement arrives after the refusal. No IO: the coordinator supplies the send.

import type { NodeId } from "../node/core/node-id.js";

/** A node other than this one that stored a write, and the primary it stands in for. */
export interface WriteCopy {
  readonly node: NodeId;
  readonly hintFor: NodeId | undefined;
}

/**
 * The other nodes that stored one write's object, so that a write refused at its limit can be
 * taken back from each, including those whose acknowledgement arrives after the refusal.
 */
export class WriteCopies {
  readonly #copies: WriteCopy[] = [];
  #retract: ((copy: WriteCopy) => void) | undefined;

  /** A node acknowledged the write. */
  stored(copy: WriteCopy): void {
    if (this.#retract === undefined) this.#copies.push(copy);
    else this.#retract(copy);
  }

  /** From now on, every copy known or yet to come is handed to `retract`, once. */
  retractWith(retract: (copy: WriteCopy) => void): void {
    this.#retract = retract;
    for (const copy of this.#copies.splice(0)) retract(copy);
  }
}
