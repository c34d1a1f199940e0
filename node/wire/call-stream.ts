// The HTTP/2 stream under a gRPC server call. grpc-js keeps it in a TypeScript-private field of
// BaseServerInterceptingCall (`stream`, grpc-js 1.14.7); this is the one place that reads it,
// checked at run time so a grpc-js upgrade that moves it fails loudly, here and in its test.

import type * as grpc from "@grpc/grpc-js";
import type { ServerHttp2Stream } from "node:http2";

/**
 * The stream of the call handed to the first server interceptor (grpc-js's base call). Throws
 * when the call has no such stream: the admission bounds cannot work without it, and a node
 * that silently ran without them would take any amount of memory from its clients.
 */
export function callStreamOf(call: grpc.ServerInterceptingCallInterface): ServerHttp2Stream {
  const stream = (call as unknown as { readonly stream?: unknown }).stream;
  if (!isServerStream(stream)) {
    throw new Error(
      "grpc-js internals changed: the base server call has no http2 `stream` field; " +
        "node/wire/call-stream.ts must be updated for this grpc-js version",
    );
  }
  return stream;
}

function isServerStream(value: unknown): value is ServerHttp2Stream {
  if (typeof value !== "object" || value === null) return false;
  const stream = value as Partial<ServerHttp2Stream>;
  return (
    typeof stream.prependListener === "function" &&
    typeof stream.close === "function" &&
    typeof stream.respond === "function" &&
    typeof stream.session === "object"
  );
}
