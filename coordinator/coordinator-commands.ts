// The commands a coordinator runs, as the KV service builds them from validated requests
// (coordinator/request-decode.ts), and what a coordinated write produced. Types only.

import type { CausalContext, Dot } from "../node/core/causal-context.js";
import type { DvvSet, Version } from "../node/core/dvv.js";
import type { BudgetVerdict } from "../node/wire/call-budget.js";
import type { QuorumConfig } from "./core/quorum-options.js";

/** A read as the coordinator sees it, after validation. */
export interface GetCommand {
  readonly bucket: string;
  readonly key: Uint8Array;
  readonly quorum: QuorumConfig;
  readonly deadlineMs: number;
  /** Sloppy quorum: fallbacks stand in for down primaries (off with strict_quorum). */
  readonly sloppy: boolean;
  /**
   * Takes bytes against the budget of the client call the read serves
   * (node/wire/call-budget.ts): each copy of the object the read keeps is held there as soon as
   * it arrives, so a client cannot make the node keep more objects than its budgets allow (240
   * unread gets of an 8 MiB value kept 240 copies, 2 GiB). A refusal ends the read as overloaded.
   */
  readonly holdBytes?: (bytes: number) => BudgetVerdict;
}

/** A write (or, with a tombstone version, a delete) after validation. */
export interface PutCommand extends GetCommand {
  readonly version: Version;
  readonly context: CausalContext;
  readonly ifNoneMatch: boolean;
}

/** What a coordinated write produced. */
export interface PutOutcome {
  /** The object at the coordinator after the write. */
  readonly object: DvvSet;
  /** The dot of the new version. */
  readonly dot: Dot;
}
