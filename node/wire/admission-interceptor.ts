// The server interceptor that bounds what clients can make a node hold: it admits or refuses
// every call before reading it, counts request bytes as they arrive and reply bytes until they
// are read, and resets what is left unread. Decisions are the AdmissionLedger's; this is the shell.

import * as grpc from "@grpc/grpc-js";
import { constants as http2Constants, type Http2Session, type ServerHttp2Stream } from "node:http2";
import type { Limits } from "../core/limits.js";
import type { Clock } from "../clock.js";
import {
  AdmissionLedger,
  compressedRefused,
  messageTooLarge,
  type Refusal,
  type RefusalReason,
} from "./admission-ledger.js";
import { EncodedReply, isEncodedReplyAware } from "./encoded-reply.js";
import { callStreamOf } from "./call-stream.js";
import { attachCallBudget, type BudgetVerdict, type CallBudget } from "./call-budget.js";
import { GRPC_FRAME_HEADER_BYTES, GrpcFrameScanner } from "./grpc-frame-scanner.js";
import { isPublicService, messageBytesMaxOf, serviceOf } from "./service-message-limits.js";
import { wellFormed } from "./status-details.js";
import { ForwardingCall, type CallListener } from "./forwarding-call.js";
import { DeadlineTimers, type DeadlineEntry } from "../deadline-timers.js";

/** What the interceptor did besides admitting: refusals, resets and closed connections. */
export type AdmissionEvent = RefusalReason | "reply-unread-reset" | "connection-closed";

/** Told about every refusal and reset (metrics, tests). */
export interface AdmissionObserver {
  event(event: AdmissionEvent): void;
}

interface Shared {
  readonly ledger: AdmissionLedger<Http2Session>;
  /** Calls refused UNAUTHENTICATED per connection (connectionAuthFailuresMax). */
  readonly authFailures: WeakMap<Http2Session, number>;
  readonly limits: Limits;
  readonly observer: AdmissionObserver | undefined;
  readonly clock: Clock;
  /**
   * The deadlines of every call's replies not yet taken by their readers (replyUnreadMsMax after
   * each is written), under one timer for the node instead of one per reply, which every unary
   * call would set and clear; a linked list, not a Set churned per reply (deadline-timers.ts).
   */
  readonly unread: DeadlineTimers;
}

/**
 * The interceptor. It must be the server's first, so that the call it is given is grpc-js's
 * base call, whose HTTP/2 stream is still paused: a refused call is answered before one byte of
 * its messages is read, and HTTP/2 flow control holds the sender.
 */
export function admissionInterceptor(
  limits: Limits,
  clock: Clock,
  observer?: AdmissionObserver,
): grpc.ServerInterceptor {
  const shared: Shared = {
    ledger: new AdmissionLedger(limits),
    authFailures: new WeakMap(),
    limits,
    observer,
    clock,
    unread: new DeadlineTimers(clock, "monotonic"),
  };
  return (method, call) => new AdmittedCall(call, method, shared).asIntercepted();
}

/** A reply written and not yet taken by HTTP/2 (its reader's flow control window was full). */
interface PendingReply {
  readonly bytes: number;
  /** When it counts as unread, in Shared.unread (set once the reply is written). */
  deadline: DeadlineEntry | undefined;
}

/**
 * One call under admission; created for every call of every service, directly on grpc-js's base
 * call (forwarding-call.ts). It is also the call's budget, as its handler sees it.
 */
class AdmittedCall extends ForwardingCall implements CallBudget {
  readonly #method: grpc.ServerMethodDefinition<unknown, unknown>;
  readonly #shared: Shared;
  readonly #stream: ServerHttp2Stream;
  readonly #isPublic: boolean;
  #session: Http2Session | undefined;
  #closed = false;
  #scanner: GrpcFrameScanner | undefined;
  /** Bytes of the request messages received and not yet released. */
  #requestBytes = 0;
  /** For a streaming request: the bytes of each message received and not yet handed on. */
  #streamed: number[] | undefined;
  #replies: Set<PendingReply> | undefined;
  /**
   * Bytes the handler holds through the call's CallBudget (a Get's object, read before its size
   * was known), until the call ends or its reply is held in their place.
   */
  #workBytes = 0;

  constructor(
    base: grpc.ServerInterceptingCallInterface,
    method: grpc.ServerMethodDefinition<unknown, unknown>,
    shared: Shared,
  ) {
    super(base);
    this.#method = method;
    this.#shared = shared;
    this.#stream = callStreamOf(base);
    this.#isPublic = isPublicService(method.path);
    if (!isEncodedReplyAware(method.responseSerialize)) {
      throw new Error(`${method.path} was not registered through createBoundedServer`);
    }
  }

  override start(listener: CallListener): void {
    const session = this.#stream.session;
    // grpc-js's base call ignores a start on a closed stream, and would never report its end.
    if (session === undefined || this.#stream.destroyed || this.#stream.closed) {
      this.nextCall.start(listener); // already gone: grpc-js ends the call itself
      return;
    }
    const verdict = this.#shared.ledger.begin(session, this.#isPublic);
    if (!verdict.ok) {
      this.#refuse(verdict);
      return;
    }
    this.#session = session;
    this.listener = listener;
    if (this.#method.requestStream) this.#streamed = [];
    // Prepended, so a message past a bound is refused before grpc-js buffers any of it. A data
    // listener on the explicitly paused stream does not resume it.
    this.#stream.prependListener("data", (chunk: Buffer) => this.#received(chunk));
    // Every end of the call (status sent, cancelled, reset, connection closed) reaches onCancel.
    this.nextCall.start(this);
  }

  override onReceiveMetadata(metadata: grpc.Metadata): void {
    attachCallBudget(metadata, this);
    this.listener?.onReceiveMetadata(metadata);
  }

  /**
   * A streaming request's messages are released as they reach the handler, which bounds what it
   * keeps itself (Replica.Stream: items and bytes in flight per stream); a unary request is held
   * until the call ends, as its handler works on it until then.
   */
  override onReceiveMessage(message: unknown): void {
    const bytes = this.#streamed?.shift();
    if (bytes !== undefined && this.#session !== undefined && !this.#closed) {
      this.#requestBytes -= bytes;
      this.#shared.ledger.release(this.#session, bytes);
    }
    this.listener?.onReceiveMessage(message);
  }

  /** Every end of the call (status sent, cancelled, reset, connection closed) comes here. */
  override onCancel(): void {
    this.#close();
    this.listener?.onCancel();
  }

  // The call's budget (call-budget.ts), as its handler sees it.

  hold(bytes: number): BudgetVerdict {
    const session = this.#session;
    if (session === undefined || this.#closed) {
      return { ok: false, message: "the call ended before its reply was ready" };
    }
    const verdict = this.#shared.ledger.hold(session, bytes);
    if (!verdict.ok) {
      this.#shared.observer?.event(verdict.reason);
      return verdict;
    }
    this.#workBytes += bytes;
    return verdict;
  }

  /** Gives back part of what the handler held (a Session item answered). */
  release(bytes: number): void {
    const session = this.#session;
    const released = Math.min(bytes, this.#workBytes);
    if (session === undefined || this.#closed || released <= 0) return;
    this.#shared.ledger.release(session, released);
    this.#workBytes -= released;
  }

  /** Gives back what the handler held through the call's budget. */
  #releaseWork(session: Http2Session): void {
    if (this.#workBytes === 0) return;
    this.#shared.ledger.release(session, this.#workBytes);
    this.#workBytes = 0;
  }

  override sendMessage(message: unknown, callback: () => void): void {
    const session = this.#session;
    if (session === undefined || this.#closed) {
      this.nextCall.sendMessage(message, callback);
      return;
    }
    // A unary reply takes the place of what the handler held to build it (a Get's object); a
    // streaming reply's handler releases what each of its items held (KV.Session).
    if (!this.#method.responseStream) this.#releaseWork(session);
    // Held from an estimate before encoding: a burst of large replies past the budget is
    // refused without first encoding each one (240 unread 8 MiB gets made 2 GiB of buffers).
    const estimate = replyBytesEstimate(message) + GRPC_FRAME_HEADER_BYTES;
    const held = this.#shared.ledger.hold(session, estimate);
    if (!held.ok) {
      this.#refuse(held);
      return;
    }
    let encoded: Buffer;
    try {
      encoded = this.#method.responseSerialize(message);
    } catch {
      this.#shared.ledger.release(session, estimate);
      this.nextCall.sendMessage(message, callback); // grpc-js reports the serialization failure
      return;
    }
    const bytes = encoded.length + GRPC_FRAME_HEADER_BYTES;
    if (bytes < estimate) this.#shared.ledger.release(session, estimate - bytes);
    else if (bytes > estimate) {
      const verdict = this.#shared.ledger.hold(session, bytes - estimate);
      if (!verdict.ok) {
        this.#shared.ledger.release(session, estimate);
        this.#refuse(verdict);
        return;
      }
    }
    const reply: PendingReply = { bytes, deadline: undefined };
    (this.#replies ??= new Set()).add(reply);
    const { clock, limits, unread } = this.#shared;
    reply.deadline = unread.add(clock.monotonicMs() + limits.replyUnreadMsMax, () =>
      this.unread(reply),
    );
    // grpc-js calls back once HTTP/2 has taken the whole message (within the reader's flow
    // control window): until then the reply is held in this process, unread.
    this.nextCall.sendMessage(new EncodedReply(encoded), () => {
      if (this.#replies?.delete(reply) === true) {
        if (reply.deadline !== undefined) this.#shared.unread.delete(reply.deadline);
        this.#shared.ledger.release(session, bytes);
        this.#shared.ledger.progress(session);
      }
      callback();
    });
  }

  /**
   * Every status of the call passes here (the guard's and the handler's), and leaves with
   * well-formed details (status-details.ts). The connectionAuthFailuresMax-th UNAUTHENTICATED on
   * one connection closes it after the status is sent (GOAWAY, then the socket): an anonymous
   * flood holding its connections open cannot keep taking streams and admission slots from the
   * callers who authenticate.
   */
  override sendStatus(
    status: Parameters<grpc.ServerInterceptingCallInterface["sendStatus"]>[0],
  ): void {
    const details = status.details ?? "";
    const safe = wellFormed(details);
    this.nextCall.sendStatus(safe === details ? status : { ...status, details: safe });
    const session = this.#stream.session;
    if (status.code !== grpc.status.UNAUTHENTICATED || session === undefined) return;
    const failures = (this.#shared.authFailures.get(session) ?? 0) + 1;
    this.#shared.authFailures.set(session, failures);
    if (failures === this.#shared.limits.connectionAuthFailuresMax) {
      this.#shared.observer?.event("connection-closed");
      session.close();
      const destroy = (): void => {
        if (!session.destroyed) session.destroy();
      };
      this.#shared.clock.setTimer(AUTH_CLOSE_GRACE_MS, destroy);
    }
  }

  /** Counts the bytes of each request message from its header, before its body arrives. */
  #received(chunk: Buffer): void {
    const session = this.#session;
    if (session === undefined || this.#closed) return;
    for (const { length, compressed } of (this.#scanner ??= new GrpcFrameScanner()).push(chunk)) {
      if (compressed) {
        // Its header tells the compressed size only, and grpc-js would inflate it up to the
        // server-wide message limit before anything here could count it.
        this.#refuse(compressedRefused(serviceOf(this.#method.path)));
        return;
      }
      const bytesMax = messageBytesMaxOf(this.#method.path, this.#shared.limits);
      if (length > bytesMax) {
        this.#refuse(messageTooLarge(length, serviceOf(this.#method.path), bytesMax));
        return;
      }
      const bytes = length + GRPC_FRAME_HEADER_BYTES;
      const verdict = this.#shared.ledger.hold(session, bytes);
      if (!verdict.ok) {
        this.#refuse(verdict);
        return;
      }
      this.#requestBytes += bytes;
      this.#streamed?.push(bytes);
    }
  }

  /**
   * A reply unread for replyUnreadMsMax (Shared.unread): its stream is reset, which frees its
   * buffers. When the connection has also been refused for its budget since it last read
   * anything, it holds itself past its budget: the whole connection is closed.
   */
  unread(reply: PendingReply): void {
    const session = this.#session;
    if (this.#replies?.has(reply) !== true || session === undefined) return;
    if (this.#shared.ledger.isStalled(session)) {
      this.#shared.observer?.event("connection-closed");
      session.destroy();
      return;
    }
    this.#shared.observer?.event("reply-unread-reset");
    this.#stream.close(http2Constants.NGHTTP2_CANCEL);
  }

  /**
   * Ends the call with RESOURCE_EXHAUSTED. grpc-js then reads and drops whatever the sender
   * still sends (nothing is buffered). The stream is not reset as well: a reset sent at once
   * overtakes the status, and the client would see CANCELLED instead of the reason.
   */
  #refuse(refusal: Refusal): void {
    this.#shared.observer?.event(refusal.reason);
    this.nextCall.sendStatus({ code: grpc.status.RESOURCE_EXHAUSTED, details: refusal.message });
  }

  /** The call ended (answered, cancelled, reset, or its connection closed): release all. */
  #close(): void {
    const session = this.#session;
    if (this.#closed || session === undefined) return;
    this.#closed = true;
    const ledger = this.#shared.ledger;
    if (this.#requestBytes > 0) ledger.release(session, this.#requestBytes);
    this.#requestBytes = 0;
    if (this.#replies !== undefined) {
      for (const reply of this.#replies) {
        if (reply.deadline !== undefined) this.#shared.unread.delete(reply.deadline);
        ledger.release(session, reply.bytes);
      }
      this.#replies.clear();
    }
    this.#releaseWork(session);
    ledger.end(session, this.#isPublic);
  }
}

/** How long a connection closed for failed authentication may take to finish its streams. */
const AUTH_CLOSE_GRACE_MS = 10_000;

/** Fields deeper than this are not walked by {@link replyBytesEstimate}. */
const ESTIMATE_DEPTH_MAX = 6;

/**
 * A lower estimate of a reply's encoded size, without encoding it: the bytes of its byte and
 * string fields (strings by UTF-16 length), walked to a bounded depth. Replies are made of our
 * own message types, whose bulk is byte fields (values, objects, contexts).
 */
export function replyBytesEstimate(message: unknown, depth = 0): number {
  if (message instanceof Uint8Array) return message.byteLength;
  if (typeof message === "string") return message.length;
  if (typeof message !== "object" || message === null || depth >= ESTIMATE_DEPTH_MAX) return 0;
  let bytes = 0;
  if (Array.isArray(message)) {
    for (const item of message) bytes += replyBytesEstimate(item, depth + 1);
    return bytes;
  }
  for (const key in message) {
    bytes += replyBytesEstimate((message as Record<string, unknown>)[key], depth + 1);
  }
  return bytes;
}
