// The TypeScript client of dkv: promise-based Get/Put/Delete/Status over the public services.
// It tries the given node addresses in order and moves on only when a node cannot be reached
// at all. (Partition-aware routing straight to a primary comes with issue #7.)

import * as grpc from "@grpc/grpc-js";
import { loadProto } from "../proto/load-proto.js";
import type { KVClient } from "../proto/generated/dkv/v1/KV.js";
import type { AdminClient } from "../proto/generated/dkv/v1/Admin.js";
import type { Quorum } from "../proto/generated/dkv/v1/Quorum.js";
import type { RequestOptions } from "../proto/generated/dkv/v1/RequestOptions.js";
import type { Sibling__Output } from "../proto/generated/dkv/v1/Sibling.js";
import type { LocalGetResponse__Output } from "../proto/generated/dkv/v1/LocalGetResponse.js";
import type { StatusResponse__Output } from "../proto/generated/dkv/v1/StatusResponse.js";
import { DEFAULT_LIMITS } from "../node/core/limits.js";
import { channelOptions } from "../node/peer-clients.js";
import { ORIGIN_HEADER } from "./kv-server.js";

/** A quorum value as users write it: a count, or one | quorum | all. */
export type QuorumText = number | "one" | "quorum" | "all";

/** Replication options of one request; unset = the bucket default. */
export interface ReplicationOptions {
  readonly n?: number;
  readonly r?: QuorumText;
  readonly w?: QuorumText;
  readonly dw?: QuorumText;
  readonly pr?: QuorumText;
  readonly pw?: QuorumText;
  readonly strictQuorum?: boolean;
}

/** Options common to every call. */
export interface CallOptions extends ReplicationOptions {
  readonly bucket?: string;
  /** Request timeout; becomes the gRPC deadline. Default 5000. */
  readonly timeoutMs?: number;
}

export interface PutOptions extends CallOptions {
  readonly contentType?: string;
  readonly metadata?: Record<string, string>;
  readonly context?: Uint8Array;
  readonly returnBody?: boolean;
  readonly ifNoneMatch?: boolean;
}

export interface DeleteOptions extends CallOptions {
  readonly context: Uint8Array;
}

export type SiblingReply = Sibling__Output;

export interface GetReply {
  readonly siblings: readonly SiblingReply[];
  readonly context: Uint8Array;
}

export interface PutReply {
  readonly context: Uint8Array;
  readonly vtag: string;
  readonly siblings: readonly SiblingReply[];
}

interface Connection {
  readonly address: string;
  readonly kv: KVClient;
  readonly admin: AdminClient;
}

/** A dkv client over one or more node addresses. */
export class DkvClient {
  readonly #connections: Connection[];

  constructor(addresses: readonly string[]) {
    if (addresses.length === 0) throw new Error("DkvClient needs at least one node address");
    const { grpcObject } = loadProto();
    const v1 = grpcObject.dkv.v1;
    const options = channelOptions(DEFAULT_LIMITS.grpcMessageBytesMax);
    this.#connections = addresses.map((address) => {
      const channel = new grpc.Channel(address, grpc.credentials.createInsecure(), options);
      const shared = { ...options, channelOverride: channel };
      return {
        address,
        kv: new v1.KV(address, grpc.credentials.createInsecure(), shared),
        admin: new v1.Admin(address, grpc.credentials.createInsecure(), shared),
      };
    });
  }

  get(key: Uint8Array | string, options: CallOptions = {}): Promise<GetReply> {
    const request = {
      bucket: options.bucket ?? "",
      key: bytes(key),
      options: wireOptions(options),
    };
    return this.#call(options, (connection, metadata, callOptions, done) =>
      connection.kv.Get(request, metadata, callOptions, done),
    );
  }

  put(
    key: Uint8Array | string,
    value: Uint8Array | string,
    options: PutOptions = {},
  ): Promise<PutReply> {
    const request = {
      bucket: options.bucket ?? "",
      key: bytes(key),
      value: bytes(value),
      content_type: options.contentType ?? "",
      metadata: options.metadata ?? {},
      context: options.context ?? new Uint8Array(0),
      options: wireOptions(options),
      return_body: options.returnBody ?? false,
      if_none_match: options.ifNoneMatch ?? false,
    };
    return this.#call(options, (connection, metadata, callOptions, done) =>
      connection.kv.Put(request, metadata, callOptions, done),
    );
  }

  async delete(key: Uint8Array | string, options: DeleteOptions): Promise<void> {
    const request = {
      bucket: options.bucket ?? "",
      key: bytes(key),
      context: options.context,
      options: wireOptions(options),
    };
    await this.#call(options, (connection, metadata, callOptions, done) =>
      connection.kv.Delete(request, metadata, callOptions, done),
    );
  }

  /** One node's own stored copy of a key, no quorum (Admin.LocalGet): for checks and tests. */
  localGet(
    key: Uint8Array | string,
    options: { readonly bucket?: string; readonly timeoutMs?: number } = {},
  ): Promise<LocalGetResponse__Output> {
    const request = { bucket: options.bucket ?? "", key: bytes(key) };
    return this.#call(options, (connection, metadata, callOptions, done) =>
      connection.admin.LocalGet(request, metadata, callOptions, done),
    );
  }

  status(options: { readonly timeoutMs?: number } = {}): Promise<StatusResponse__Output> {
    return this.#call(options, (connection, metadata, callOptions, done) =>
      connection.admin.Status({}, metadata, callOptions, done),
    );
  }

  close(): void {
    for (const connection of this.#connections) {
      connection.kv.close();
      connection.admin.close();
    }
  }

  /** Tries each node in turn until one answers (with a reply or an error of its own). */
  async #call<Reply>(
    options: { readonly timeoutMs?: number },
    invoke: (
      connection: Connection,
      metadata: grpc.Metadata,
      callOptions: grpc.CallOptions,
      done: (error: grpc.ServiceError | null, reply?: Reply) => void,
    ) => void,
  ): Promise<Reply> {
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_LIMITS.requestTimeoutMsDefault);
    let lastError: grpc.ServiceError | undefined;
    for (const connection of this.#connections) {
      const outcome = await new Promise<{ error: grpc.ServiceError | null; reply?: Reply }>(
        (resolve) =>
          invoke(connection, new grpc.Metadata(), { deadline }, (error, reply) =>
            resolve(reply === undefined ? { error } : { error, reply }),
          ),
      );
      if (outcome.error === null) return outcome.reply as Reply;
      lastError = outcome.error;
      if (!unreachable(outcome.error)) break;
    }
    throw lastError;
  }
}

/** True when the node never saw the request, so another node may be asked. */
function unreachable(error: grpc.ServiceError): boolean {
  return error.code === grpc.status.UNAVAILABLE && error.metadata?.get(ORIGIN_HEADER).length === 0;
}

function bytes(value: Uint8Array | string): Uint8Array {
  return typeof value === "string" ? Buffer.from(value, "utf8") : value;
}

function wireOptions(options: ReplicationOptions): RequestOptions {
  const wire: RequestOptions = { n: options.n ?? 0, strict_quorum: options.strictQuorum ?? false };
  for (const field of ["r", "w", "dw", "pr", "pw"] as const) {
    const value = options[field];
    if (value !== undefined) wire[field] = quorum(value);
  }
  return wire;
}

function quorum(value: QuorumText): Quorum {
  switch (value) {
    case "one":
      return { symbol: "QUORUM_SYMBOL_ONE" };
    case "quorum":
      return { symbol: "QUORUM_SYMBOL_QUORUM" };
    case "all":
      return { symbol: "QUORUM_SYMBOL_ALL" };
    default:
      return { count: value };
  }
}

/** Parses a quorum value typed by a user; undefined when it is neither a count nor a symbol. */
export function parseQuorumText(text: string): QuorumText | undefined {
  if (text === "one" || text === "quorum" || text === "all") return text;
  if (/^\d{1,6}$/.test(text)) return Number(text);
  return undefined;
}
