// A server call layer with nothing between it and the layer below: the call the next layer (or
// the handler) sees, and the listener the layer below reports to, in one object that passes
// everything on. grpc-js's ServerInterceptingCall makes a listener, a responder and a closure per
// call and per message for each interceptor; dkv's own interceptors extend this instead and
// override what they check (admission-interceptor.ts, malformed-request.ts).

import type * as grpc from "@grpc/grpc-js";

/** What a server call reports its events to (grpc-js's InterceptingServerListener). */
export type CallListener = Parameters<grpc.ServerInterceptingCallInterface["start"]>[0];

type Status = Parameters<grpc.ServerInterceptingCallInterface["sendStatus"]>[0];

export class ForwardingCall implements grpc.ServerInterceptingCallInterface, CallListener {
  /**
   * The layer below, named as grpc-js's own layers name it: connection-identity.ts walks
   * `nextCall` down to the base call.
   */
  readonly nextCall: grpc.ServerInterceptingCallInterface;
  /** The next layer's listener, once it started the call. */
  protected listener: CallListener | undefined;

  constructor(next: grpc.ServerInterceptingCallInterface) {
    this.nextCall = next;
  }

  /**
   * This call as a server interceptor's result: grpc-js types that as its ServerInterceptingCall
   * class, but calls only the interface's methods on it (server.ts).
   */
  asIntercepted(): grpc.ServerInterceptingCall {
    return this as unknown as grpc.ServerInterceptingCall;
  }

  start(listener: CallListener): void {
    this.listener = listener;
    this.nextCall.start(this);
  }

  // The listener side: events from the layer below, passed up.

  onReceiveMetadata(metadata: grpc.Metadata): void {
    this.listener?.onReceiveMetadata(metadata);
  }

  onReceiveMessage(message: unknown): void {
    this.listener?.onReceiveMessage(message);
  }

  onReceiveHalfClose(): void {
    this.listener?.onReceiveHalfClose();
  }

  onCancel(): void {
    this.listener?.onCancel();
  }

  // The call side: what the next layer sends, passed down.

  sendMetadata(metadata: grpc.Metadata): void {
    this.nextCall.sendMetadata(metadata);
  }

  sendMessage(message: unknown, callback: () => void): void {
    this.nextCall.sendMessage(message, callback);
  }

  sendStatus(status: Status): void {
    this.nextCall.sendStatus(status);
  }

  startRead(): void {
    this.nextCall.startRead();
  }

  getPeer(): string {
    return this.nextCall.getPeer();
  }

  getDeadline(): grpc.Deadline {
    return this.nextCall.getDeadline();
  }

  getHost(): string {
    return this.nextCall.getHost();
  }

  getAuthContext(): ReturnType<grpc.ServerInterceptingCallInterface["getAuthContext"]> {
    return this.nextCall.getAuthContext();
  }

  getConnectionInfo(): ReturnType<grpc.ServerInterceptingCallInterface["getConnectionInfo"]> {
    return this.nextCall.getConnectionInfo();
  }

  getMetricsRecorder(): ReturnType<grpc.ServerInterceptingCallInterface["getMetricsRecorder"]> {
    return this.nextCall.getMetricsRecorder();
  }
}
