// The Membership service: the cluster metadata this node holds, the push-pull gossip between
// nodes, and the operator's staged changes, plan and commit (`dkv cluster ...`). Every change
// goes through the node's MetadataStore, so it is durable before it is answered, and spreads
// from there with the heartbeat's gossip.

import type * as grpc from "@grpc/grpc-js";
import type { MembershipHandlers } from "../../proto/generated/dkv/v1/Membership.js";
import type { MetadataReply } from "../../proto/generated/dkv/v1/MetadataReply.js";
import type { StageRequest__Output } from "../../proto/generated/dkv/v1/StageRequest.js";
import { LayoutError, type ClusterMetadata, type StagedChange } from "../core/layout.js";
import { answerExchange } from "./metadata-gossip.js";
import { clearStaged, commitStaged, stageChange } from "../core/layout-merge.js";
import { isValidNodeId, type NodeId } from "../core/node-id.js";
import { KvError } from "../core/errors.js";
import { toServiceError } from "../wire/grpc-status.js";
import type { ClusterView } from "../cluster-view.js";
import type { Logger } from "../logger.js";
import type { MetadataStore } from "./metadata-store.js";
import { planReport, type PartitionEstimate } from "./plan-report.js";

/** What the service needs from the node. */
export interface MembershipDeps {
  readonly view: ClusterView;
  readonly metadata: MetadataStore;
  readonly logger: Logger;
  /** Keys and bytes of one partition replica, estimated from this node's store. */
  readonly estimate?: () => PartitionEstimate;
  /** The transfer throttle per sending node, for the plan's ETA (0: none). */
  readonly bytesPerSecondPerSender?: number;
}

/** Builds the Membership service handlers. */
export function membershipHandlers(deps: MembershipDeps): MembershipHandlers {
  const { view, metadata, logger } = deps;
  const reply = (): MetadataReply => ({ metadata_json: metadata.json, digest: metadata.digest });
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
  return {
    Get(_call, callback) {
      callback(null, reply());
    },
    Exchange(call, callback) {
      const refused = view.refusal(call.metadata);
      if (refused !== undefined) return callback(toServiceError(refused));
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
      change(callback, `staged ${describeChange(staged)}`, (current) =>
        stageChange(current, staged),
      );
    },
    Clear(_call, callback) {
      change(callback, "staged changes cleared", clearStaged);
    },
    Plan(_call, callback) {
      try {
        const current = metadata.current;
        const report = planReport(current, deps.estimate?.(), deps.bytesPerSecondPerSender ?? 0);
        callback(null, {
          plan_json: JSON.stringify(report),
          based_on: current.staged.basedOn,
          revision: current.staged.revision,
        });
      } catch (error) {
        callback(toServiceError(asKvError(error)));
      }
    },
    Commit(call, callback) {
      const expected = { basedOn: call.request.based_on, revision: call.request.revision };
      change(callback, "staged changes committed", (current) => commitStaged(current, expected));
    },
  };
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
