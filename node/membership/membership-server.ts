// The Membership service: the cluster metadata this node holds, the push-pull gossip between
// nodes, and the operator's staged changes, plan and commit (`dkv cluster ...`). Stage, Clear,
// Plan and Commit are applied by the claimant only (node/core/claimant.ts): another node
// forwards them there once. Every change goes through the claimant's MetadataStore, so it is
// durable before it is answered; a commit is pushed to the up members before it is reported.

import type * as grpc from "@grpc/grpc-js";
import type { MembershipHandlers } from "../../proto/generated/dkv/v1/Membership.js";
import type { MetadataReply } from "../../proto/generated/dkv/v1/MetadataReply.js";
import type { StageRequest__Output } from "../../proto/generated/dkv/v1/StageRequest.js";
import { LayoutError, type ClusterMetadata, type StagedChange } from "../core/layout.js";
import { answerExchange } from "./metadata-gossip.js";
import { identityOfPeer } from "../security/peer-identity.js";
import { clearStaged, commitStaged, stageChange } from "../core/layout-merge.js";
import { isValidNodeId, type NodeId } from "../core/node-id.js";
import { KvError } from "../core/errors.js";
import { toServiceError } from "../wire/grpc-status.js";
import type { ClusterView } from "../cluster-view.js";
import type { Logger } from "../logger.js";
import type { MetadataStore } from "./metadata-store.js";
import { planReport, type PartitionEstimate } from "./plan-report.js";
import type { Clock } from "../clock.js";
import { routeMembershipCall } from "../core/claimant.js";
import { layoutDigest } from "../core/layout-codec.js";
import {
  COMMIT_PUSH_TIMEOUT_MS,
  FORWARDED_HEADER,
  forwardToClaimant,
  pushCommit,
  type ForwardedCall,
} from "./claimant-calls.js";

/** What the service needs from the node. */
export interface MembershipDeps {
  readonly view: ClusterView;
  readonly metadata: MetadataStore;
  readonly logger: Logger;
  /** Deadlines of forwarded calls and of a commit's push. */
  readonly clock: Clock;
  /** Keys and bytes of one partition replica, estimated from this node's store. */
  readonly estimate?: () => PartitionEstimate;
  /** The transfer throttle per sending node, for the plan's ETA (0: none). */
  readonly bytesPerSecondPerSender?: number;
}

/** Builds the Membership service handlers. */
export function membershipHandlers(deps: MembershipDeps): MembershipHandlers {
  const { view, metadata, logger, clock } = deps;
  const reply = (): MetadataReply => ({ metadata_json: metadata.json, digest: metadata.digest });
  /**
   * The plan this node showed last as the claimant (Riak's claimant keeps it too): what a
   * Commit `as_planned` commits, and only while the staged changes are still those it showed.
   * Not kept across a restart, nor shared: a new claimant has shown nothing yet.
   */
  let shownPlan: { basedOn: number; revision: number } | undefined;
  /** Runs a change of the metadata and answers with the result, or with why it was refused. */
  const change = (
    callback: grpc.sendUnaryData<MetadataReply>,
    what: string,
    apply: (current: ClusterMetadata) => ClusterMetadata,
  ): void => {
    metadata.update(apply).then(
      () => {
        logger.info({ version: metadata.current.layout.version, what }, "cluster metadata changed");
        callback(null, reply());
      },
      (error: unknown) => callback(toServiceError(asKvError(error))),
    );
  };
  /**
   * Runs `local` when this node is the claimant; else forwards the call to the claimant once
   * (`forward` makes it there) and answers with the claimant's reply or refusal.
   */
  const routed = <Reply>(
    call: grpc.ServerUnaryCall<unknown, Reply>,
    callback: grpc.sendUnaryData<Reply>,
    forward: ForwardedCall<Reply>,
    local: () => void,
  ): void => {
    const refused = view.refusal(call.metadata);
    if (refused !== undefined) return callback(toServiceError(refused));
    const forwardedBy = call.metadata.get(FORWARDED_HEADER)[0];
    const route = routeMembershipCall({
      layout: metadata.current.layout,
      up: view.upNodes(),
      self: view.self,
      forwarded: forwardedBy !== undefined,
    });
    switch (route.kind) {
      case "apply":
        return local();
      case "no-claimant":
        return callback(
          toServiceError(
            new KvError(
              "unavailable",
              `no claimant: ${view.self} sees no valid or joining member up to apply membership changes`,
            ),
          ),
        );
      case "refuse-forwarded":
        return callback(
          toServiceError(
            new KvError(
              "precondition-failed",
              `${view.self} is not the claimant in its own view (it sees ` +
                `${route.claimant ?? "no member up"} as claimant), so it does not apply a call ` +
                `forwarded by ${String(forwardedBy)}; the nodes disagree on who is up: retry`,
            ),
          ),
        );
      case "forward":
        logger.debug({ claimant: route.claimant }, "membership call forwarded to the claimant");
        forwardToClaimant({
          peers: view,
          clock,
          claimant: route.claimant,
          address: route.address,
          callerDeadline: call.getDeadline(),
          call: forward,
        }).then(
          (answer) => callback(null, answer),
          (error: unknown) => callback(toServiceError(asKvError(error))),
        );
    }
  };
  return {
    Get(_call, callback) {
      callback(null, reply());
    },
    Exchange(call, callback) {
      const refused = view.refusal(call.metadata);
      if (refused !== undefined) return callback(toServiceError(refused));
      // A node that is not a member (one joining before its commit, or one removed, learning
      // that it was) gets this node's metadata, as from Get, and its own is not merged: a
      // certificate of the cluster's CA must not be enough to change the layout or the users.
      const caller = identityOfPeer(call.getAuthContext().sslPeerCertificate);
      if (caller.kind === "node" && !view.isMember(caller.nodeId)) return callback(null, reply());
      answerExchange(metadata, call.request.metadata_json).then(
        () => callback(null, reply()),
        (error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          const unreadable = error instanceof LayoutError;
          const failure = unreadable
            ? new KvError("invalid-argument", `unreadable cluster metadata: ${reason}`)
            : asKvError(error);
          callback(toServiceError(failure));
        },
      );
    },
    Stage(call, callback) {
      let staged: StagedChange;
      try {
        staged = stagedChangeOf(call.request);
      } catch (error) {
        return callback(toServiceError(asKvError(error)));
      }
      const forward: ForwardedCall<MetadataReply> = (client, md, options, done) =>
        client.Stage(call.request, md, options, done);
      routed(call, callback, forward, () =>
        change(callback, `staged ${describeChange(staged)}`, (current) =>
          stageChange(current, staged),
        ),
      );
    },
    Clear(call, callback) {
      routed(
        call,
        callback,
        (client, md, options, done) => client.Clear({}, md, options, done),
        () => change(callback, "staged changes cleared", clearStaged),
      );
    },
    Plan(call, callback) {
      routed(
        call,
        callback,
        (client, md, options, done) => client.Plan({}, md, options, done),
        () => {
          try {
            const current = metadata.current;
            const estimate = deps.estimate?.();
            const report = planReport(current, estimate, deps.bytesPerSecondPerSender ?? 0);
            shownPlan = { basedOn: current.staged.basedOn, revision: current.staged.revision };
            callback(null, {
              plan_json: JSON.stringify(report),
              based_on: current.staged.basedOn,
              revision: current.staged.revision,
            });
          } catch (error) {
            callback(toServiceError(asKvError(error)));
          }
        },
      );
    },
    Commit(call, callback) {
      const { as_planned: asPlanned } = call.request;
      const given = { basedOn: call.request.based_on, revision: call.request.revision };
      routed(
        call,
        callback,
        (client, md, options, done) => client.Commit(call.request, md, options, done),
        () => {
          const expected = asPlanned ? shownPlan : given;
          if (expected === undefined) {
            const error = new KvError(
              "precondition-failed",
              `no plan shown to commit: check the changes with dkv cluster plan, then commit ` +
                `(a plan shown is good for one commit, on the claimant that showed it: ${view.self})`,
            );
            return callback(toServiceError(error));
          }
          // Refused or not, the next commit needs a plan shown after this one.
          if (asPlanned) shownPlan = undefined;
          void commitAndPush(expected, callback);
        },
      );
    },
  };

  /**
   * Commits on this node (the claimant), pushes the new layout to the up members and answers
   * only then: committed when this node still holds the layout it made, FAILED_PRECONDITION
   * when a concurrent commit of the same version (made at a node that believed itself claimant)
   * won the merge meanwhile.
   */
  async function commitAndPush(
    expected: { readonly basedOn: number; readonly revision: number },
    callback: grpc.sendUnaryData<MetadataReply>,
  ): Promise<void> {
    let committed: ClusterMetadata;
    let planned = "";
    try {
      committed = await metadata.update((current) => {
        const { version } = current.layout;
        if (expected.basedOn < version) {
          throw new KvError(
            "precondition-failed",
            `the plan shown was for layout version ${expected.basedOn}, but version ${version} ` +
              "is committed now (a concurrent commit came first): re-stage your changes and " +
              "check them with dkv cluster plan",
          );
        }
        const next = commitStaged(current, expected);
        planned = JSON.stringify(
          planReport(current, deps.estimate?.(), deps.bytesPerSecondPerSender ?? 0),
        );
        return next;
      });
    } catch (error) {
      return callback(toServiceError(asKvError(error)));
    }
    // A plan shown before this commit is of the layout before it: the next needs a new one.
    shownPlan = undefined;
    const { version } = committed.layout;
    const digest = layoutDigest(committed.layout);
    logger.info({ version, digest }, "staged changes committed; pushing to the members");
    const deadlineMs = clock.nowMs() + COMMIT_PUSH_TIMEOUT_MS;
    const push = await pushCommit({ peers: view, store: metadata, deadlineMs, logger });
    const held = metadata.current.layout;
    if (held.version === version && layoutDigest(held) !== digest) {
      const holders = push.heldAnother.join(", ") || "a member";
      return callback(
        toServiceError(
          new KvError(
            "precondition-failed",
            `the commit of layout version ${version} lost to a concurrent commit (held by ` +
              `${holders}): re-stage your changes with dkv cluster plan`,
          ),
        ),
      );
    }
    logger.info(
      { version, digest, reached: push.reached, missed: push.missed.map((miss) => miss.node) },
      "commit pushed to the up members",
    );
    callback(null, { ...reply(), plan_json: planned });
  }
}

/** A staged change from its request, with every field checked. */
export function stagedChangeOf(request: StageRequest__Output): StagedChange {
  const node = checkedNode(request.node, "node");
  switch (request.kind) {
    case "join":
      return { kind: "join", node, address: checkedAddress(request.address, "address") };
    case "leave":
      return { kind: "leave", node };
    case "force-remove":
      return { kind: "force-remove", node };
    case "replace":
      return {
        kind: "replace",
        node,
        by: checkedNode(request.by, "by"),
        address: checkedAddress(request.address, "address"),
      };
    default:
      throw new KvError(
        "invalid-argument",
        `unknown change ${JSON.stringify(request.kind)}: want join, leave, replace or force-remove`,
      );
  }
}

function checkedNode(value: string, field: string): NodeId {
  if (!isValidNodeId(value)) {
    throw new KvError(
      "invalid-argument",
      `${field} ${JSON.stringify(value)} is not a node id: want 1..64 of [A-Za-z0-9_.-]`,
    );
  }
  return value as NodeId;
}

function checkedAddress(value: string, field: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (match === null || Number(match[2]) === 0 || Number(match[2]) > 65535) {
    throw new KvError(
      "invalid-argument",
      `${field} ${JSON.stringify(value)} is not host:port with a port in 1..65535`,
    );
  }
  return value;
}

function describeChange(change: StagedChange): string {
  switch (change.kind) {
    case "join":
      return `join ${change.node} at ${change.address}`;
    case "replace":
      return `replace ${change.node} by ${change.by} at ${change.address}`;
    default:
      return `${change.kind} ${change.node}`;
  }
}

/** Layout refusals are the operator's to fix: failed precondition, with the layout's reason. */
export function asKvError(error: unknown): KvError {
  if (error instanceof KvError) return error;
  if (error instanceof LayoutError) return new KvError("precondition-failed", error.message);
  return new KvError("internal", error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}
