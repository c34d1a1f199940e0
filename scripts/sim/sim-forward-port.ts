// The ForwardPort (coordinator/kv-service.ts) of a simulated node: forwarded client writes go
// over the simulated network to the other node's KvService, as GrpcForwardPort sends them to a
// peer's KV client. Only the transport's facts are told apart here (never reached, no answer by
// the deadline, the peer's own error); what to do about them is the service's policy.

import { status } from "@grpc/grpc-js";
import { KvError } from "../../node/core/errors.js";
import type { NodeId } from "../../node/core/node-id.js";
import { grpcStatusOf } from "../../node/wire/grpc-status.js";
import type { DeleteRequest__Output } from "../../proto/generated/dkv/v1/DeleteRequest.js";
import type { PutRequest__Output } from "../../proto/generated/dkv/v1/PutRequest.js";
import type {
  DeleteReply,
  ForwardPort,
  ForwardResult,
  PutReply,
} from "../../coordinator/kv-service.js";
import type { SimClock } from "./sim-clock.js";
import type { KvWireReply, SimEndpoint } from "./sim-endpoint.js";
import type { SimNetwork } from "./sim-network.js";

/** Forwards writes from one node incarnation. */
export class SimForwardPort implements ForwardPort {
  readonly #self: NodeId;
  readonly #incarnation: number;
  readonly #clock: SimClock;
  readonly #network: SimNetwork<SimEndpoint>;

  constructor(options: {
    readonly self: NodeId;
    readonly incarnation: number;
    readonly clock: SimClock;
    readonly network: SimNetwork<SimEndpoint>;
  }) {
    this.#self = options.self;
    this.#incarnation = options.incarnation;
    this.#clock = options.clock;
    this.#network = options.network;
  }

  put(
    node: NodeId,
    request: PutRequest__Output,
    deadlineMs: number,
  ): Promise<ForwardResult<PutReply>> {
    return this.#send(node, "kv-put", deadlineMs, (endpoint, virtualMs) =>
      endpoint.forwardedPut(request, virtualMs),
    );
  }

  delete(
    node: NodeId,
    request: DeleteRequest__Output,
    deadlineMs: number,
  ): Promise<ForwardResult<DeleteReply>> {
    return this.#send(node, "kv-delete", deadlineMs, (endpoint, virtualMs) =>
      endpoint.forwardedDelete(request, virtualMs),
    );
  }

  async #send<Reply>(
    node: NodeId,
    kind: string,
    deadlineMs: number,
    handle: (endpoint: SimEndpoint, virtualDeadlineMs: number) => Promise<KvWireReply<Reply>>,
  ): Promise<ForwardResult<Reply>> {
    const virtualDeadlineMs = this.#clock.toVirtualMs(deadlineMs);
    const result = await this.#network.call({
      from: this.#self,
      fromIncarnation: this.#incarnation,
      to: node,
      kind,
      deadlineMs: virtualDeadlineMs,
      // A client write is not idempotent: a second delivery would be a second write.
      idempotent: false,
      handle: (endpoint) => handle(endpoint, virtualDeadlineMs),
    });
    if (!result.ok) {
      // As grpc-js: a refused or reset connection is UNAVAILABLE from the transport, a call
      // without an answer ends DEADLINE_EXCEEDED.
      const reached = result.kind === "deadline";
      const error = new KvError(reached ? "timeout" : "unavailable", result.error);
      const failureKind = reached ? "deadline" : "unreached";
      return {
        ok: false,
        failure: { kind: failureKind, notApplied: false, message: result.error },
        error,
      };
    }
    const reply = result.value;
    if (reply.ok) return { ok: true, reply: reply.reply };
    const deadline = grpcStatusOf(reply.code) === status.DEADLINE_EXCEEDED;
    const error = new KvError(reply.code, reply.error, { notApplied: reply.notApplied });
    return {
      ok: false,
      failure: {
        kind: deadline ? "deadline" : "error",
        notApplied: reply.notApplied,
        message: reply.error,
      },
      error,
    };
  }
}
