// A raw HTTP/2 gRPC client for probing a node's memory bounds the way a hostile client would:
// calls that never read their replies, and messages that announce more bytes than they send.
// Used by scripts/probe-memory.ts and test/integration/memory-bounds.test.ts; not a dkv client.

import type { ClientCredentialsPem } from "../node/security/client-security.js";
import http2 from "node:http2";
import { readFileSync } from "node:fs";
import { loadProto } from "../proto/load-proto.js";

/** One raw call: its stream, and the status once the node sends it in headers or trailers. */
export interface RawCall {
  readonly stream: http2.ClientHttp2Stream;
  /** Resolves with the grpc-status and message, or with code -1 when the stream was reset. */
  readonly status: Promise<{ readonly code: number; readonly details: string }>;
}

/**
 * Opens one HTTP/2 connection to a node: TLS with `credentials` (as a client of the cluster's
 * CA), plaintext without (a node started --insecure).
 */
export function connectRaw(
  address: string,
  credentials?: ClientCredentialsPem,
): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session =
      credentials === undefined
        ? http2.connect(`http://${address}`)
        : http2.connect(`https://${address}`, {
            ca: credentials.ca,
            ...(credentials.cert === undefined ? {} : { cert: credentials.cert }),
            ...(credentials.key === undefined ? {} : { key: credentials.key }),
            servername: "localhost",
          });
    session.once("connect", () => resolve(session));
    session.once("error", reject);
  });
}

/** A message with its gRPC length prefix. */
export function frame(message: Uint8Array, declaredBytes = message.length): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(declaredBytes, 1);
  return Buffer.concat([header, message]);
}

/** The encoded request of a KV method ("Get", "Put"). */
export function encodeKvRequest(method: "Get" | "Put", request: object): Buffer {
  const service = loadProto().grpcObject.dkv.v1.KV.service;
  return service[method].requestSerialize(request as never);
}

/**
 * Starts a call of `path` and writes `body` (already framed). With `read: false` the reply is
 * never read: the stream stays paused, so HTTP/2 flow control leaves the reply on the node.
 */
export function startRawCall(
  session: http2.ClientHttp2Session,
  path: string,
  body: Buffer,
  options: { readonly read: boolean; readonly end?: boolean } = { read: true },
): RawCall {
  const stream = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
  });
  const status = new Promise<{ code: number; details: string }>((resolve) => {
    const from = (headers: http2.IncomingHttpHeaders): boolean => {
      const code = headers["grpc-status"];
      if (code === undefined) return false;
      const details = decodeURIComponent(String(headers["grpc-message"] ?? ""));
      resolve({ code: Number(code), details });
      return true;
    };
    stream.on("response", from);
    stream.on("trailers", from);
    stream.on("close", () => resolve({ code: -1, details: `reset (${stream.rstCode})` }));
    stream.on("error", () => undefined);
  });
  if (options.read) stream.on("data", () => undefined);
  else stream.pause();
  stream.write(body);
  if (options.end ?? true) stream.end();
  return { stream, status };
}

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}
