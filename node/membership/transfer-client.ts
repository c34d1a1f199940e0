// The receiving side's transport in production: a TransferPort whose streams are Transfer.Fetch
// calls on the peers' clients. Errors become KvErrors with the remote message. No decisions.

import type { ServiceError } from "@grpc/grpc-js";
import type { TransferBatch__Output } from "../../proto/generated/dkv/v1/TransferBatch.js";
import { KvError } from "../core/errors.js";
import type { NodeId } from "../core/node-id.js";
import type { PeerClients } from "../peer-clients.js";
import { parseStorageKeyString, storageKeyString } from "../storage/storage-key.js";
import { fromServiceError } from "../wire/grpc-status.js";
import type { PullRequest, ReceivedBatch, TransferPort } from "./partition-puller.js";

/** The production TransferPort over the peers' Transfer clients. */
export class GrpcTransferPort implements TransferPort {
  readonly #peers: { peer(node: NodeId): PeerClients | undefined };

  constructor(peers: { peer(node: NodeId): PeerClients | undefined }) {
    this.#peers = peers;
  }

  async *fetch(
    source: NodeId,
    request: PullRequest,
    signal: AbortSignal,
  ): AsyncGenerator<ReceivedBatch> {
    const peer = this.#peers.peer(source);
    if (peer === undefined)
      throw new KvError("unavailable", `transfer: ${source} cannot be called`);
    const after =
      request.cursor.afterId === undefined
        ? undefined
        : parseStorageKeyString(request.cursor.afterId);
    const call = peer.transfer.Fetch({
      layout_version: request.layoutVersion,
      partition: request.partition,
      leaf: request.cursor.leaf,
      has_after: after !== undefined,
      after_bucket: after?.bucket ?? "",
      after_key: after?.key ?? new Uint8Array(0),
    });
    const cancel = (): void => call.cancel();
    signal.addEventListener("abort", cancel, { once: true });
    try {
      for await (const batch of call as AsyncIterable<TransferBatch__Output>) {
        yield fromWire(batch);
      }
    } catch (error) {
      if (signal.aborted) throw new KvError("unavailable", "transfer: stopped");
      throw isServiceError(error)
        ? fromServiceError(error)
        : new KvError("unavailable", `transfer: ${String(error)}`);
    } finally {
      signal.removeEventListener("abort", cancel);
      call.cancel();
    }
  }
}

function fromWire(batch: TransferBatch__Output): ReceivedBatch {
  return {
    objects: batch.objects.map(({ bucket, key, object }) => ({ bucket, key, object })),
    cursor: {
      leaf: batch.leaf,
      afterId: batch.has_after ? storageKeyString(batch.after_bucket, batch.after_key) : undefined,
    },
    done: batch.done,
    keysLeft: Number(batch.keys_left),
    throttledMs: batch.throttled_ms,
  };
}

function isServiceError(error: unknown): error is ServiceError {
  return typeof error === "object" && error !== null && "code" in error && "details" in error;
}
