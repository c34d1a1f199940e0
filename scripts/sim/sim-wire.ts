// What a simulated node's services answer, as the simulated wire carries it: a reply or a
// failure value (sim-endpoint.ts's WireReply), made the way the gRPC servers make theirs; and
// the AntiEntropy.Exchange answer as protobuf bytes, counted as the counted service counts.

import { GRPC_MESSAGE_PREFIX_BYTES } from "../../node/anti-entropy/exchange-client.js";
import type { AntiEntropy } from "../../node/anti-entropy/anti-entropy.js";
import { isKvError } from "../../node/core/errors.js";
import type { NodeId } from "../../node/core/node-id.js";
import { PeerError } from "../../coordinator/kv-service.js";
import type { WireFailure, WireReply } from "./sim-endpoint.js";
import { exchangeMethod } from "./sim-ports.js";

/** A call's outcome as a value: the reply, or the failure the gRPC server would send. */
export function wire<Reply>(answer: Promise<Reply>): Promise<WireReply<Reply>> {
  return answer.then((reply) => ({ ok: true, reply }), failureOf);
}

/**
 * A thrown error as a reply: a KvError by its code; a peer's failure of a forwarded write
 * unchanged (kv-server.ts passes it through); anything else is a bug ("internal").
 */
function failureOf(error: unknown): WireFailure {
  if (error instanceof PeerError) return failureOf(error.answer);
  if (isKvError(error)) {
    return { ok: false, code: error.code, error: error.message, notApplied: error.notApplied };
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { ok: false, code: "internal", error: `internal error: ${message}`, notApplied: false };
}

/**
 * exchange-server.ts: decode, answer in order (the opener asks one at a time), encode; the
 * bytes are counted into the node's counters as its counted service definition does.
 */
export function answerExchangeBytes(
  antiEntropy: AntiEntropy,
  request: Uint8Array,
  from: NodeId,
): Promise<Uint8Array> {
  const method = exchangeMethod();
  const counters = antiEntropy.stats.counters;
  counters.bytesReceived += request.length + GRPC_MESSAGE_PREFIX_BYTES;
  return antiEntropy.answerer
    .answer(method.requestDeserialize(Buffer.from(request)), from)
    .then((response) => {
      const bytes = method.responseSerialize(response);
      counters.bytesSent += bytes.length + GRPC_MESSAGE_PREFIX_BYTES;
      return bytes;
    });
}
