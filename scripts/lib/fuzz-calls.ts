// The protobuf fuzzer's sending side and its oracle (issue 15): fuzzed bodies of proto-fuzz.ts go
// out as raw HTTP/2 gRPC calls (so malformed bytes reach the server as they are), from callers
// of every kind, over a real TLS socket; each call must end within its deadline with a status
// of the allowed set, and a refusal must say why. Used by test/integration/fuzz.test.ts and
// scripts/fuzz.ts.

import http2 from "node:http2";
import fc from "fast-check";
import * as grpc from "@grpc/grpc-js";
import type { ClientCredentialsPem } from "../../node/security/client-security.js";
import type protobuf from "protobufjs";
import {
  bodyArbitrary,
  framed,
  isFenced,
  messagesIn,
  type FuzzBody,
  type FuzzFence,
  type FuzzMethod,
} from "./proto-fuzz.js";

/** Who calls: its TLS credentials (CA only for anonymous) and a bearer token, if any. */
export interface FuzzCaller {
  readonly name: string;
  readonly credentials: ClientCredentialsPem;
  readonly token?: string;
  /** No certificate and no token: everything but health must be UNAUTHENTICATED. */
  readonly anonymous: boolean;
}

/** One planned call. */
export interface FuzzCall {
  readonly index: number;
  readonly method: FuzzMethod;
  readonly caller: FuzzCaller;
  readonly address: string;
  readonly body: FuzzBody;
}

/**
 * How one call ended. `code` -1: the stream was reset without a status; -2: no end in time;
 * CUT_BY_CONNECTION_CLOSE (-3): cut by the node closing its connection.
 */
export interface FuzzOutcome {
  readonly call: FuzzCall;
  readonly code: number;
  readonly details: string;
  readonly elapsedMs: number;
}

/** Statuses a node may answer a fuzzed call with (UNIMPLEMENTED only for unknown methods). */
export const ALLOWED_CODES: ReadonlySet<number> = new Set([
  grpc.status.OK,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.UNAUTHENTICATED,
  grpc.status.PERMISSION_DENIED,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.NOT_FOUND,
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.OUT_OF_RANGE,
  grpc.status.ABORTED,
]);

/** Methods served without authentication (call-rules.ts "open"). */
export function isOpen(method: FuzzMethod): boolean {
  return method.service === "grpc.health.v1.Health";
}

/**
 * The calls of a run: `perPair` bodies for every (method, caller) pair, to `addresses` in
 * turn, made by fast-check from `seed` alone, so a seed replays a run. Bodies the fence
 * rejects are drawn again.
 */
export function planCalls(options: {
  readonly methods: readonly FuzzMethod[];
  readonly callers: readonly FuzzCaller[];
  readonly addresses: readonly string[];
  readonly perPair: number;
  readonly seed: number;
  readonly fence: FuzzFence;
}): FuzzCall[] {
  const calls: FuzzCall[] = [];
  options.methods.forEach((method, methodIndex) => {
    const wanted = options.perPair * options.callers.length;
    const fenced = bodyArbitrary(method).filter((body) =>
      isFenced(method, body.bytes, options.fence),
    );
    const bodies = fc.sample(fenced, { seed: options.seed + methodIndex, numRuns: wanted });
    bodies.forEach((body, bodyIndex) => {
      const caller = options.callers[bodyIndex % options.callers.length]!;
      const address = options.addresses[calls.length % options.addresses.length]!;
      calls.push({ index: calls.length, method, caller, address, body });
    });
  });
  return calls;
}

/** One HTTP/2 session per (caller, address), reopened when the node closed it. */
export class FuzzSessions {
  readonly #sessions = new Map<string, http2.ClientHttp2Session>();

  async get(caller: FuzzCaller, address: string): Promise<http2.ClientHttp2Session> {
    const key = `${caller.name} ${address}`;
    const open = this.#sessions.get(key);
    if (open !== undefined && !open.closed && !open.destroyed) return open;
    const session = await connect(address, caller.credentials);
    session.on("error", () => undefined);
    session.once("goaway", () => closedByNode.add(session));
    this.#sessions.set(key, session);
    return session;
  }

  /** Forgets the session of (caller, address): the next call opens a new one. */
  drop(caller: FuzzCaller, address: string): void {
    const key = `${caller.name} ${address}`;
    this.#sessions.get(key)?.close();
    this.#sessions.delete(key);
  }

  close(): void {
    for (const session of this.#sessions.values()) session.destroy();
    this.#sessions.clear();
  }
}

/** Sessions the node sent GOAWAY on: it is closing them. */
const closedByNode = new WeakSet<http2.ClientHttp2Session>();

/**
 * The outcome of a call cut, without a status, by the node closing its connection (GOAWAY, then
 * the socket): what a node does to the connection of a caller whose calls keep failing
 * authentication (connectionAuthFailuresMax), whatever other call is open on it.
 */
export const CUT_BY_CONNECTION_CLOSE = -3;

/** Times a call refused unprocessed (REFUSED_STREAM) is sent again on a new connection. */
const REFUSED_RETRIES = 3;

function connect(address: string, pem: ClientCredentialsPem): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${address}`, {
      ca: pem.ca,
      ...(pem.cert === undefined ? {} : { cert: pem.cert }),
      ...(pem.key === undefined ? {} : { key: pem.key }),
      servername: "localhost",
    });
    session.once("connect", () => resolve(session));
    session.once("error", reject);
  });
}

/**
 * Sends one call: headers (with a grpc-timeout of deadlineMs), the body, a half-close; reads and
 * drops replies; resolves with its status, -1 for a reset without one, -2 when nothing ended it
 * graceMs after its deadline (a hang). A stream the node refused unprocessed (REFUSED_STREAM,
 * as on a connection it is closing, e.g. after connectionAuthFailuresMax refused calls) is sent
 * again on a new connection, as gRPC clients retry such a stream transparently.
 */
export async function sendCall(
  sessions: FuzzSessions,
  call: FuzzCall,
  deadlineMs: number,
  graceMs: number,
): Promise<FuzzOutcome> {
  const startedMs = performance.now();
  for (let attempt = 0; ; attempt++) {
    const ended = await sendOnce(sessions, call, deadlineMs, graceMs);
    const refused = ended.code === -1 && ended.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
    if (refused && attempt < REFUSED_RETRIES) {
      sessions.drop(call.caller, call.address);
      continue;
    }
    return {
      call,
      code: ended.code,
      details: ended.details,
      elapsedMs: performance.now() - startedMs,
    };
  }
}

async function sendOnce(
  sessions: FuzzSessions,
  call: FuzzCall,
  deadlineMs: number,
  graceMs: number,
): Promise<{ code: number; details: string; rstCode?: number }> {
  const session = await sessions.get(call.caller, call.address);
  const stream = session.request({
    ":method": "POST",
    ":path": call.method.path,
    "content-type": "application/grpc",
    te: "trailers",
    "grpc-timeout": `${deadlineMs}m`,
    ...(call.caller.token === undefined ? {} : { authorization: `Bearer ${call.caller.token}` }),
  });
  return new Promise<{ code: number; details: string; rstCode?: number }>((resolve) => {
    const timer = setTimeout(() => {
      resolve({ code: -2, details: `no status ${graceMs} ms after the deadline` });
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, deadlineMs + graceMs);
    const settle = (outcome: { code: number; details: string; rstCode?: number }): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    const from = (headers: http2.IncomingHttpHeaders): void => {
      const code = headers["grpc-status"];
      if (code === undefined) return;
      settle({
        code: Number(code),
        details: decodeURIComponent(String(headers["grpc-message"] ?? "")),
      });
    };
    stream.on("response", from);
    stream.on("trailers", from);
    stream.on("close", () =>
      closedByNode.has(session) && stream.rstCode === http2.constants.NGHTTP2_CANCEL
        ? settle({ code: CUT_BY_CONNECTION_CLOSE, details: "connection closed by the node" })
        : settle({ code: -1, details: `reset (${stream.rstCode})`, rstCode: stream.rstCode }),
    );
    stream.on("error", () => undefined);
    stream.on("data", () => undefined);
    stream.end(call.body.bytes);
  });
}

/** Why an outcome breaks the oracle, or undefined when it is fine. */
export function findingOf(outcome: FuzzOutcome): string | undefined {
  const { call, code, details } = outcome;
  if (code === -2) return "hang: no status after the deadline";
  if (code === -1) return `no status: ${details}`;
  if (code === CUT_BY_CONNECTION_CLOSE) {
    // Only an anonymous caller's connection is closed for its authentication failures.
    return call.caller.anonymous ? undefined : "cut by the node closing its connection";
  }
  if (call.method.unknown === true) {
    return code === grpc.status.UNIMPLEMENTED ? undefined : `unknown method answered ${code}`;
  }
  // gRPC's status table: a unary or server-streaming call that sent no message, or two, is a
  // request cardinality violation, UNIMPLEMENTED (grpc-js answers it before any interceptor).
  const cardinality = !call.method.requestStream && messagesIn(call.body.bytes).length !== 1;
  if (cardinality && code === grpc.status.UNIMPLEMENTED && details.trim() !== "") return undefined;
  if (call.caller.anonymous && !isOpen(call.method) && code !== grpc.status.UNAUTHENTICATED) {
    return `anonymous caller answered ${grpc.status[code] ?? code}, not UNAUTHENTICATED`;
  }
  if (!ALLOWED_CODES.has(code)) return `status ${grpc.status[code] ?? code} is not allowed`;
  if (code !== grpc.status.OK && details.trim() === "") return "a refusal without a message";
  return undefined;
}

/** Runs `calls` with at most `concurrency` in flight; outcomes in call order. */
export async function runCalls(
  calls: readonly FuzzCall[],
  options: { concurrency: number; deadlineMs: number; graceMs: number },
  onOutcome?: (outcome: FuzzOutcome) => void,
): Promise<FuzzOutcome[]> {
  const sessions = new FuzzSessions();
  const outcomes: FuzzOutcome[] = new Array(calls.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls.length) {
      const call = calls[next++]!;
      const outcome = await sendCall(sessions, call, options.deadlineMs, options.graceMs).catch(
        (error: Error) => ({ call, code: -1, details: `connect: ${error.message}`, elapsedMs: 0 }),
      );
      outcomes[call.index] = outcome;
      onOutcome?.(outcome);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    sessions.close();
  }
  return outcomes;
}

/** Calls per service and status, as rows for a table. */
export function tally(outcomes: readonly FuzzOutcome[]): Map<string, Map<string, number>> {
  const rows = new Map<string, Map<string, number>>();
  for (const outcome of outcomes) {
    const { service, unknown } = outcome.call.method;
    const name = unknown === true ? `${service} (unknown method)` : service;
    const row = rows.get(name) ?? new Map<string, number>();
    const status =
      outcome.code === -2
        ? "HANG"
        : outcome.code === -1
          ? "RESET"
          : outcome.code === CUT_BY_CONNECTION_CLOSE
            ? "CUT"
            : String(grpc.status[outcome.code]);
    row.set(status, (row.get(status) ?? 0) + 1);
    rows.set(name, row);
  }
  return rows;
}

/**
 * The services a node lists through gRPC reflection (v1), asked as `caller`: the fuzzer compares
 * them with the protos it loaded, so a service it cannot fuzz fails the run.
 */
export async function reflectedServices(
  root: protobuf.Root,
  caller: FuzzCaller,
  address: string,
): Promise<string[]> {
  const request = root.lookupType("grpc.reflection.v1.ServerReflectionRequest");
  const response = root.lookupType("grpc.reflection.v1.ServerReflectionResponse");
  const session = await connect(address, caller.credentials);
  try {
    const stream = session.request({
      ":method": "POST",
      ":path": "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    const done = new Promise<void>((resolve, reject) => {
      stream.on("close", resolve);
      stream.on("error", reject);
    });
    stream.end(framed(request.encode({ list_services: "" }).finish()));
    await done;
    return messagesIn(Buffer.concat(chunks)).flatMap((bytes) => {
      const reply = response.toObject(response.decode(bytes)) as {
        list_services_response?: { service?: { name: string }[] };
      };
      return (reply.list_services_response?.service ?? []).map((service) => service.name);
    });
  } finally {
    session.destroy();
  }
}

/** One line that replays and explains a finding. */
export function describeFinding(outcome: FuzzOutcome, finding: string, seed: number): string {
  const { call } = outcome;
  const head = call.body.bytes.subarray(0, 48).toString("hex");
  return (
    `#${call.index} ${call.method.path} as ${call.caller.name} (seed ${seed}): ${finding}; ` +
    `got ${outcome.code} "${outcome.details}"; body ${call.body.how}, ${call.body.bytes.length} bytes ${head}`
  );
}
