// The history a live nemesis run records: one clock origin for every operation, ids, and the
// mapping from gRPC errors to Jepsen outcomes (ok / fail / indeterminate). Also decodes the
// opaque contexts clients hold, so the pure checker can compare them.

import * as grpc from "@grpc/grpc-js";
import { EMPTY_CONTEXT, type CausalContext } from "../../node/core/causal-context.js";
import { unverifiedContextOf } from "../../node/core/key-context.js";
import type { SiblingReply } from "../../coordinator/client.js";
import { NOT_APPLIED_HEADER, ORIGIN_HEADER } from "../../coordinator/kv-server.js";
import type { ObservedSibling, Outcome, ReadRecord, WriteRecord } from "./core/history.js";

/** The bucket every nemesis key lives in (the server's default bucket). */
export const NEMESIS_BUCKET = "default";

/** Collects the history of a run. Times are ms since `originMs` (performance.now()). */
export class Recorder {
  readonly writes: WriteRecord[] = [];
  readonly reads: ReadRecord[] = [];
  readonly originMs: number;
  #nextId = 1;
  #nextElement = 1;

  constructor(originMs: number) {
    this.originMs = originMs;
  }

  /** Ms since the run started. */
  now(): number {
    return Math.round((performance.now() - this.originMs) * 10) / 10;
  }

  nextId(): number {
    return this.#nextId++;
  }

  /** A set element nobody else adds: the run's clients share this process. */
  nextElement(): number {
    return this.#nextElement++;
  }
}

/**
 * The outcome of a failed put. Only errors that prove nothing was stored are `fail`: the node
 * was never reached (connection refused), or it refused the request before writing (bad
 * input, over a limit, shedding load). A timeout, a dropped connection or a write quorum that
 * failed after the coordinator stored its own copy may have landed: `indeterminate`.
 */
export function writeErrorOutcome(error: unknown): Outcome {
  const code = (error as { code?: unknown }).code;
  const details = String((error as { details?: unknown }).details ?? "");
  if (
    code === grpc.status.INVALID_ARGUMENT ||
    code === grpc.status.FAILED_PRECONDITION ||
    code === grpc.status.RESOURCE_EXHAUSTED
  ) {
    return "fail";
  }
  if (code === grpc.status.UNAVAILABLE) {
    // A node's own answer says whether it stored nothing; its message may quote a peer's
    // connection error ("n5: No connection established") while another peer, silent, may
    // have stored the write. Only the client's own failure to connect proves nothing landed.
    const metadata = (error as { metadata?: grpc.Metadata }).metadata;
    if ((metadata?.get(ORIGIN_HEADER).length ?? 0) > 0) {
      return (metadata?.get(NOT_APPLIED_HEADER).length ?? 0) > 0 ? "fail" : "indeterminate";
    }
    if (/ECONNREFUSED|No connection established/i.test(details)) return "fail";
  }
  return "indeterminate";
}

/** A short description of an error for the history. */
export function errorText(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const details = (error as { details?: unknown }).details;
  const name = typeof code === "number" ? (grpc.status[code] ?? String(code)) : "error";
  const text = typeof details === "string" && details !== "" ? details : String(error);
  return `${name}: ${text.slice(0, 160)}`;
}

/** The decoded causal context of a key's opaque client context (empty bytes: empty context). */
export function decodeClientContext(key: string, bytes: Uint8Array): CausalContext {
  if (bytes.length === 0) return EMPTY_CONTEXT;
  // The checker reads what a reply's context covers; the cluster checks seals, not the checker.
  const decoded = unverifiedContextOf(bytes);
  if (!decoded.ok) throw new Error(`cannot decode the context of ${key}: ${decoded.reason}`);
  return decoded.context;
}

/**
 * Siblings as the checker sees them. The workloads never delete, so a tombstone is kept: its
 * empty value names no write and is reported as a phantom.
 */
export function observed(siblings: readonly SiblingReply[]): ObservedSibling[] {
  return siblings.map((sibling) => ({
    value: Buffer.from(sibling.value).toString("utf8"),
    vtag: sibling.vtag,
    lastModifiedMs: Number(sibling.last_modified_ms),
  }));
}
