// The AntiEntropy gRPC service: the Exchange stream (each request handed in order to the
// ExchangeAnswerer) and Status. The service definition is wrapped so that every message's
// bytes are counted. No decisions are made here.

import * as grpc from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import { loadProto } from "../../proto/load-proto.js";
import type { AntiEntropyHandlers } from "../../proto/generated/dkv/v1/AntiEntropy.js";
import type { AaeStatusResponse } from "../../proto/generated/dkv/v1/AaeStatusResponse.js";
import type { ExchangeRequest__Output } from "../../proto/generated/dkv/v1/ExchangeRequest.js";
import type { ExchangeResponse } from "../../proto/generated/dkv/v1/ExchangeResponse.js";
import type { AaeReapRequest__Output } from "../../proto/generated/dkv/v1/AaeReapRequest.js";
import type { AaeReapResponse } from "../../proto/generated/dkv/v1/AaeReapResponse.js";
import type { NodeId } from "../core/node-id.js";
import { KvError, isKvError } from "../core/errors.js";
import { FROM_HEADER } from "../peer-clients.js";
import { toServiceError } from "../wire/grpc-status.js";
import type { ClusterView } from "../cluster-view.js";
import type { Logger } from "../logger.js";
import { AAE_MESSAGE_LIMITS } from "./aae-options.js";
import type { ExchangeAnswerer } from "./exchange-answerer.js";
import { GRPC_MESSAGE_PREFIX_BYTES } from "./exchange-client.js";
import type { ByteSink } from "./exchange-tally.js";

type AnyMethod = MethodDefinition<unknown, unknown, unknown, unknown>;

/** The AntiEntropy service definition with Exchange's messages counted into `sink`. */
export function countedServiceDefinition(sink: ByteSink): grpc.ServiceDefinition {
  const base = loadProto().definition["dkv.v1.AntiEntropy"] as unknown as Record<string, AnyMethod>;
  const exchange = base["Exchange"];
  if (exchange === undefined) throw new Error("dkv.proto has no AntiEntropy.Exchange");
  const counted: AnyMethod = {
    ...exchange,
    requestDeserialize: (bytes: Buffer) => {
      sink.bytesReceived += bytes.length + GRPC_MESSAGE_PREFIX_BYTES;
      return exchange.requestDeserialize(bytes);
    },
    responseSerialize: (value: unknown) => {
      const bytes = exchange.responseSerialize(value);
      sink.bytesSent += bytes.length + GRPC_MESSAGE_PREFIX_BYTES;
      return bytes;
    },
  };
  return { ...base, Exchange: counted } as unknown as grpc.ServiceDefinition;
}

type ExchangeCall = grpc.ServerDuplexStream<ExchangeRequest__Output, ExchangeResponse>;

/** The service handlers; `calls` collects open Exchange streams so shutdown can cancel them. */
export function antiEntropyHandlers(deps: {
  readonly answerer: ExchangeAnswerer;
  readonly view: ClusterView;
  readonly logger: Logger;
  readonly status: () => AaeStatusResponse;
  readonly reap: (request: AaeReapRequest__Output) => Promise<AaeReapResponse>;
  readonly calls: Set<ExchangeCall>;
}): AntiEntropyHandlers {
  return {
    Exchange(call) {
      const refused = deps.view.refusal(call.metadata);
      const from = call.metadata.get(FROM_HEADER)[0];
      if (refused !== undefined) return fail(call, refused);
      if (typeof from !== "string" || !deps.view.isMember(from)) {
        return fail(
          call,
          new KvError("invalid-argument", "anti-entropy: dkv-from must name a member"),
        );
      }
      serveExchange(call, from as NodeId, deps);
    },
    Status(call, callback) {
      callback(null, deps.status());
    },
    Reap(call, callback) {
      const refused = deps.view.refusal(call.metadata);
      const from = call.metadata.get(FROM_HEADER)[0];
      if (refused !== undefined) return callback(toServiceError(refused));
      if (typeof from !== "string" || !deps.view.isMember(from)) {
        return callback(
          toServiceError(new KvError("invalid-argument", "reap: dkv-from must name a member")),
        );
      }
      deps.reap(call.request).then(
        (reply) => callback(null, reply),
        (error: unknown) => {
          if (!isKvError(error)) deps.logger.error({ err: error }, "reap failed unexpectedly");
          callback(
            toServiceError(
              isKvError(error) ? error : new KvError("internal", `reap: ${String(error)}`),
            ),
          );
        },
      );
    },
  };
}

/** Answers the stream's requests one after another, in order; any failure ends the call. */
function serveExchange(
  call: ExchangeCall,
  from: NodeId,
  deps: {
    readonly answerer: ExchangeAnswerer;
    readonly logger: Logger;
    readonly calls: Set<ExchangeCall>;
  },
): void {
  deps.calls.add(call);
  let chain: Promise<void> = Promise.resolve();
  let pending = 0;
  let failed = false;
  const stop = (error: KvError): void => {
    if (failed) return;
    failed = true;
    fail(call, error);
  };
  call.on("data", (request: ExchangeRequest__Output) => {
    pending += 1;
    if (pending > AAE_MESSAGE_LIMITS.pendingRequestsMax) {
      stop(
        new KvError(
          "overloaded",
          `anti-entropy: over ${AAE_MESSAGE_LIMITS.pendingRequestsMax} requests pending`,
        ),
      );
      return;
    }
    chain = chain.then(async () => {
      if (failed || call.cancelled) return;
      try {
        const response = await deps.answerer.answer(request, from);
        if (!failed && !call.cancelled) call.write(response);
      } catch (error) {
        if (!isKvError(error))
          deps.logger.error({ err: error }, "anti-entropy answer failed unexpectedly");
        stop(isKvError(error) ? error : new KvError("internal", `anti-entropy: ${String(error)}`));
      } finally {
        pending -= 1;
      }
    });
  });
  call.on("end", () => {
    void chain.then(() => {
      if (!failed) call.end();
    });
  });
  const forget = (): void => {
    deps.calls.delete(call);
  };
  call.on("cancelled", forget);
  call.on("finish", forget);
  call.on("error", forget);
}

function fail(call: ExchangeCall, error: KvError): void {
  call.emit("error", toServiceError(error));
}
