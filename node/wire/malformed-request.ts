// A request message that does not decode is the caller's error, not the node's. grpc-js answers
// it INTERNAL ("Error deserializing request", as gRPC's status table has it), which reads as a
// node fault on dashboards and to a client's retry policy; dkv answers INVALID_ARGUMENT and says
// what did not decode. Found by the protobuf fuzzer (issue 15, test/integration/fuzz.test.ts).

import * as grpc from "@grpc/grpc-js";
import { ForwardingCall } from "./forwarding-call.js";

/** Longest decoder message quoted back to the caller. */
const REASON_CHARS_MAX = 200;

/** What a request deserializer returns in place of a message it could not decode. */
export class MalformedRequest {
  constructor(readonly reason: string) {}
}

/** `deserialize`, returning a MalformedRequest instead of throwing on bytes it cannot decode. */
export function tolerantDeserialize<RequestType>(
  deserialize: grpc.deserialize<RequestType>,
): grpc.deserialize<RequestType> {
  return (bytes: Buffer) => {
    try {
      return deserialize(bytes);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return new MalformedRequest(reason.slice(0, REASON_CHARS_MAX)) as RequestType;
    }
  };
}

/**
 * Ends a call whose request message is a MalformedRequest with INVALID_ARGUMENT; the handler
 * never sees it, and replies it writes after that are dropped. Install it last (innermost), after
 * the call guard: who calls is checked first, so an anonymous caller still learns only that it
 * must authenticate.
 */
export function malformedRequestInterceptor(): grpc.ServerInterceptor {
  return (_method, call) => new MalformedCheckedCall(call).asIntercepted();
}

class MalformedCheckedCall extends ForwardingCall {
  #refused = false;

  // The handler may still write replies to messages that came before the malformed one (a
  // stream's writes wait for each other); one written after the status ends the HTTP/2 stream in
  // an error that leaves the call without trailers until the client gives up.
  override sendMessage(message: unknown, callback: () => void): void {
    if (!this.#refused) this.nextCall.sendMessage(message, callback);
  }

  override onReceiveMessage(message: unknown): void {
    if (this.#refused) return;
    if (!(message instanceof MalformedRequest)) {
      this.listener?.onReceiveMessage(message);
      return;
    }
    this.#refused = true;
    this.nextCall.sendStatus({
      code: grpc.status.INVALID_ARGUMENT,
      details: `malformed request message: ${message.reason}`,
    });
  }

  override onReceiveHalfClose(): void {
    if (!this.#refused) this.listener?.onReceiveHalfClose();
  }
}
