// The receiving side of hinted handoff: the Handoff.Deliver stream. Each batch's objects are
// merged into the local replica with DVV sync, durably, and only then acknowledged, so the
// sender may delete its hints (DESIGN §5). applyHandoffBatch is that logic without the stream;
// the deterministic simulation calls it too.

import type * as grpc from "@grpc/grpc-js";
import type { HandoffHandlers } from "../../proto/generated/dkv/v1/Handoff.js";
import type { HintBatch__Output } from "../../proto/generated/dkv/v1/HintBatch.js";
import type { HintAck } from "../../proto/generated/dkv/v1/HintAck.js";
import { decodeObject } from "../core/object-decode.js";
import { KvError } from "../core/errors.js";
import { toServiceError } from "../wire/grpc-status.js";
import type { Replica } from "../replica.js";
import type { ClusterView } from "../cluster-view.js";
import type { Logger } from "../logger.js";
import type { NodeId } from "../core/node-id.js";

/** Counters of handed-off objects received. */
export interface HandoffReceiveStats {
  received: number;
}

/** Builds the Handoff service handlers. */
export function handoffHandlers(
  replica: Replica,
  view: ClusterView,
  logger: Logger,
  stats: HandoffReceiveStats,
): HandoffHandlers {
  return {
    Deliver(call: grpc.ServerDuplexStream<HintBatch__Output, HintAck>) {
      const refused = view.refusal(call.metadata);
      if (refused !== undefined) {
        call.emit("error", toServiceError(refused));
        return;
      }
      // Batches are applied one at a time, in order, so acknowledgements follow the stream.
      let chain = Promise.resolve();
      call.on("data", (batch: HintBatch__Output) => {
        chain = chain
          .then(() => applyHandoffBatch(replica, view.self, batch, stats))
          .then(
            (ids) => void call.write({ ids }),
            (error: unknown) => {
              logger.warn({ err: error }, "handoff batch refused");
              const failure =
                error instanceof KvError ? error : new KvError("internal", String(error));
              call.emit("error", toServiceError(failure));
            },
          );
      });
      call.on("end", () => {
        chain.then(
          () => call.end(),
          () => call.end(),
        );
      });
    },
  };
}

/** One batch of handed-off objects, as the stream carries it (objects encoded). */
export interface HandoffBatch {
  readonly target: string;
  readonly items: readonly {
    readonly id: number;
    readonly bucket: string;
    readonly key: Uint8Array;
    readonly object: Uint8Array;
  }[];
}

/**
 * The primary's side of one batch, without the transport (the gRPC stream above, or the
 * simulation's network): merges every object durably, then returns the ids to acknowledge.
 * Throws a KvError for a batch meant for another node or holding a malformed object.
 */
export async function applyHandoffBatch(
  replica: Replica,
  self: NodeId,
  batch: HandoffBatch,
  stats: HandoffReceiveStats,
): Promise<number[]> {
  if (batch.target !== self) {
    throw new KvError("invalid-argument", `hints for ${batch.target} sent to ${self}`);
  }
  const decoded = batch.items.map((item) => {
    const object = decodeObject(item.object);
    if (!object.ok)
      throw new KvError("invalid-argument", `hint object malformed: ${object.reason}`);
    return { item, object: object.object };
  });
  await Promise.all(
    decoded.map(({ item, object }) =>
      replica.merge(item.bucket, item.key, object, { durable: true }),
    ),
  );
  stats.received += decoded.length;
  return decoded.map(({ item }) => item.id);
}
