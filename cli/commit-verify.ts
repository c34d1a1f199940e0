// `dkv cluster commit` checks what it was told: after the claimant answered "committed version
// N+1", the members are asked (Membership.Get) for a few seconds until each holds that very
// layout (same version and layout digest) or a later version. A member holding another layout
// of version N+1 means a concurrent commit won the merge: the command then fails, never "ok".

import type { ClientSecurity } from "../node/security/client-security.js";
import * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { MetadataReply__Output } from "../proto/generated/dkv/v1/MetadataReply.js";
import type { Layout } from "../node/core/layout.js";
import { decodeMetadata, layoutDigest } from "../node/core/layout-codec.js";
import { callMembership } from "./commands/cluster-membership.js";

/** How long the command waits for the members to hold the commit. */
export const COMMIT_VERIFY_MS = 5_000;
/** Deadline of each Get while verifying. */
const VERIFY_CALL_TIMEOUT_MS = 1_000;
/** Pause between rounds of Gets. */
const VERIFY_PAUSE_MS = 250;

/** What one member holds, compared with the layout the claimant committed. */
export type MemberCheck =
  | { readonly node: string; readonly state: "same" | "later" | "behind" }
  | { readonly node: string; readonly state: "other"; readonly digest: string }
  | { readonly node: string; readonly state: "unreachable"; readonly reason: string };

/** Compares the layout a member holds with the committed one (version and layout digest). */
export function checkMember(node: string, committed: Layout, held: Layout): MemberCheck {
  if (held.version > committed.version) return { node, state: "later" };
  if (held.version < committed.version) return { node, state: "behind" };
  const digest = layoutDigest(held);
  return digest === layoutDigest(committed)
    ? { node, state: "same" }
    : { node, state: "other", digest };
}

/** A commit that lost to another layout of its version: FAILED_PRECONDITION, exit status 6. */
export class CommitLostError extends Error {
  readonly code = status.FAILED_PRECONDITION;
  readonly details: string;
  constructor(details: string) {
    super(details);
    this.name = "CommitLostError";
    this.details = details;
  }
}

/** The outcome of verifying: every member's last check. */
export interface CommitVerification {
  readonly digest: string;
  readonly checks: readonly MemberCheck[];
}

/**
 * Asks every member of `committed` that is not removed for its layout, in rounds, until none
 * that answers lags behind it (each holds it or a later version) or COMMIT_VERIFY_MS passed. Throws CommitLostError as soon
 * as one holds another layout of the committed version.
 */
export async function verifyCommit(
  committed: Layout,
  security: ClientSecurity,
): Promise<CommitVerification> {
  const members = committed.members.filter((member) => member.state !== "removed");
  const digest = layoutDigest(committed);
  const giveUpAtMs = Date.now() + COMMIT_VERIFY_MS;
  for (;;) {
    const checks = await Promise.all(
      members.map(async ({ node, address }): Promise<MemberCheck> => {
        try {
          const { reply } = await callMembership<MetadataReply__Output>(
            [address],
            VERIFY_CALL_TIMEOUT_MS,
            (client, options, done) => client.Get({}, options, done),
            security,
          );
          const held = decodeMetadata(Buffer.from(reply.metadata_json, "utf8")).layout;
          return checkMember(node, committed, held);
        } catch (error) {
          const reason = (error as grpc.ServiceError).details ?? (error as Error).message;
          return { node, state: "unreachable", reason };
        }
      }),
    );
    for (const check of checks) {
      if (check.state !== "other") continue;
      throw new CommitLostError(
        `the commit of layout version ${committed.version} lost to a concurrent commit: ` +
          `${check.node} holds another layout of that version (digest ${check.digest}, ours ` +
          `${digest}); re-stage your changes with dkv cluster plan`,
      );
    }
    // A member that cannot be asked is reported, not waited for: it may be down for good.
    const settled = checks.every((check) => check.state !== "behind");
    if (settled || Date.now() >= giveUpAtMs) return { digest, checks };
    await new Promise((resolve) => setTimeout(resolve, VERIFY_PAUSE_MS));
  }
}

/** Lines about members that do not hold the commit yet (empty when all do). */
export function verificationWarnings(verification: CommitVerification): string[] {
  const lines: string[] = [];
  for (const check of verification.checks) {
    if (check.state === "behind") {
      lines.push(`warning: ${check.node} does not hold the new layout yet; gossip will bring it`);
    }
    if (check.state === "unreachable") {
      lines.push(
        `warning: ${check.node} could not be asked (${check.reason}); it was not verified`,
      );
    }
  }
  return lines;
}

/** The committed layout in a reply to Commit. */
export function committedLayout(reply: MetadataReply__Output): Layout {
  return decodeMetadata(Buffer.from(reply.metadata_json, "utf8")).layout;
}
