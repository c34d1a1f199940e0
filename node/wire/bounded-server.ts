// The gRPC server of a node with its memory bounds installed: the admission interceptor on every
// service, the internal message-size bound, and serializers that let the interceptor measure a
// reply before it is written (each reply is still encoded once, see encoded-reply.ts).

import type { Clock } from "../clock.js";
import * as grpc from "@grpc/grpc-js";
import type { Limits } from "../core/limits.js";
import { admissionInterceptor, type AdmissionObserver } from "./admission-interceptor.js";
import { encodedReplyAware } from "./encoded-reply.js";
import { malformedRequestInterceptor, tolerantDeserialize } from "./malformed-request.js";
import { wellFormedStatusInterceptor } from "./status-details.js";

// The handler type, which grpc-js does not export, taken from register's own signature.
declare const server: grpc.Server;
type HandleCall<RequestType, ResponseType> = Parameters<
  typeof server.register<RequestType, ResponseType>
>[1];

/**
 * A grpc.Server whose every registered method (addService, health, reflection, anti-entropy
 * all register through it) serializes an EncodedReply as its bytes, and hands a request it
 * cannot decode to malformedRequestInterceptor instead of answering INTERNAL.
 */
class BoundedServer extends grpc.Server {
  override register<RequestType, ResponseType>(
    name: string,
    handler: HandleCall<RequestType, ResponseType>,
    serialize: grpc.serialize<ResponseType>,
    deserialize: grpc.deserialize<RequestType>,
    type: string,
  ): boolean {
    const replies = encodedReplyAware(serialize);
    return super.register(name, handler, replies, tolerantDeserialize(deserialize), type);
  }
}

/**
 * The node's server: `options` (channel options) plus the internal message bound as the
 * server-wide receive and send limit (the admission interceptor applies each service's smaller
 * bound), and the admission interceptor first, so it sees the HTTP/2 stream of every call; then
 * the status-details check, which every later status passes; the malformed-request check last,
 * so a caller is identified before its bytes are judged.
 */
export function createBoundedServer(
  limits: Limits,
  options: grpc.ChannelOptions,
  clock: Clock,
  extra: {
    readonly observer?: AdmissionObserver;
    /** Checks who calls (node/security/call-guard.ts), after admission. */
    readonly guard?: grpc.ServerInterceptor;
  } = {},
): grpc.Server {
  const admission = admissionInterceptor(limits, clock, extra.observer);
  return new BoundedServer({
    ...options,
    "grpc.max_receive_message_length": limits.grpcMessageBytesMax,
    "grpc.max_send_message_length": limits.grpcMessageBytesMax,
    interceptors: [
      admission,
      wellFormedStatusInterceptor(),
      ...(extra.guard === undefined ? [] : [extra.guard]),
      malformedRequestInterceptor(),
    ],
  });
}
