// Validation at the edge: turns public KV requests (proto types) into coordinator commands, or
// a KvError naming the field and the numbers (DESIGN.md section 2). Nothing a client sends gets
// past here unchecked.

import type { RequestOptions__Output } from "../proto/generated/dkv/v1/RequestOptions.js";
import type { Quorum__Output } from "../proto/generated/dkv/v1/Quorum.js";
import type { Sibling } from "../proto/generated/dkv/v1/Sibling.js";
import { KvError } from "../node/core/errors.js";
import type { Limits } from "../node/core/limits.js";
import { type CausalContext, EMPTY_CONTEXT } from "../node/core/causal-context.js";
import { type ContextKeys, decodeKeyContext } from "../node/core/key-context.js";
import { utf8ByteLength } from "../node/core/object-bytes.js";
import { type Sibling as DvvSibling, type Version, vtag } from "../node/core/dvv.js";
import type { PutRequest__Output } from "../proto/generated/dkv/v1/PutRequest.js";
import type { DeleteRequest__Output } from "../proto/generated/dkv/v1/DeleteRequest.js";
import type { PutCommand } from "./coordinator-commands.js";
import {
  type BucketDefaults,
  type QuorumConfig,
  type QuorumValue,
  resolveQuorum,
} from "./core/quorum-options.js";

/** The bucket used when a request names none. */
export const DEFAULT_BUCKET_NAME = "default";

/** Content type stored when a write names none. */
export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/**
 * Checks the bucket and key of any request; returns the bucket to use. A bucket name holding
 * U+FFFD is refused: protobuf decodes bytes that are not UTF-8 to it, so names that differ only
 * in such bytes ("\xff" and "\xfe") would otherwise alias one bucket.
 */
export function checkBucketAndKey(bucket: string, key: Uint8Array, limits: Limits): string {
  const name = bucket === "" ? DEFAULT_BUCKET_NAME : bucket;
  if (name.includes("\ufffd")) {
    throw new KvError(
      "invalid-argument",
      "bucket is not valid UTF-8 (or holds U+FFFD, which is not allowed in bucket names)",
    );
  }
  const bucketBytes = Buffer.byteLength(name, "utf8");
  if (bucketBytes > limits.bucketBytesMax) {
    throw new KvError(
      "invalid-argument",
      `bucket is ${bucketBytes} bytes, over the limit of ${limits.bucketBytesMax}`,
    );
  }
  if (key.length === 0) throw new KvError("invalid-argument", "key is empty");
  if (key.length > limits.keyBytesMax) {
    throw new KvError(
      "too-large",
      `key is ${key.length} bytes, over the limit of ${limits.keyBytesMax}`,
    );
  }
  return name;
}

/** Resolves n/r/w/dw/pr/pw against the bucket defaults, or throws INVALID_ARGUMENT. */
export function checkQuorum(
  options: RequestOptions__Output | null,
  bucket: BucketDefaults,
): QuorumConfig {
  const resolution = resolveQuorum(
    {
      n: options?.n ?? 0,
      r: quorumValue(options?.r),
      w: quorumValue(options?.w),
      dw: quorumValue(options?.dw),
      pr: quorumValue(options?.pr),
      pw: quorumValue(options?.pw),
    },
    bucket,
  );
  if (!resolution.ok) throw new KvError("invalid-argument", resolution.message);
  return resolution.config;
}

function quorumValue(quorum: Quorum__Output | null | undefined): QuorumValue {
  if (quorum === null || quorum === undefined || quorum.value === undefined) {
    return { kind: "default" };
  }
  if (quorum.value === "count") return { kind: "count", count: quorum.count ?? 0 };
  switch (quorum.symbol) {
    case "QUORUM_SYMBOL_ONE":
      return { kind: "one" };
    case "QUORUM_SYMBOL_QUORUM":
      return { kind: "quorum" };
    case "QUORUM_SYMBOL_ALL":
      return { kind: "all" };
    default:
      return { kind: "default" };
  }
}

/**
 * Decodes a client's opaque context for this key; empty bytes mean "no context". With `keys`
 * only a context sealed by this cluster for this key is accepted.
 */
export function checkContext(
  bucket: string,
  key: Uint8Array,
  bytes: Uint8Array,
  limits: Limits,
  keys: ContextKeys | undefined,
): CausalContext {
  if (bytes.length === 0) return EMPTY_CONTEXT;
  if (bytes.length > limits.contextBytesMax) {
    throw new KvError(
      "too-large",
      `context is ${bytes.length} bytes, over the limit of ${limits.contextBytesMax}`,
    );
  }
  const decoded = decodeKeyContext(bucket, key, bytes, keys);
  if (!decoded.ok) throw new KvError("invalid-argument", `context refused: ${decoded.reason}`);
  return decoded.context;
}

/**
 * Checks the parts of a write that are not the key: value size (the value alone counts against
 * valueBytesMax), content type, metadata entries and bytes. The object limit, which also counts
 * the other siblings and the context, is checked where the object is built.
 */
export function checkWritePayload(
  value: Uint8Array,
  contentType: string,
  metadata: Readonly<Record<string, string>>,
  limits: Limits,
): void {
  if (value.length > limits.valueBytesMax) {
    throw new KvError(
      "too-large",
      `value is ${value.length} bytes, over the limit of ${limits.valueBytesMax}`,
    );
  }
  const contentTypeBytes = Buffer.byteLength(contentType, "utf8");
  if (contentTypeBytes > limits.contentTypeBytesMax) {
    throw new KvError(
      "invalid-argument",
      `content_type is ${contentTypeBytes} bytes, over the limit of ${limits.contentTypeBytesMax}`,
    );
  }
  const entries = Object.keys(metadata).length;
  if (entries > limits.metadataEntriesMax) {
    throw new KvError(
      "invalid-argument",
      `metadata has ${entries} entries, over the limit of ${limits.metadataEntriesMax}`,
    );
  }
  let metadataBytes = 0;
  for (const [name, text] of Object.entries(metadata)) {
    metadataBytes += utf8ByteLength(name) + utf8ByteLength(text);
  }
  if (metadataBytes > limits.metadataBytesMax) {
    throw new KvError(
      "too-large",
      `metadata is ${metadataBytes} bytes, over the limit of ${limits.metadataBytesMax}`,
    );
  }
}

/** The public form of a stored sibling (the proto Sibling, with its fields narrowed). */
export interface WireSibling extends Sibling {
  readonly value: Uint8Array;
  readonly content_type: string;
  readonly metadata: Record<string, string>;
  readonly vtag: string;
  readonly last_modified_ms: number;
  readonly deleted: boolean;
}

/** The public form of a stored sibling. */
export function toWireSibling(sibling: DvvSibling): WireSibling {
  return {
    value: sibling.value,
    content_type: sibling.contentType,
    metadata: { ...sibling.metadata },
    vtag: vtag(sibling.dot),
    last_modified_ms: sibling.lastModifiedMs,
    deleted: sibling.deleted,
  };
}

/**
 * The absolute deadline of a call: the client's, or the default timeout from now; never more
 * than the longest timeout from now. A deadline already past is refused before any work, so the
 * write cannot land: grpc-js keeps a timeout of 2^31 ms or more (about 25 days) modulo 2^32, so
 * such a deadline can arrive here in the past while the client still waits (DESIGN section 2).
 */
export function deadlineOf(callDeadline: Date | number, nowMs: number, limits: Limits): number {
  const client = callDeadline instanceof Date ? callDeadline.getTime() : callDeadline;
  const deadlineMs = Number.isFinite(client) ? client : nowMs + limits.requestTimeoutMsDefault;
  if (deadlineMs <= nowMs) {
    throw new KvError(
      "timeout",
      `deadline already passed when the request arrived (${Math.round(nowMs - deadlineMs)} ms ago); ` +
        `deadlines of 25 days or more wrap around in gRPC, use at most ${limits.requestTimeoutMsMax} ms`,
      { notApplied: true },
    );
  }
  return Math.min(deadlineMs, nowMs + limits.requestTimeoutMsMax);
}

/** What turning a public write into a command needs besides the request. */
export interface CommandContext {
  readonly limits: Limits;
  readonly bucket: BucketDefaults;
  readonly nowMs: number;
  /** The absolute deadline (see {@link deadlineOf}). */
  readonly deadlineMs: number;
  /** The cluster's context keys; undefined on an --insecure node (unsealed contexts). */
  readonly contextKeys: ContextKeys | undefined;
}

/** A validated coordinator command for a public Put; throws a KvError naming what is wrong. */
export function putCommandOf(request: PutRequest__Output, at: CommandContext): PutCommand {
  const bucket = checkBucketAndKey(request.bucket, request.key, at.limits);
  const contentType = request.content_type === "" ? DEFAULT_CONTENT_TYPE : request.content_type;
  const metadata = request.metadata ?? {};
  checkWritePayload(request.value, contentType, metadata, at.limits);
  const version: Version = {
    value: request.value,
    contentType,
    metadata,
    lastModifiedMs: at.nowMs,
    deleted: false,
  };
  return writeCommand(bucket, request, version, request.if_none_match, at);
}

/** A validated coordinator command for a public Delete: a put of a tombstone. */
export function deleteCommandOf(request: DeleteRequest__Output, at: CommandContext): PutCommand {
  const bucket = checkBucketAndKey(request.bucket, request.key, at.limits);
  const version: Version = {
    value: new Uint8Array(0),
    contentType: "",
    metadata: {},
    lastModifiedMs: at.nowMs,
    deleted: true,
  };
  return writeCommand(bucket, request, version, false, at);
}

function writeCommand(
  bucket: string,
  request: PutRequest__Output | DeleteRequest__Output,
  version: Version,
  ifNoneMatch: boolean,
  at: CommandContext,
): PutCommand {
  return {
    bucket,
    key: request.key,
    quorum: checkQuorum(request.options, at.bucket),
    deadlineMs: at.deadlineMs,
    version,
    context: checkContext(bucket, request.key, request.context, at.limits, at.contextKeys),
    ifNoneMatch,
    sloppy: !(request.options?.strict_quorum ?? false),
  };
}
