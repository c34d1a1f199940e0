// The gRPC server of a node with its memory bounds installed: the admission interceptor on every
// service, the internal message-size bound, and serializers that let the interceptor measure a
// reply before it is written (each reply is still encoded once, see encoded-reply.ts), and the
// connection bounds (connection-gate.ts) on the HTTP/2 server grpc-js listens with.

import type { Clock } from "../clock.js";
import * as grpc from "@grpc/grpc-js";
import type { Limits } from "../core/limits.js";
import { admissionInterceptor, type AdmissionObserver } from "./admission-interceptor.js";
import { encodedReplyAware } from "./encoded-reply.js";
import { malformedRequestInterceptor, tolerantDeserialize } from "./malformed-request.js";
import type net from "node:net";
import type { ConnectionGate } from "./connection-gate.js";

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
  constructor(options: grpc.ServerOptions, gate: ConnectionGate | undefined) {
    super(options);
    if (gate !== undefined) watchConnections(this, gate);
  }

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
 * bound), and the admission interceptor first, so it sees the HTTP/2 stream of every call and
 * every status (it makes their details well-formed); the malformed-request check last, so a
 * caller is identified before its bytes are judged.
 */
export function createBoundedServer(
  limits: Limits,
  options: grpc.ChannelOptions,
  clock: Clock,
  extra: {
    readonly observer?: AdmissionObserver;
    /** Checks who calls (node/security/call-guard.ts), after admission. */
    readonly guard?: grpc.ServerInterceptor;
    /** Bounds connections per address and in all, and their handshake time. */
    readonly gate?: ConnectionGate;
  } = {},
): grpc.Server {
  const admission = admissionInterceptor(limits, clock, extra.observer);
  return new BoundedServer(
    {
      ...options,
      "grpc.max_receive_message_length": limits.grpcMessageBytesMax,
      "grpc.max_send_message_length": limits.grpcMessageBytesMax,
      // No connection may open more streams than the whole node admits calls (HTTP/2
      // SETTINGS_MAX_CONCURRENT_STREAMS; Node's default is unbounded).
      "grpc.max_concurrent_streams": limits.requestsInFlightMax,
      // A connection with no call open this long gets GOAWAY; a client reconnects on demand.
      "grpc.max_connection_idle_ms": limits.connectionIdleMsMax,
      interceptors: [
        admission,
        ...(extra.guard === undefined ? [] : [extra.guard]),
        malformedRequestInterceptor(),
      ],
    },
    extra.gate,
  );
}

/**
 * grpc-js 1.14 makes the HTTP/2 server of each bound address in its private
 * `createHttp2Server(credentials)` and does not expose the server or its sockets. Wrapping
 * that method hands the gate each server before it listens, so no socket escapes it. Checked
 * at construction: a grpc-js without the method stops the node instead of leaving it unbounded.
 */
function watchConnections(server: grpc.Server, gate: ConnectionGate): void {
  const internals = server as unknown as {
    createHttp2Server?: (this: grpc.Server, credentials: grpc.ServerCredentials) => net.Server;
  };
  const create = internals.createHttp2Server;
  if (typeof create !== "function") {
    throw new Error("grpc-js has no createHttp2Server: connection limits cannot be installed");
  }
  internals.createHttp2Server = function (credentials) {
    const http2Server = create.call(this, credentials);
    gate.attach(http2Server);
    return http2Server;
  };
}
