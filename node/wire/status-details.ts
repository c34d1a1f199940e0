// grpc-js writes a status's details with encodeURI, which throws on a lone UTF-16 surrogate; the
// throw escapes every handler and ends the node process. Details often quote what a client sent
// (a bucket, a user name, JSON), and a string decoded from protobuf can hold a lone surrogate,
// so every status is made well-formed (U+FFFD for a lone surrogate) before it is written.
// Found by the protobuf fuzzer (issue 15).

import * as grpc from "@grpc/grpc-js";

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` with every lone surrogate replaced by U+FFFD. */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\ufffd");
}

/**
 * Makes the details of every status sent through it well-formed. Install it right after the
 * admission interceptor, so the statuses of the call guard and of every handler pass through it.
 */
export function wellFormedStatusInterceptor(): grpc.ServerInterceptor {
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      sendStatus(status, next) {
        next({ ...status, details: wellFormed(status.details ?? "") });
      },
    });
}
