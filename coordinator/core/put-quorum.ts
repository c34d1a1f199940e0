// The put quorum state machine: counts write replies against w, dw and pw and decides ok or
// failed as early as the replies allow (DESIGN §4; Riak's riak_kv_put_core). Pure: the shell
// sends, waits and calls onReply/onTimeout; this file only decides.

import type { QuorumConfig } from "./quorum-options.js";
import { transitionGroupsState, type TransitionGroups } from "./transition-groups.js";

/** A node's name; the shell passes NodeIds, which are strings. */
type NodeName = string;

/** One replica a request was sent to; `primary` is false for a sloppy-quorum fallback. */
export interface QuorumTarget {
  readonly node: NodeName;
  readonly primary: boolean;
}

/**
 * A replica's answer to a write: stored (durably on disk or not yet), or an error. An error
 * with `overLimit` is a limit refusal: the replica stored nothing because the merge would have
 * broken the key's sibling or size bound (node/core/object-limit.ts).
 */
export type WriteReply =
  | { readonly ok: true; readonly durable: boolean }
  | { readonly ok: false; readonly error: string; readonly overLimit?: true };

/** Reply counts of a put; a durable ack is also an ack, a primary's ack counts for w and pw. */
export interface PutCounts {
  readonly acks: number;
  readonly durableAcks: number;
  readonly primaryAcks: number;
  readonly failures: number;
  readonly pending: number;
}

/** Why a put failed, in the order they are checked (see {@link PutQuorum}). */
type PutFailure =
  | "over-limit"
  | "write-quorum-unreachable"
  | "durable-quorum-unreachable"
  | "primary-quorum-unreachable"
  | "timeout";

/** A put's outcome so far; once ok or failed it never changes. */
export type PutVerdict =
  | { readonly status: "pending" }
  | { readonly status: "ok"; readonly counts: PutCounts }
  | {
      readonly status: "failed";
      readonly reason: PutFailure;
      readonly counts: PutCounts;
      readonly message: string;
    };

const PENDING: { readonly status: "pending" } = Object.freeze({ status: "pending" });

/**
 * Which targets have replied. Shared by PutQuorum and GetQuorum so that both treat the shell's
 * programmer errors alike: a reply from a node that is not a target, a second reply from one
 * node, or a reply after the deadline throws instead of skewing the counts.
 */
export class TargetLedger {
  readonly #owner: string;
  readonly #primaryByNode = new Map<NodeName, boolean>();
  readonly #replied = new Set<NodeName>();
  #pendingPrimaries = 0;
  #timedOut = false;

  /** `owner` names the machine in error messages. Targets must be distinct nodes. */
  constructor(owner: string, targets: readonly QuorumTarget[]) {
    this.#owner = owner;
    for (const target of targets) {
      if (this.#primaryByNode.has(target.node)) {
        throw new Error(`${owner}: node ${target.node} is listed twice among the targets`);
      }
      this.#primaryByNode.set(target.node, target.primary);
      if (target.primary) this.#pendingPrimaries += 1;
    }
  }

  /** Records that `node` replied and returns whether it is a primary. */
  record(node: NodeName): boolean {
    if (this.#timedOut) {
      throw new Error(`${this.#owner}: reply from ${node} after onTimeout`);
    }
    const primary = this.#primaryByNode.get(node);
    if (primary === undefined) {
      throw new Error(`${this.#owner}: reply from ${node}, which is not a target`);
    }
    if (this.#replied.has(node)) {
      throw new Error(`${this.#owner}: second reply from ${node}`);
    }
    this.#replied.add(node);
    if (primary) this.#pendingPrimaries -= 1;
    return primary;
  }

  /** Marks the deadline as passed; it passes once. */
  timeOut(): void {
    if (this.#timedOut) throw new Error(`${this.#owner}: onTimeout called twice`);
    this.#timedOut = true;
  }

  /** Targets that have not replied (they stay pending after the deadline). */
  get pending(): number {
    return this.#primaryByNode.size - this.#replied.size;
  }

  /** True when `node` is a target that has not replied, before the deadline. */
  isPending(node: NodeName): boolean {
    return !this.#timedOut && this.#primaryByNode.has(node) && !this.#replied.has(node);
  }

  /** Primary targets that have not replied. */
  get pendingPrimaries(): number {
    return this.#pendingPrimaries;
  }

  /** True once every target has replied or the deadline has passed. */
  get complete(): boolean {
    return this.#timedOut || this.pending === 0;
  }
}

/**
 * Decides a put from its write replies, like Riak's riak_kv_put_core but exact where Riak uses
 * fixed thresholds.
 *
 * Success iff acks ≥ w, durableAcks ≥ dw and primaryAcks ≥ pw. Riak's enough/1 gives up once
 * the failures reach a precomputed N−Q+1, so a pw that only fallbacks are left to answer is
 * settled only when every replica has replied. Here a condition is unreachable as soon as
 * even "every silent target acks durably" would not meet it. That best case meets all three
 * conditions at once whenever it meets each alone, so a put fails exactly when no ordering of
 * the remaining replies could make it succeed — and a put with too few targets fails at
 * construction.
 *
 * A put that has become impossible after at least one limit refusal fails as "over-limit",
 * whatever else failed: the write was refused, the remedy is to resolve siblings (retrying
 * cannot help), and the shell takes the write back everywhere (docs/ARCHITECTURE.md, "The
 * sibling limit"), which it may do only because the client is told the write was not applied.
 * A deadline is never over-limit: a put still possible when it passes may have landed.
 *
 * Otherwise, when several conditions are unreachable, the reason is the first of pw, w, dw. pw first
 * because missing primaries are the most specific cause and have their own remedy (wait for
 * the primaries, or drop pw to use fallbacks); Riak likewise reports pw_val_unsatisfied before
 * dw. w before dw because "too few replicas answered" is the root cause of both, while a dw
 * failure alone says the replicas answered but not durably.
 *
 * The verdict is decided once and never changes; later replies still update the counts and
 * {@link complete}, which the shell uses to know when the request is finished.
 */
export class PutQuorum {
  readonly #config: Pick<QuorumConfig, "n" | "w" | "dw" | "pw">;
  readonly #groups: TransitionGroups | undefined;
  /** Per node that replied: acked, acked durably, or failed (for the groups' counts). */
  readonly #replies: Map<NodeName, "ack" | "durable" | "failed"> | undefined;
  readonly #ledger: TargetLedger;
  #acks = 0;
  #durableAcks = 0;
  #primaryAcks = 0;
  #failures = 0;
  /** The first limit refusal's message, and how many there were. */
  #overLimitError: string | undefined;
  #overLimit = 0;
  /** The first replica error, named in failure messages so an operator sees the cause. */
  #firstError: string | undefined;
  #verdict: PutVerdict = PENDING;

  /** `targets`: the distinct replicas written to; `groups`: see {@link TransitionGroups}. */
  constructor(options: {
    readonly config: Pick<QuorumConfig, "n" | "w" | "dw" | "pw">;
    readonly targets: readonly QuorumTarget[];
    readonly groups?: TransitionGroups | undefined;
  }) {
    const { n, w, dw, pw } = options.config;
    // resolveQuorum guarantees these ranges (DESIGN §2); anything else is a shell bug.
    const valid = [n, w, dw, pw].every(Number.isInteger) && n >= 1 && w >= 1 && w <= n;
    if (!valid || dw < 0 || dw > w || pw < 0 || pw > n) {
      throw new Error(`PutQuorum: invalid config ${JSON.stringify(options.config)}`);
    }
    this.#config = options.config;
    this.#groups = options.groups;
    this.#replies = options.groups === undefined ? undefined : new Map();
    this.#ledger = new TargetLedger("PutQuorum", options.targets);
    this.#verdict = this.#decide();
  }

  /** The current verdict; decided already at construction when too few targets exist. */
  get verdict(): PutVerdict {
    return this.#verdict;
  }

  /** The counts now, including replies that arrived after the verdict. */
  get counts(): PutCounts {
    return {
      acks: this.#acks,
      durableAcks: this.#durableAcks,
      primaryAcks: this.#primaryAcks,
      failures: this.#failures,
      pending: this.#ledger.pending,
    };
  }

  /** True once every target has replied (or onTimeout was called). */
  get complete(): boolean {
    return this.#ledger.complete;
  }

  /** Counts one target's reply; throws if `node` is not a target or already replied. */
  onReply(node: string, reply: WriteReply): PutVerdict {
    const primary = this.#ledger.record(node);
    this.#replies?.set(node, reply.ok ? (reply.durable ? "durable" : "ack") : "failed");
    if (reply.ok) {
      this.#acks += 1;
      if (reply.durable) this.#durableAcks += 1;
      if (primary) this.#primaryAcks += 1;
    } else {
      this.#failures += 1;
      this.#firstError ??= `; first error: ${node}: ${reply.error}`;
      if (reply.overLimit === true) {
        this.#overLimit += 1;
        this.#overLimitError ??= reply.error;
      }
    }
    if (this.#verdict.status === "pending") this.#verdict = this.#decide();
    return this.#verdict;
  }

  /** The deadline passed: a pending verdict becomes failed/"timeout"; a decided one stays. */
  onTimeout(): PutVerdict {
    this.#ledger.timeOut();
    if (this.#verdict.status === "pending") {
      const { n, w, dw, pw } = this.#config;
      const counts = this.counts;
      let message = `write timed out: ${counts.acks}/${w} acks`;
      // Name every demand still unmet, so the user sees which one the deadline cut short.
      if (counts.durableAcks < dw) message += `, ${counts.durableAcks}/${dw} durable acks`;
      if (counts.primaryAcks < pw) message += `, ${counts.primaryAcks}/${pw} primary acks`;
      message += ` (n=${n})`;
      this.#verdict = { status: "failed", reason: "timeout", counts, message };
    }
    return this.#verdict;
  }

  /** Limit refusals counted so far (they are failures too). */
  get overLimit(): number {
    return this.#overLimit;
  }

  /** ok, failed (over-limit, else the first unreachable of pw, w, dw), or pending. */
  #decide(): PutVerdict {
    const verdict = this.#decideQuorum();
    if (verdict.status !== "failed" || this.#overLimitError === undefined) return verdict;
    const { acks } = verdict.counts;
    const message =
      `${this.#overLimitError} (write refused: ${acks}/${this.#config.w} acks, ` +
      `${this.#overLimit} refused over the limit)`;
    return { status: "failed", reason: "over-limit", counts: verdict.counts, message };
  }

  /** ok, failed (first unreachable of pw, w, dw), or pending, from the counts now. */
  #decideQuorum(): PutVerdict {
    const { n, w, dw, pw } = this.#config;
    const counts = this.counts;
    const { acks, durableAcks, primaryAcks, pending } = counts;
    if (acks >= w && durableAcks >= dw && primaryAcks >= pw) return { status: "ok", counts };
    const groups =
      this.#groups === undefined || this.#replies === undefined
        ? undefined
        : transitionGroupsState(this.#groups, this.#replies, (node) =>
            this.#ledger.isPending(node),
          );
    if (groups === "met") return { status: "ok", counts };
    // Failed only when neither rule can still be met.
    if (groups === "reachable") return PENDING;

    const primariesReachable = primaryAcks + this.#ledger.pendingPrimaries;
    if (primariesReachable < pw) {
      const noun = primariesReachable === 1 ? "primary" : "primaries";
      const message =
        `primary write quorum unreachable: ${primaryAcks}/${pw} primary acks, ` +
        `${primariesReachable} ${noun} reachable (n=${n})${this.#firstError ?? ""}`;
      return { status: "failed", reason: "primary-quorum-unreachable", counts, message };
    }
    if (acks + pending < w) {
      const message =
        `write quorum unreachable: ${acks}/${w} acks (n=${n}, pw=${pw})` + (this.#firstError ?? "");
      return { status: "failed", reason: "write-quorum-unreachable", counts, message };
    }
    if (durableAcks + pending < dw) {
      const message =
        `durable write quorum unreachable: ${durableAcks}/${dw} durable acks ` +
        `(w=${w}, dw=${dw})${this.#firstError ?? ""}`;
      return { status: "failed", reason: "durable-quorum-unreachable", counts, message };
    }
    return PENDING;
  }
}
