// The Transfer gRPC service: Fetch streams a partition's batches from the TransferSource to the
// node that gains it, writing no faster than the caller reads (the call's flow control), so a
// stream holds about one batch in memory. No decisions are made here.

import { once } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import type { TransferHandlers } from "../../proto/generated/dkv/v1/Transfer.js";
import type { TransferBatch } from "../../proto/generated/dkv/v1/TransferBatch.js";
import type { TransferRequest__Output } from "../../proto/generated/dkv/v1/TransferRequest.js";
import { KvError, isKvError } from "../core/errors.js";
import type { NodeId } from "../core/node-id.js";
import { parseStorageKeyString, storageKeyString } from "../storage/storage-key.js";
import { FROM_HEADER } from "../peer-clients.js";
import { toServiceError } from "../wire/grpc-status.js";
import type { Logger } from "../logger.js";
import type { TransferBatchOut, TransferSource } from "./transfer-source.js";

/** One open Transfer.Fetch call. */
export type FetchCall = grpc.ServerWritableStream<TransferRequest__Output, TransferBatch>;

/** What the handlers need of the node's view. */
export interface TransferServerView {
  refusal(metadata: grpc.Metadata): KvError | undefined;
  isMember(node: string): boolean;
}

/** The Transfer service handlers; `calls` collects open streams so shutdown can cancel them. */
export function transferHandlers(deps: {
  readonly source: TransferSource;
  readonly view: TransferServerView;
  readonly logger: Logger;
  readonly calls: Set<FetchCall>;
}): TransferHandlers {
  return {
    Fetch(call) {
      const refused = deps.view.refusal(call.metadata);
      const from = call.metadata.get(FROM_HEADER)[0];
      if (refused !== undefined) return fail(call, refused);
      if (typeof from !== "string" || !deps.view.isMember(from)) {
        return fail(call, new KvError("invalid-argument", "transfer: dkv-from must name a member"));
      }
      void serveFetch(call, from as NodeId, deps);
    },
  };
}

async function serveFetch(
  call: FetchCall,
  from: NodeId,
  deps: {
    readonly source: TransferSource;
    readonly logger: Logger;
    readonly calls: Set<FetchCall>;
  },
): Promise<void> {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  call.on("cancelled", stop);
  call.on("error", stop);
  deps.calls.add(call);
  const request = call.request;
  try {
    const cursor = {
      leaf: request.leaf,
      afterId: request.has_after
        ? storageKeyString(request.after_bucket, request.after_key)
        : undefined,
    };
    const batches = deps.source.batches(
      { layoutVersion: request.layout_version, partition: request.partition, cursor },
      from,
      abort.signal,
    );
    for await (const batch of batches) {
      if (abort.signal.aborted || call.cancelled) return;
      if (!call.write(toWire(batch))) await once(call, "drain", { signal: abort.signal });
    }
    call.end();
  } catch (error) {
    if (abort.signal.aborted || call.cancelled) return;
    if (!isKvError(error)) deps.logger.error({ err: error }, "transfer stream failed unexpectedly");
    fail(call, isKvError(error) ? error : new KvError("internal", `transfer: ${String(error)}`));
  } finally {
    deps.calls.delete(call);
  }
}

function toWire(batch: TransferBatchOut): TransferBatch {
  const after =
    batch.cursor.afterId === undefined ? undefined : parseStorageKeyString(batch.cursor.afterId);
  return {
    objects: batch.objects.map(({ bucket, key, object }) => ({ bucket, key, object })),
    leaf: batch.cursor.leaf,
    has_after: after !== undefined,
    after_bucket: after?.bucket ?? "",
    after_key: after?.key ?? new Uint8Array(0),
    done: batch.done,
    keys_left: batch.keysLeft,
    throttled_ms: batch.throttledMs,
  };
}

/** Ends every open stream with UNAVAILABLE (shutdown): the receivers resume elsewhere. */
export function closeTransferCalls(calls: Set<FetchCall>): void {
  for (const call of calls) fail(call, new KvError("unavailable", "node is shutting down"));
  calls.clear();
}

function fail(call: FetchCall, error: KvError): void {
  call.emit("error", toServiceError(error));
}
