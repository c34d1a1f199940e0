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

/** What the interceptor did besides admitting: refusals, resets and closed connections. */
export type AdmissionEvent = RefusalReason | "reply-unread-reset" | "connection-closed";

/** Told about every refusal and reset (metrics, tests). */
export interface AdmissionObserver {
  event(event: AdmissionEvent): void;
}

type Listener = Parameters<grpc.ServerInterceptingCallInterface["start"]>[0];

interface Shared {
  readonly ledger: AdmissionLedger<Http2Session>;
  /** Calls refused UNAUTHENTICATED per connection (connectionAuthFailuresMax). */
  readonly authFailures: WeakMap<Http2Session, number>;
  readonly limits: Limits;
  readonly observer: AdmissionObserver | undefined;
  readonly clock: Clock;
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
  };
  return (method, call) => new AdmittedCall(call, method, shared);
}

interface PendingReply {
  readonly bytes: number;
  /** Cancels the reset of a reply left unread too long. */
  readonly cancelTimer: () => void;
}

/** One call under admission; created for every call of every service. */
class AdmittedCall extends grpc.ServerInterceptingCall {
  readonly #base: grpc.ServerInterceptingCallInterface;
  readonly #method: grpc.ServerMethodDefinition<unknown, unknown>;
  readonly #shared: Shared;
  readonly #stream: ServerHttp2Stream;
  readonly #isPublic: boolean;
  #session: Http2Session | undefined;
  #admitted = false;
  #closed = false;
  readonly #scanner = new GrpcFrameScanner();
  /** Bytes held per request message received and not yet handed on (streaming requests). */
  readonly #requests: number[] = [];
  readonly #replies = new Set<PendingReply>();
  /**
   * Bytes the handler holds through the call's CallBudget (a Get's object, read before its size
   * was known), until the call ends or its reply is held in their place.
   */
  #workBytes = 0;
  readonly #budget: CallBudget = {
    hold: (bytes) => this.#holdWork(bytes),
    release: (bytes) => this.#releaseWorkBytes(bytes),
  };

  constructor(
    base: grpc.ServerInterceptingCallInterface,
    method: grpc.ServerMethodDefinition<unknown, unknown>,
    shared: Shared,
  ) {
    super(base);
    this.#base = base;
    this.#method = method;
    this.#shared = shared;
    this.#stream = callStreamOf(base);
    this.#isPublic = isPublicService(method.path);
    if (!isEncodedReplyAware(method.responseSerialize)) {
      throw new Error(`${method.path} was not registered through createBoundedServer`);
    }
  }

  override start(listener: Listener): void {
    const session = this.#stream.session;
    if (session === undefined || this.#stream.destroyed) {
      super.start(listener); // already gone: grpc-js ends the call itself
      return;
    }
    const verdict = this.#shared.ledger.begin(session, this.#isPublic);
    if (!verdict.ok) {
      this.#refuse(verdict);
      return;
    }
    this.#session = session;
    this.#admitted = true;
    // Prepended, so a message past a bound is refused before grpc-js buffers any of it. A data
    // listener on the explicitly paused stream does not resume it.
    this.#stream.prependListener("data", (chunk: Buffer) => this.#received(chunk));
    this.#stream.once("close", () => this.#close());
    super.start(this.#listening(listener));
  }

  /** A hold through the call's budget (see #workBytes). */
  #holdWork(bytes: number): BudgetVerdict {
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
  #releaseWorkBytes(bytes: number): void {
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
      super.sendMessage(message, callback);
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
      super.sendMessage(message, callback); // grpc-js reports the serialization failure
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
    const reply: PendingReply = {
      bytes,
      cancelTimer: this.#shared.clock.setTimer(this.#shared.limits.replyUnreadMsMax, () =>
        this.#unread(reply),
      ),
    };
    this.#replies.add(reply);
    // grpc-js calls back once HTTP/2 has taken the whole message (within the reader's flow
    // control window): until then the reply is held in this process, unread.
    super.sendMessage(new EncodedReply(encoded), () => {
      if (this.#replies.delete(reply)) {
        reply.cancelTimer();
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
    super.sendStatus(safe === details ? status : { ...status, details: safe });
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
    for (const { length, compressed } of this.#scanner.push(chunk)) {
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
      this.#requests.push(bytes);
    }
  }

  /**
   * The handler's listener, with the call's budget attached to its metadata (call-budget.ts).
   * A streaming request's messages are released as they reach the handler, which bounds what it
   * keeps itself (Replica.Stream: items and bytes in flight per stream); a unary request is held
   * until the call ends, as its handler works on it until then.
   */
  #listening(listener: Listener): Listener {
    const releasing = this.#method.requestStream;
    return {
      onReceiveMetadata: (metadata) => {
        attachCallBudget(metadata, this.#budget);
        listener.onReceiveMetadata(metadata);
      },
      onReceiveMessage: (message) => {
        const bytes = releasing ? this.#requests.shift() : undefined;
        if (bytes !== undefined && this.#session !== undefined && !this.#closed) {
          this.#shared.ledger.release(this.#session, bytes);
        }
        listener.onReceiveMessage(message);
      },
      onReceiveHalfClose: () => listener.onReceiveHalfClose(),
      onCancel: () => listener.onCancel(),
    };
  }

  /**
   * A reply unread for replyUnreadMsMax: its stream is reset, which frees its buffers. When the
   * connection has also been refused for its budget since it last read anything, it holds
   * itself past its budget: the whole connection is closed.
   */
  #unread(reply: PendingReply): void {
    const session = this.#session;
    if (!this.#replies.has(reply) || session === undefined) return;
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
    this.#base.sendStatus({ code: grpc.status.RESOURCE_EXHAUSTED, details: refusal.message });
  }

  /** The stream closed (answered, cancelled, reset, or its connection closed): release all. */
  #close(): void {
    const session = this.#session;
    if (this.#closed || session === undefined || !this.#admitted) return;
    this.#closed = true;
    const ledger = this.#shared.ledger;
    for (const bytes of this.#requests.splice(0)) ledger.release(session, bytes);
    for (const reply of this.#replies) {
      reply.cancelTimer();
      ledger.release(session, reply.bytes);
    }
    this.#replies.clear();
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
