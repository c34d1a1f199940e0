// The get quorum state machine: counts read replies against r and pr, merges the objects found
// and decides ok or failed as early as the replies allow (DESIGN §4; Riak's riak_kv_get_core).
// Pure: the shell sends, waits and calls onReply/onTimeout; this file only decides.

import { TargetLedger, type QuorumTarget } from "./put-quorum.js";
import type { QuorumConfig } from "./quorum-options.js";

/** A node's name; the shell passes NodeIds, which are strings. */
type NodeName = string;

/** A replica's answer to a read: its object (undefined = not found), or an error. */
export type ReadReply<T> =
  | { readonly ok: true; readonly object: T | undefined }
  | { readonly ok: false; readonly error: string };

/** One reply as received, kept for read repair. */
export interface ReceivedReadReply<T> {
  readonly node: NodeName;
  readonly primary: boolean;
  readonly reply: ReadReply<T>;
}

/** Reply counts of a get; `replies` counts answers (found or not), not errors. */
export interface GetCounts {
  readonly replies: number;
  readonly primaryReplies: number;
  readonly found: number;
  readonly failures: number;
  readonly pending: number;
}

/** A get's outcome so far; once ok or failed it never changes. */
export type GetVerdict<T> =
  | { readonly status: "pending" }
  | { readonly status: "ok"; readonly object: T | undefined; readonly counts: GetCounts }
  | {
      readonly status: "failed";
      readonly reason: "read-quorum-unreachable" | "primary-read-quorum-unreachable" | "timeout";
      readonly counts: GetCounts;
      readonly message: string;
    };

const PENDING: { readonly status: "pending" } = Object.freeze({ status: "pending" });

/**
 * Decides a get from its read replies.
 *
 * A not-found answer counts towards r, as with Riak's default notfound_ok = true: the replica
 * answered, and "I have nothing" is an answer. Success iff replies ≥ r and primaryReplies ≥ pr;
 * the object is then the merge of every found object received so far (undefined when none
 * was found). `merge` must be commutative, associative and idempotent (the DVV sync), so the
 * arrival order does not matter.
 *
 * Like {@link PutQuorum}, it fails as soon as even "every silent target answers" could not
 * meet r or pr, rather than at Riak's fixed N−max(R,PR)+1 failures; pr is reported before r
 * for the same reason pw comes before w. The verdict never changes once decided; replies keep
 * being recorded for read repair (Riak's final_action runs after all replies or the deadline).
 */
export class GetQuorum<T> {
  readonly #config: Pick<QuorumConfig, "n" | "r" | "pr">;
  readonly #ledger: TargetLedger;
  readonly #merge: (a: T, b: T) => T;
  readonly #replies: ReceivedReadReply<T>[] = [];
  #answers = 0;
  #primaryAnswers = 0;
  #found = 0;
  #failures = 0;
  /** The first replica error, named in failure messages so an operator sees the cause. */
  #firstError: string | undefined;
  #object: T | undefined = undefined;
  #verdict: GetVerdict<T> = PENDING;

  /** `targets` are the distinct replicas the read goes to (usually the first n live ones). */
  constructor(options: {
    readonly config: Pick<QuorumConfig, "n" | "r" | "pr">;
    readonly targets: readonly QuorumTarget[];
    readonly merge: (a: T, b: T) => T;
  }) {
    const { n, r, pr } = options.config;
    const valid = [n, r, pr].every(Number.isInteger) && n >= 1 && r >= 1 && r <= n;
    if (!valid || pr < 0 || pr > n) {
      throw new Error(`GetQuorum: invalid config ${JSON.stringify(options.config)}`);
    }
    this.#config = options.config;
    this.#ledger = new TargetLedger("GetQuorum", options.targets);
    this.#merge = options.merge;
    this.#verdict = this.#decide();
  }

  /** The current verdict; decided already at construction when too few targets exist. */
  get verdict(): GetVerdict<T> {
    return this.#verdict;
  }

  /** The counts now, including replies that arrived after the verdict. */
  get counts(): GetCounts {
    return {
      replies: this.#answers,
      primaryReplies: this.#primaryAnswers,
      found: this.#found,
      failures: this.#failures,
      pending: this.#ledger.pending,
    };
  }

  /** True once every target has replied (or onTimeout was called). */
  get complete(): boolean {
    return this.#ledger.complete;
  }

  /** Every reply received so far, in arrival order, for read repair. */
  replies(): readonly ReceivedReadReply<T>[] {
    return this.#replies.slice();
  }

  /** Counts one target's reply; throws if `node` is not a target or already replied. */
  onReply(node: string, reply: ReadReply<T>): GetVerdict<T> {
    const primary = this.#ledger.record(node);
    this.#replies.push({ node, primary, reply });
    if (reply.ok) {
      this.#answers += 1;
      if (primary) this.#primaryAnswers += 1;
      if (reply.object !== undefined) {
        this.#found += 1;
        // After the verdict the merge would go unused: read repair merges all replies itself.
        if (this.#verdict.status === "pending") {
          const found = reply.object;
          this.#object = this.#object === undefined ? found : this.#merge(this.#object, found);
        }
      }
    } else {
      this.#failures += 1;
      this.#firstError ??= `; first error: ${node}: ${reply.error}`;
    }
    if (this.#verdict.status === "pending") this.#verdict = this.#decide();
    return this.#verdict;
  }

  /** The deadline passed: a pending verdict becomes failed/"timeout"; a decided one stays. */
  onTimeout(): GetVerdict<T> {
    this.#ledger.timeOut();
    if (this.#verdict.status === "pending") {
      const { n, r, pr } = this.#config;
      const counts = this.counts;
      let message = `read timed out: ${counts.replies}/${r} replies`;
      // Name the primary demand too when it is the one still unmet.
      if (counts.primaryReplies < pr) {
        message += `, ${counts.primaryReplies}/${pr} primary replies`;
      }
      message += ` (n=${n})`;
      this.#verdict = { status: "failed", reason: "timeout", counts, message };
    }
    return this.#verdict;
  }

  /** ok, failed (first unreachable of pr, r), or pending, from the counts now. */
  #decide(): GetVerdict<T> {
    const { n, r, pr } = this.#config;
    const counts = this.counts;
    const { replies, primaryReplies, pending } = counts;
    if (replies >= r && primaryReplies >= pr) {
      return { status: "ok", object: this.#object, counts };
    }
    const primariesReachable = primaryReplies + this.#ledger.pendingPrimaries;
    if (primariesReachable < pr) {
      const noun = primariesReachable === 1 ? "primary" : "primaries";
      const message =
        `primary read quorum unreachable: ${primaryReplies}/${pr} primary replies, ` +
        `${primariesReachable} ${noun} reachable (n=${n})${this.#firstError ?? ""}`;
      return { status: "failed", reason: "primary-read-quorum-unreachable", counts, message };
    }
    if (replies + pending < r) {
      const message =
        `read quorum unreachable: ${replies}/${r} replies (n=${n}, pr=${pr})` +
        (this.#firstError ?? "");
      return { status: "failed", reason: "read-quorum-unreachable", counts, message };
    }
    return PENDING;
  }
}
