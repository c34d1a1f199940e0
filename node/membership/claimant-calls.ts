// The claimant's messaging (the choice itself is node/core/claimant.ts): a Stage, Clear, Plan or
// Commit received by another node is forwarded to the claimant once, with a deadline, and its
// answer returned; a commit the claimant made is pushed to every up member (Membership.Exchange,
// as the gossip does) before it is reported, so a concurrent commit that wins is noticed.

import * as grpc from "@grpc/grpc-js";
import type { MembershipClient } from "../../proto/generated/dkv/v1/Membership.js";
import type { Clock } from "../clock.js";
import { KvError } from "../core/errors.js";
import type { NodeId } from "../core/node-id.js";
import { decodeMetadata, layoutDigest } from "../core/layout-codec.js";
import type { Logger } from "../logger.js";
import type { PeerClients } from "../peer-clients.js";
import { fromServiceError } from "../wire/grpc-status.js";
import type { MetadataStore } from "./metadata-store.js";

/** Marks a membership call forwarded by a node to its claimant: it is never forwarded again. */
export const FORWARDED_HEADER = "dkv-forwarded-by";

/**
 * Longest a forwarded call waits for the claimant (less when the caller's deadline is sooner).
 * A commit's answer includes its push to the members, COMMIT_PUSH_TIMEOUT_MS at most.
 */
export const CLAIMANT_FORWARD_TIMEOUT_MS = 10_000;

/** Longest the claimant waits for the members to take a commit before it answers. */
export const COMMIT_PUSH_TIMEOUT_MS = 3_000;

/** What the claimant calls need of the node's view. */
export interface ClaimantPeers {
  readonly self: NodeId;
  peer(node: NodeId): PeerClients | undefined;
  unreachableReason(node: NodeId): string;
  upNodes(): ReadonlySet<NodeId>;
  isMember(node: string): boolean;
}

/** One unary call on the claimant's Membership client, with the forwarding metadata. */
export type ForwardedCall<Reply> = (
  client: MembershipClient,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  done: (error: grpc.ServiceError | null, reply?: Reply) => void,
) => void;

/**
 * Makes `call` on the claimant and resolves with its reply. The claimant's own refusals come
 * back as they are (a KvError of the same status and message); a claimant that cannot be
 * reached is UNAVAILABLE, one that did not answer in time DEADLINE_EXCEEDED (a forwarded commit
 * may still have been applied), both naming the claimant.
 */
export function forwardToClaimant<Reply>(options: {
  readonly peers: ClaimantPeers;
  readonly clock: Clock;
  readonly claimant: NodeId;
  readonly address: string;
  /** The deadline of the call being forwarded (grpc-js: a Date, or Infinity for none). */
  readonly callerDeadline: grpc.Deadline;
  readonly call: ForwardedCall<Reply>;
}): Promise<Reply> {
  const { peers, clock, claimant, address } = options;
  const named = `claimant ${claimant} (${address})`;
  const peer = peers.peer(claimant);
  if (peer === undefined) {
    const reason = peers.unreachableReason(claimant);
    return Promise.reject(new KvError("unavailable", `${named} is unreachable: ${reason}`));
  }
  const caller = options.callerDeadline;
  const callerMs = caller instanceof Date ? caller.getTime() : caller;
  const deadline = Math.min(callerMs, clock.nowMs() + CLAIMANT_FORWARD_TIMEOUT_MS);
  const metadata = new grpc.Metadata();
  metadata.set(FORWARDED_HEADER, peers.self);
  return new Promise((resolve, reject) =>
    options.call(peer.membership, metadata, { deadline }, (error, reply) => {
      if (error === null && reply !== undefined) return resolve(reply);
      if (error === null) return reject(new KvError("internal", `${named} sent no reply`));
      const details = error.details || error.message;
      if (error.code === grpc.status.UNAVAILABLE || error.code === grpc.status.CANCELLED) {
        return reject(
          new KvError("unavailable", `${named} is unreachable: ${details}`, { cause: error }),
        );
      }
      if (error.code === grpc.status.DEADLINE_EXCEEDED) {
        return reject(
          new KvError(
            "timeout",
            `${named} did not answer in time (${details}); a commit may still have been applied: ` +
              "check dkv cluster show",
            { cause: error },
          ),
        );
      }
      reject(fromServiceError(error));
    }),
  );
}

/** Which members took a commit the claimant pushed, and which could not be reached. */
export interface CommitPush {
  readonly reached: readonly NodeId[];
  /**
   * Reached members that answered with another layout of the pushed layout's version: one that
   * wins the merge over the pushed one (an answer is the merge of both), so the commit lost.
   */
  readonly heldAnother: readonly NodeId[];
  readonly missed: readonly { readonly node: NodeId; readonly reason: string }[];
}

/**
 * Pushes this node's metadata to every other up member (Membership.Exchange) and merges each
 * answer, as a gossip exchange does; resolves once all answered or `deadlineMs` passed. The
 * caller then compares its layout with the one it committed: a concurrent commit of the same
 * version that wins the merge has replaced it by now if any reached member held it.
 */
export async function pushCommit(options: {
  readonly peers: ClaimantPeers;
  readonly store: MetadataStore;
  readonly deadlineMs: number;
  readonly logger: Logger;
}): Promise<CommitPush> {
  const { peers, store, deadlineMs } = options;
  const targets = [...peers.upNodes()].filter(
    (node) => node !== peers.self && peers.isMember(node),
  );
  const json = store.json;
  const pushed = store.current.layout;
  const pushedDigest = layoutDigest(pushed);
  const reached: NodeId[] = [];
  const heldAnother: NodeId[] = [];
  const missed: { node: NodeId; reason: string }[] = [];
  await Promise.all(
    targets.sort().map(async (node) => {
      try {
        const answer = await exchange(peers, node, json, deadlineMs);
        const theirs = decodeMetadata(Buffer.from(answer, "utf8"));
        const other = theirs.layout.version === pushed.version;
        if (other && layoutDigest(theirs.layout) !== pushedDigest) heldAnother.push(node);
        await store.merge(theirs);
        reached.push(node);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        missed.push({ node, reason });
        options.logger.debug({ peer: node, reason }, "commit push failed; gossip will retry");
      }
    }),
  );
  return { reached: reached.sort(), heldAnother: heldAnother.sort(), missed };
}

function exchange(
  peers: ClaimantPeers,
  node: NodeId,
  json: string,
  deadline: number,
): Promise<string> {
  const peer = peers.peer(node);
  if (peer === undefined) return Promise.reject(new Error(peers.unreachableReason(node)));
  return new Promise((resolve, reject) =>
    peer.membership.Exchange({ metadata_json: json }, { deadline }, (error, reply) =>
      error !== null || reply === undefined
        ? reject(new Error(error?.details ?? "no reply"))
        : resolve(reply.metadata_json),
    ),
  );
}
