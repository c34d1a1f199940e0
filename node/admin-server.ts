// gRPC handlers of the Admin service: this node's view of the cluster for `dkv status` (up/down
// and phi from the failure detector), the liveness probe the heartbeats use, fault injection.

import type { AdminHandlers } from "../proto/generated/dkv/v1/Admin.js";
import type { MemberStatus } from "../proto/generated/dkv/v1/MemberStatus.js";
import { partitionsOwnedBy } from "./core/ring.js";
import type { ClusterView, Member } from "./cluster-view.js";
import type { Storage } from "./storage/storage.js";
import type { IncomingTransfer } from "./membership/transfer-loop.js";
import type { Logger } from "./logger.js";
import { serviceError } from "./replica-server.js";
import { toServiceError } from "./wire/grpc-status.js";
import { KvError } from "./core/errors.js";
import type { NodeId } from "./core/node-id.js";
import type { Replica } from "./replica.js";
import { join, values, vtag } from "./core/dvv.js";
import { type ContextKeys, encodeKeyContext } from "./core/key-context.js";
import type { HintStore } from "./hints/hint-store.js";
import type { LatencySnapshot } from "./metrics/latency-window.js";

/** What the Admin service reports besides the cluster view. */
export interface NodeFacts {
  readonly replica: Replica;
  readonly storage: Storage;
  readonly dataDir: string;
  readonly defaultN: number;
  readonly startedAtMs: number;
  /** Hints this node holds for other members (hinted handoff). */
  readonly hints: HintStore;
  /** KV requests of the last minute with their p50/p99 (KvMetrics.recent). */
  readonly recentLatency?: () => LatencySnapshot;
  /** host:port of the Prometheus endpoint, once it listens; undefined while metrics are off. */
  readonly metricsAddress?: () => string | undefined;
  /** The keys contexts are sealed with, as the KV service uses them (absent: unsealed). */
  readonly contextKeys?: () => ContextKeys | undefined;
  /** Partitions this node gains in a membership change and still waits for. */
  readonly incomingTransfers?: () => readonly IncomingTransfer[];
  /** Partitions this node handed over and has not dropped yet (drop-loop.ts). */
  readonly handoverPending?: () => number;
  /** Whether SetDroppedPeers and SetLinkFaults are served (`dkv serve --enable-fault-injection`). */
  readonly faultInjection: boolean;
  /** "tls" or "insecure" (Status.security). */
  readonly security: string;
}

/**
 * Why a node started without --enable-fault-injection refuses a fault-injection call.
 * FAILED_PRECONDITION, not PERMISSION_DENIED: no caller may do this on such a node, whoever it
 * is; the node is in the wrong state for the call, which only a restart with the flag changes.
 * PERMISSION_DENIED is left for the caller's identity (admin grants, issue 15).
 */
function faultInjectionRefusal(rpc: string): KvError {
  return new KvError(
    "precondition-failed",
    `${rpc} is fault injection, which this node does not serve: it was started without ` +
      "--enable-fault-injection (restart it with `dkv serve --enable-fault-injection` on a test " +
      "cluster; never in production)",
  );
}

/** Builds the Admin service handlers. */
export function adminHandlers(view: ClusterView, facts: NodeFacts, logger: Logger): AdminHandlers {
  return {
    Ping(call, callback) {
      const refused = view.refusal(call.metadata);
      if (refused !== undefined) return callback(toServiceError(refused));
      callback(null, { node_id: view.self, metadata_digest: view.metadataDigest });
    },
    SetDroppedPeers(call, callback) {
      if (!facts.faultInjection) {
        return callback(toServiceError(faultInjectionRefusal("SetDroppedPeers")));
      }
      const unknown = call.request.peers.filter((peer) => !view.isMember(peer));
      if (unknown.length > 0) {
        const message = `unknown node ${unknown.join(", ")}: members are ${view.members.map((member) => member.node).join(", ")}`;
        return callback(toServiceError(new KvError("invalid-argument", message)));
      }
      view.setDroppedPeers(call.request.peers as NodeId[]);
      logger.warn({ dropped: view.droppedPeers() }, "fault injection: dropped peers set");
      callback(null, { peers: [...view.droppedPeers()] });
    },
    SetLinkFaults(call, callback) {
      if (!facts.faultInjection) {
        return callback(toServiceError(faultInjectionRefusal("SetLinkFaults")));
      }
      const faults = call.request.faults.map((fault) => ({
        peer: fault.peer as NodeId,
        delayMs: fault.delay_ms,
        jitterMs: fault.jitter_ms,
        loss: fault.loss,
      }));
      try {
        view.linkFaults.set(faults, (node) => node !== view.self && view.isMember(node));
      } catch (error) {
        return callback(toServiceError(error as KvError));
      }
      const now = view.linkFaults.list();
      logger.warn({ linkFaults: now }, "fault injection: link faults set");
      callback(null, {
        faults: now.map((fault) => ({
          peer: fault.peer,
          delay_ms: fault.delayMs,
          jitter_ms: fault.jitterMs,
          loss: fault.loss,
        })),
      });
    },
    LocalGet(call, callback) {
      const bucket = call.request.bucket === "" ? "default" : call.request.bucket;
      facts.replica.get(bucket, call.request.key).then(
        (object) =>
          callback(null, {
            found: object !== undefined,
            siblings: (object === undefined ? [] : values(object)).map((sibling) => ({
              value: sibling.value,
              content_type: sibling.contentType,
              metadata: { ...sibling.metadata },
              vtag: vtag(sibling.dot),
              last_modified_ms: sibling.lastModifiedMs,
              deleted: sibling.deleted,
            })),
            context:
              object === undefined
                ? Buffer.alloc(0)
                : encodeKeyContext(bucket, call.request.key, join(object), facts.contextKeys?.()),
          }),
        (error: unknown) => callback(serviceError(error, logger, "local get")),
      );
    },
    Status(_call, callback) {
      try {
        const recent = facts.recentLatency?.();
        callback(null, {
          node_id: view.self,
          address: view.addressOf(view.self) ?? "",
          partition_count: view.ring.partitionCount,
          default_n: facts.defaultN,
          storage_engine: facts.storage.engine,
          data_dir: facts.dataDir,
          keys_stored: facts.storage.stats().keys,
          started_at_ms: facts.startedAtMs,
          members: view.members.map((member) => memberStatus(view, member, facts.hints)),
          corrupt_records: facts.storage.stats().corruptRecords,
          dropped_peers: [...view.droppedPeers()],
          recent_requests: recent?.requests ?? 0,
          recent_p50_ms: recent?.p50Ms ?? 0,
          recent_p99_ms: recent?.p99Ms ?? 0,
          recent_window_ms: Math.round(recent?.windowMs ?? 0),
          metrics_address: facts.metricsAddress?.() ?? "",
          layout_version: view.layout.version,
          layout_in_transition: view.previousRing !== undefined,
          member_state:
            view.layout.members.find((member) => member.node === view.self)?.state ?? "",
          handover_partitions_pending: facts.handoverPending?.() ?? 0,
          hints_pending_total: facts.hints.pendingCount(),
          fault_injection_enabled: facts.faultInjection,
          security: facts.security,
          incoming_transfers: (facts.incomingTransfers?.() ?? []).map((transfer) => ({
            partition: transfer.partition,
            waiting_for: [...transfer.waitingFor],
            why: transfer.why,
            state: transfer.state,
            source: transfer.stream?.source ?? "",
            keys_done: transfer.stream?.keysDone ?? 0,
            bytes_done: transfer.stream?.bytesDone ?? 0,
            keys_left: transfer.stream?.keysLeft ?? 0,
            bytes_left: transfer.stream?.bytesLeft ?? 0,
            bytes_per_second: transfer.stream?.bytesPerSecond ?? 0,
            eta_ms: transfer.stream?.etaMs ?? 0,
          })),
        });
      } catch (error) {
        callback(serviceError(error, logger, "status"));
      }
    },
  };
}

/** A member as the failure detector sees it now (no ping of its own: the heartbeats are). */
function memberStatus(view: ClusterView, member: Member, hints: HintStore): MemberStatus {
  const partitions = partitionsOwnedBy(view.ring, member.node);
  const pending = hints.totals(member.node);
  const base = {
    node_id: member.node,
    address: member.address,
    partitions,
    hints_pending: pending.count,
    hint_bytes_pending: pending.bytes,
  };
  if (member.node === view.self) return { ...base, up: true, round_trip_ms: 0, phi: 0, error: "" };
  const report = view.peerReport(member.node);
  return {
    ...base,
    up: report.state === "up",
    round_trip_ms: report.roundTripMs,
    phi: report.phi,
    error: report.state === "up" ? "" : report.reason,
  };
}
