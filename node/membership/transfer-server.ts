// The Transfer gRPC service: Fetch streams a partition's batches from the TransferSource to the
// node that gains it, writing no faster than the caller reads (the call's flow control), so a
// stream holds about one batch in memory; a caller that reads nothing for unreadMsMax has its
// stream ended, which frees the source's slot. No decisions are made here.

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
import type { Clock } from "../clock.js";

/** One open Transfer.Fetch call. */
export type FetchCall = grpc.ServerWritableStream<TransferRequest__Output, TransferBatch>;

/** What the handlers need of the node's view. */
export interface TransferServerView {
  refusal(metadata: grpc.Metadata): KvError | undefined;
  isMember(node: string): boolean;
}

/** What the Transfer service needs. */
export interface TransferServerDeps {
  readonly source: Pick<TransferSource, "batches">;
  readonly view: TransferServerView;
  readonly logger: Logger;
  readonly calls: Set<FetchCall>;
  /** Times the wait for a caller to read (unreadMsMax). */
  readonly clock: Clock;
  /** Limits.transferUnreadMsMax: how long a stream may wait for its caller to read. */
  readonly unreadMsMax: number;
}

/** The Transfer service handlers; `calls` collects open streams so shutdown can cancel them. */
export function transferHandlers(deps: TransferServerDeps): TransferHandlers {
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

async function serveFetch(call: FetchCall, from: NodeId, deps: TransferServerDeps): Promise<void> {
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
      if (!call.write(toWire(batch))) await drained(call, deps, abort.signal);
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

/**
 * Resolves when the caller has read what was written ('drain'). Rejects with a KvError
 * (DEADLINE_EXCEEDED) when it read nothing for unreadMsMax, and with the abort reason when the
 * call ends first. Leaving the batch loop then closes the source's generator, freeing its slot.
 */
async function drained(call: FetchCall, deps: TransferServerDeps, signal: AbortSignal) {
  const stalled = new AbortController();
  const cancel = deps.clock.setTimer(deps.unreadMsMax, () => stalled.abort());
  try {
    await once(call, "drain", { signal: AbortSignal.any([signal, stalled.signal]) });
  } catch (error) {
    if (!stalled.signal.aborted || signal.aborted) throw error;
    throw new KvError(
      "timeout",
      `transfer: the receiver read nothing for ${deps.unreadMsMax} ms (transferUnreadMsMax); ` +
        "stream ended, resume from the cursor",
    );
  } finally {
    cancel();
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
