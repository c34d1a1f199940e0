// The TypeScript client of dkv: promise-based Get/Put/Delete/Status over the public services.
// By default it tries the given node addresses in order and moves on only when a node cannot be
// reached at all. With `routing: "primary"` it learns the ring from a node's Status and sends
// each get, put and delete to a primary of its key (rotating over the key's primaries), so no
// node forwards and the coordination work spreads over the cluster.

import { INSECURE_CLIENT, type ClientSecurity } from "../node/security/client-security.js";
import * as grpc from "@grpc/grpc-js";
import { loadProto } from "../proto/load-proto.js";
import type { KVClient } from "../proto/generated/dkv/v1/KV.js";
import type { AdminClient } from "../proto/generated/dkv/v1/Admin.js";
import type { Quorum } from "../proto/generated/dkv/v1/Quorum.js";
import type { RequestOptions } from "../proto/generated/dkv/v1/RequestOptions.js";
import type { Sibling__Output } from "../proto/generated/dkv/v1/Sibling.js";
import type { LocalGetResponse__Output } from "../proto/generated/dkv/v1/LocalGetResponse.js";
import type { StatusResponse__Output } from "../proto/generated/dkv/v1/StatusResponse.js";
import type { BatchGetResponse__Output } from "../proto/generated/dkv/v1/BatchGetResponse.js";
import type { BatchPutResponse__Output } from "../proto/generated/dkv/v1/BatchPutResponse.js";
import { DEFAULT_LIMITS } from "../node/core/limits.js";
import { KvError } from "../node/core/errors.js";
import { channelOptions } from "../node/peer-clients.js";
import type { Ring } from "../node/core/ring.js";
import { partitionOfKey } from "../node/core/key-hash.js";
import type { NodeId } from "../node/core/node-id.js";
import { SYSTEM_CLOCK, type Clock } from "../node/clock.js";
import { preferenceList } from "./core/preference-list.js";
import { ORIGIN_HEADER } from "./kv-server.js";
import { chunkBatch, outcomesOf, type ItemOutcome } from "./client-batch.js";
import { SessionPool, type SessionOperation } from "./client-session.js";
import { ringOfStatus } from "./client-ring.js";

export { BatchItemError, type ItemOutcome } from "./client-batch.js";

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
  /**
   * Request timeout in ms; becomes the gRPC deadline. Default 5000; a longer one than the
   * servers' longest (Limits.requestTimeoutMsMax) is cut to it (see {@link clientTimeoutMs}).
   */
  readonly timeoutMs?: number;
}

export interface PutOptions extends CallOptions {
  readonly contentType?: string;
  readonly metadata?: Record<string, string>;
  readonly context?: Uint8Array;
  readonly returnBody?: boolean;
  readonly ifNoneMatch?: boolean;
}

/** One key of `getMany`: a key in the call's bucket, or a key with its own bucket. */
export type GetItem =
  Uint8Array | string | { readonly key: Uint8Array | string; readonly bucket?: string };

/** One item of `putMany`: a key, its value, and what `put` takes besides replication options. */
export interface PutItem {
  readonly key: Uint8Array | string;
  readonly value: Uint8Array | string;
  readonly bucket?: string;
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

/** How a client picks the node for a request. */
export interface DkvClientOptions {
  /**
   * "given" (default): the addresses in the order given. "primary": a primary of the key first,
   * learned from the ring of the cluster (the given addresses then serve as fallbacks).
   */
  readonly routing?: "given" | "primary";
  /** Deadlines and the ring retry wait run on it (default: the system clock). */
  readonly clock?: Clock;
  /** TLS credentials and token (default: plaintext, for nodes started with --insecure). */
  readonly security?: ClientSecurity;
  /**
   * Coalesce concurrent get, put and delete calls onto one KV.Session stream per node (items
   * issued in one event-loop turn share a message; an item over 4 MiB goes as a unary call).
   * On by default (issue 16: fewer HTTP/2 streams per operation); false: unary calls only.
   */
  readonly session?: boolean;
}

/** The ring as a client sees it: enough to compute every key's primaries. */
interface RingView {
  readonly ring: Ring;
  readonly defaultN: number;
  readonly byNode: ReadonlyMap<NodeId, Connection>;
}

/** How long a client waits before asking for the ring again after it could not learn it. */
const RING_RETRY_MS = 5000;

/** How old a learned ring may get before it is asked for again (membership changes). */
const RING_REFRESH_MS = 10_000;

/** A dkv client over one or more node addresses. */
export class DkvClient {
  readonly #connections: Connection[];
  readonly #extra: Connection[] = [];
  readonly #routing: "given" | "primary";
  readonly #clock: Clock;
  readonly #security: ClientSecurity;
  readonly #sessions: SessionPool | undefined;
  #ring: Promise<RingView | undefined> | undefined;
  #ringFailedAtMs = -Infinity;
  #ringLearnedAtMs = -Infinity;
  #turn = 0;

  constructor(addresses: readonly string[], options: DkvClientOptions = {}) {
    if (addresses.length === 0) throw new Error("DkvClient needs at least one node address");
    this.#routing = options.routing ?? "given";
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#security = options.security ?? INSECURE_CLIENT;
    this.#connections = addresses.map((address) => connect(address, this.#security));
    this.#sessions = options.session !== false ? new SessionPool(this.#clock) : undefined;
  }

  get(key: Uint8Array | string, options: CallOptions = {}): Promise<GetReply> {
    const request = {
      bucket: options.bucket ?? "",
      key: bytes(key),
      options: wireOptions(options),
    };
    return this.#call(
      options,
      (connection, metadata, callOptions, done) =>
        connection.kv.Get(request, metadata, callOptions, done),
      { bucket: request.bucket, key: request.key, n: options.n },
      { get: request },
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
    return this.#call(
      options,
      (connection, metadata, callOptions, done) =>
        connection.kv.Put(request, metadata, callOptions, done),
      { bucket: request.bucket, key: request.key, n: options.n },
      { put: request },
    );
  }

  async delete(key: Uint8Array | string, options: DeleteOptions): Promise<void> {
    const request = {
      bucket: options.bucket ?? "",
      key: bytes(key),
      context: options.context,
      options: wireOptions(options),
    };
    await this.#call(
      options,
      (connection, metadata, callOptions, done) =>
        connection.kv.Delete(request, metadata, callOptions, done),
      { bucket: request.bucket, key: request.key, n: options.n },
      { delete: request },
    );
  }

  /**
   * Many gets (KV.BatchGet), in batches a node accepts: one outcome per key, in order. A failed
   * item fails alone; a batch that fails whole (a node unreachable, a refused bucket) rejects.
   */
  async getMany(
    keys: readonly GetItem[],
    options: CallOptions = {},
  ): Promise<ItemOutcome<GetReply>[]> {
    const requests = keys.map((item) => {
      const plain = typeof item === "string" || item instanceof Uint8Array;
      return {
        bucket: (plain ? undefined : item.bucket) ?? options.bucket ?? "",
        key: bytes(plain ? item : item.key),
        options: wireOptions(options),
      };
    });
    const chunks = chunkBatch(requests, (request) => request.key.byteLength + 64);
    const answers = await Promise.all(
      chunks.map(async (items) => {
        const response = await this.#call<BatchGetResponse__Output>(
          options,
          (connection, metadata, callOptions, done) =>
            connection.kv.BatchGet({ items }, metadata, callOptions, done),
        );
        return outcomesOf(response.results, items.length);
      }),
    );
    return answers.flat();
  }

  /**
   * Many puts (KV.BatchPut), in batches a node accepts: one outcome per item, in order. Each
   * item is a put as `put` makes it, with the replication options and timeout of `options`.
   * Not a transaction: a failed item fails alone.
   */
  async putMany(
    items: readonly PutItem[],
    options: CallOptions = {},
  ): Promise<ItemOutcome<PutReply>[]> {
    const requests = items.map((item) => ({
      bucket: item.bucket ?? options.bucket ?? "",
      key: bytes(item.key),
      value: bytes(item.value),
      content_type: item.contentType ?? "",
      metadata: item.metadata ?? {},
      context: item.context ?? new Uint8Array(0),
      options: wireOptions(options),
      return_body: item.returnBody ?? false,
      if_none_match: item.ifNoneMatch ?? false,
    }));
    const sizeOf = (request: (typeof requests)[number]): number =>
      request.key.byteLength + request.value.byteLength + request.context.byteLength + 64;
    const answers = await Promise.all(
      chunkBatch(requests, sizeOf).map(async (chunk) => {
        const response = await this.#call<BatchPutResponse__Output>(
          options,
          (connection, metadata, callOptions, done) =>
            connection.kv.BatchPut({ items: chunk }, metadata, callOptions, done),
        );
        return outcomesOf(response.results, chunk.length);
      }),
    );
    return answers.flat();
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
    this.#sessions?.close();
    for (const connection of [...this.#connections, ...this.#extra]) {
      connection.kv.close();
      connection.admin.close();
    }
  }

  /** The connections to try for a key: its primaries first (rotated), then the given ones. */
  async #route(target: {
    readonly bucket: string;
    readonly key: Uint8Array;
    readonly n: number | undefined;
  }): Promise<readonly Connection[]> {
    const view = await this.#ringView();
    if (view === undefined) return this.#connections;
    const bucket = target.bucket === "" ? "default" : target.bucket;
    const partition = partitionOfKey(bucket, target.key, view.ring.partitionCount);
    const n = Math.min(target.n ?? view.defaultN, view.ring.nodes.length);
    const { primaries } = preferenceList(view.ring, new Set(view.ring.nodes), partition, n);
    const start = (this.#turn = (this.#turn + 1) % 1_000_000) % Math.max(1, primaries.length);
    const ordered = [...primaries.slice(start), ...primaries.slice(0, start)]
      .map((node) => view.byNode.get(node))
      .filter((connection) => connection !== undefined);
    return [...ordered, ...this.#connections.filter((given) => !ordered.includes(given))];
  }

  /**
   * Learns the ring from any given node's Status, and again every RING_REFRESH_MS so that it
   * follows membership changes (the ring learned before keeps serving meanwhile); retried later
   * if no node answers.
   */
  #ringView(): Promise<RingView | undefined> {
    const nowMs = this.#clock.monotonicMs();
    if (this.#ring !== undefined) {
      if (nowMs - this.#ringLearnedAtMs >= RING_REFRESH_MS) this.#refreshRing();
      return this.#ring;
    }
    if (nowMs - this.#ringFailedAtMs < RING_RETRY_MS) return Promise.resolve(undefined);
    this.#ring = this.#learnRing();
    return this.#ring;
  }

  /** Asks for the ring again; the current one stays until the answer replaces it. */
  #refreshRing(): void {
    this.#ringLearnedAtMs = this.#clock.monotonicMs();
    const current = this.#ring;
    void this.#learnRing().then((view) => {
      if (view !== undefined) this.#ring = Promise.resolve(view);
      else this.#ring = current;
    });
  }

  #learnRing(): Promise<RingView | undefined> {
    return this.status({ timeoutMs: 2000 }).then(
      (status) => {
        this.#ringLearnedAtMs = this.#clock.monotonicMs();
        const byNode = new Map<NodeId, Connection>();
        for (const member of status.members) {
          let connection = [...this.#connections, ...this.#extra].find(
            (known) => known.address === member.address,
          );
          if (connection === undefined) {
            connection = connect(member.address, this.#security);
            this.#extra.push(connection);
          }
          byNode.set(member.node_id as NodeId, connection);
        }
        return { ring: ringOfStatus(status), defaultN: status.default_n, byNode };
      },
      () => {
        this.#ringFailedAtMs = this.#clock.monotonicMs();
        this.#ring = undefined;
        return undefined;
      },
    );
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
    target?: { readonly bucket: string; readonly key: Uint8Array; readonly n: number | undefined },
    /** The same request as a session item: with `session`, sent on the node's session. */
    operation?: SessionOperation,
  ): Promise<Reply> {
    const deadline = this.#clock.nowMs() + clientTimeoutMs(options.timeoutMs);
    const connections =
      this.#routing === "primary" && target !== undefined
        ? await this.#route(target)
        : this.#connections;
    const unary = async (): Promise<Reply> => {
      let lastError: grpc.ServiceError | undefined;
      for (const connection of connections) {
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
    };
    if (this.#sessions === undefined || operation === undefined) return unary();
    return this.#sessions.call<Reply>(connections, operation, deadline, unary);
  }
}

/**
 * The timeout a call gets: the caller's, or the default, and never longer than the servers'
 * longest (Limits.requestTimeoutMsMax), which a server would cut it to anyway. The cut matters:
 * grpc-js sends a deadline as a timeout header and the receiving side parses it into a 32-bit
 * int (server-interceptors.js handleTimeoutHeader, `(+match[1] * unit) | 0`), so a timeout of
 * 2^31 ms (about 24.9 days) or more wraps to a negative one and the server answers
 * DEADLINE_EXCEEDED at once, although a put may already have been applied. A negative or
 * non-finite timeout is a caller's mistake and is refused (invalid-argument) before anything is
 * sent.
 */
export function clientTimeoutMs(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) return DEFAULT_LIMITS.requestTimeoutMsDefault;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new KvError(
      "invalid-argument",
      `timeoutMs must be a finite number of ms >= 0, got ${String(timeoutMs)} ` +
        `(timeouts longer than ${DEFAULT_LIMITS.requestTimeoutMsMax} ms are cut to it)`,
      { notApplied: true },
    );
  }
  return Math.min(timeoutMs, DEFAULT_LIMITS.requestTimeoutMsMax);
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

function connect(address: string, security: ClientSecurity): Connection {
  const v1 = loadProto().grpcObject.dkv.v1;
  const secured = security.channel(address);
  const options = { ...channelOptions(DEFAULT_LIMITS.grpcMessageBytesMax), ...secured.options };
  const channel = new grpc.Channel(address, secured.credentials, options);
  const shared = { ...options, channelOverride: channel };
  // The clients ride on `channel`, whose credentials are the ones that count.
  const unused = grpc.credentials.createInsecure();
  return {
    address,
    kv: new v1.KV(address, unused, shared),
    admin: new v1.Admin(address, unused, shared),
  };
}
