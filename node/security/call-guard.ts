// The one server interceptor that checks every call of every service on a TLS node: who is
// calling (a verified certificate naming a node or a user, or a bearer token naming a user),
// and whether call-rules.ts lets them. A method without a rule is refused. A refused call ends
// before its handler runs; a bucket rule waits for the request message, which grpc-js has
// decoded by then, and checks its bucket before the handler sees it.

import * as grpc from "@grpc/grpc-js";
import type { NodeId } from "../core/node-id.js";
import { FROM_HEADER } from "../peer-clients.js";
import { ruleOf, SESSION_PERMISSIONS, type CallRule, type Permission } from "./call-rules.js";
import { checkSessionItems, type ItemRefusal } from "./session-item-refusal.js";
import { connectionIdentity } from "./connection-identity.js";
import type { PeerIdentity } from "./peer-identity.js";

/** Users, tokens and grants, as the cluster metadata holds them. */
export interface AccessCheck {
  /**
   * The user a bearer token proves, or why not (never quoting the token). `address` is the
   * caller's IP address, for the per-address bound on failed checks.
   */
  userOfToken(token: string, address: string): Promise<TokenOutcome>;
  /** Undefined when `user` may do `permission` (on `bucket`); else why not. */
  refusal(user: string, permission: Permission, bucket: string | undefined): string | undefined;
}

/** A token check's outcome: the user it proves, or the reason to give the caller. */
export type TokenOutcome = { readonly user: string } | { readonly refused: string };

/** The IP address of a grpc-js peer string ("127.0.0.1:5000", "::1:5000"): the port cut off. */
export function addressOfPeer(peer: string): string {
  const end = peer.lastIndexOf(":");
  return end <= 0 ? peer : peer.slice(0, end).replace(/^\[(.*)\]$/, "$1");
}

/** What the guard needs of the node. */
export interface CallGuardOptions {
  /** True for a node that is a current member (in the layout and not removed). */
  isMember(node: NodeId): boolean;
  readonly access: AccessCheck;
  /** Told of every refused call (metrics, rate-limited logs); never given a secret. */
  onRefused?(refusal: Refusal): void;
  /** Told how each call's caller fared, by remote address (node/wire/connection-gate.ts). */
  readonly standing?: CallerStanding;
}

/** Keeps the standing of remote addresses: who authenticates, who keeps failing to. */
export interface CallerStanding {
  /** A call from `address` proved who its caller is. */
  authenticated(address: string): void;
  /** A call from `address` was refused UNAUTHENTICATED. */
  authFailed(address: string): void;
}

/** A refused call, for metrics and logs. */
export interface Refusal {
  readonly method: string;
  readonly code: grpc.status.UNAUTHENTICATED | grpc.status.PERMISSION_DENIED;
  readonly caller: string;
  readonly reason: string;
}

/** Undefined when allowed; else the status to answer. */
type Verdict =
  undefined | { code: grpc.status.UNAUTHENTICATED | grpc.status.PERMISSION_DENIED; reason: string };

/** A caller as the rules see it: a node, a user, or nobody (with why). */
export type Caller = PeerIdentity;

/** The bucket of a KV request ("" is the default bucket). */
export function bucketOf(message: unknown): string {
  const bucket = (message as { bucket?: unknown } | null)?.bucket;
  return typeof bucket === "string" && bucket !== "" ? bucket : "default";
}

/**
 * The buckets a KV request touches: its own, or each of its items' (BatchGet, BatchPut), each
 * once.
 */
export function bucketsOf(message: unknown): string[] {
  const items = (message as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return [bucketOf(message)];
  return [...new Set(items.map(bucketOf))];
}

/**
 * A node of the cluster's CA that is not a current member (one never added, or removed: its
 * certificate stays valid until it expires) is refused: removing a member is what revokes it.
 */
function memberVerdict(node: NodeId, options: Pick<CallGuardOptions, "isMember">): Verdict {
  return options.isMember(node)
    ? undefined
    : {
        code: grpc.status.PERMISSION_DENIED,
        reason: `node ${node} is not a member of the cluster`,
      };
}

/**
 * The verdict of `rule` for `caller`; `message` is the request for rules that read it (bucket,
 * stage), undefined when checking at the headers. Pure.
 */
export function verdictOf(
  rule: CallRule | undefined,
  caller: Caller,
  options: Pick<CallGuardOptions, "isMember" | "access">,
  message?: unknown,
): Verdict {
  if (rule === undefined) {
    return { code: grpc.status.PERMISSION_DENIED, reason: "no access rule for this method" };
  }
  if (rule.kind === "open") return undefined;
  if (caller.kind === "anonymous") {
    return {
      code: grpc.status.UNAUTHENTICATED,
      reason: `this call needs a client certificate or a bearer token (${caller.reason})`,
    };
  }
  const user = (permission: Permission, bucket?: string): Verdict => {
    if (caller.kind !== "user") {
      return { code: grpc.status.PERMISSION_DENIED, reason: "only a user may make this call" };
    }
    const refused = options.access.refusal(caller.user, permission, bucket);
    return refused === undefined
      ? undefined
      : { code: grpc.status.PERMISSION_DENIED, reason: refused };
  };
  switch (rule.kind) {
    case "authenticated":
      return undefined;
    case "member":
      return caller.kind === "node"
        ? memberVerdict(caller.nodeId, options)
        : { code: grpc.status.PERMISSION_DENIED, reason: "only member nodes may make this call" };
    case "user":
      return user(rule.permission);
    case "node-or-user":
      return caller.kind === "node" ? undefined : user(rule.permission);
    case "member-or-user":
      return caller.kind === "node" ? memberVerdict(caller.nodeId, options) : user(rule.permission);
    case "bucket":
      if (caller.kind === "node") return memberVerdict(caller.nodeId, options);
      if (message === undefined) return undefined;
      for (const bucket of bucketsOf(message)) {
        const verdict = user(rule.permission, bucket);
        if (verdict !== undefined) return verdict;
      }
      return undefined;
    case "session":
      // A node must be a member; a user's items are checked one by one (sessionItemsOf).
      return caller.kind === "node" ? memberVerdict(caller.nodeId, options) : undefined;
    case "stage": {
      if (caller.kind === "user") return user("admin");
      if (options.isMember(caller.nodeId) || message === undefined) return undefined;
      const request = message as { kind?: unknown; node?: unknown };
      return request.kind === "join" && request.node === caller.nodeId
        ? undefined
        : {
            code: grpc.status.PERMISSION_DENIED,
            reason: `node ${caller.nodeId} is not a member: it may only stage its own join`,
          };
    }
  }
}

/**
 * A Session message with every item `caller` may not run replaced by its refusal
 * (session-item-refusal.ts): a member node may run anything, a user what its grants allow on each
 * item's bucket for the item's operation. An item with no operation is left for the session
 * to answer INVALID_ARGUMENT. Pure.
 */
export function sessionItemsOf(
  caller: Caller,
  options: Pick<CallGuardOptions, "access" | "isMember">,
  message: unknown,
): { message: unknown; refusals: ItemRefusal[] } {
  if (caller.kind === "node" && options.isMember(caller.nodeId)) return { message, refusals: [] };
  return checkSessionItems(message, (op, request) => {
    if (op !== "get" && op !== "put" && op !== "delete") return undefined;
    if (caller.kind === "node") return memberVerdict(caller.nodeId, options);
    if (caller.kind !== "user") {
      const reason = caller.kind === "anonymous" ? caller.reason : "this call needs a user";
      return { code: grpc.status.UNAUTHENTICATED, reason };
    }
    const permission = SESSION_PERMISSIONS[op];
    const refused = options.access.refusal(caller.user, permission, bucketOf(request));
    return refused === undefined
      ? undefined
      : { code: grpc.status.PERMISSION_DENIED, reason: refused };
  });
}

/** True for rules that must also see the request message. */
function readsMessage(rule: CallRule | undefined, caller: Caller): boolean {
  if (rule === undefined || caller.kind === "anonymous") return false;
  return (
    (rule.kind === "bucket" && caller.kind === "user") ||
    // A node too: one removed while its session is open is refused from its next message.
    rule.kind === "session" ||
    rule.kind === "stage"
  );
}

const BEARER = /^Bearer\s+(\S{1,512})$/i;

/**
 * The caller of a call: its verified certificate, else its bearer token, else anonymous. A
 * promise only when a token must be checked.
 */
function callerOf(
  call: grpc.ServerInterceptingCallInterface,
  metadata: grpc.Metadata,
  access: AccessCheck,
): Caller | Promise<Caller> {
  const byCertificate = connectionIdentity(call);
  const from = metadata.get(FROM_HEADER)[0];
  if (from !== undefined && (byCertificate.kind !== "node" || from !== byCertificate.nodeId)) {
    return { kind: "anonymous", reason: `${FROM_HEADER} names a node the certificate does not` };
  }
  if (byCertificate.kind !== "anonymous") return byCertificate;
  const header = metadata.get("authorization")[0];
  if (header === undefined) return byCertificate;
  const token = typeof header === "string" ? BEARER.exec(header)?.[1] : undefined;
  if (token === undefined) return { kind: "anonymous", reason: "malformed authorization header" };
  return access.userOfToken(token, addressOfPeer(call.getPeer())).then(
    (outcome): Caller =>
      "user" in outcome
        ? { kind: "user", user: outcome.user }
        : { kind: "anonymous", reason: outcome.refused },
    (): Caller => ({ kind: "anonymous", reason: "the token could not be checked" }),
  );
}

function describe(caller: Caller): string {
  return caller.kind === "node"
    ? `node ${caller.nodeId}`
    : caller.kind === "user"
      ? `user ${caller.user}`
      : "anonymous";
}

/** The interceptor: install it on the server of every node that runs with TLS. */
export function callGuard(options: CallGuardOptions): grpc.ServerInterceptor {
  return (method, call) => {
    const rule = ruleOf(method.path);
    // Settled once the headers are checked; a message that arrives before waits for it.
    let caller: Caller | Promise<Caller> = { kind: "anonymous", reason: "no headers yet" };
    let refused = false;
    const refuse = (who: Caller, verdict: NonNullable<Verdict>): void => {
      if (refused) return;
      refused = true;
      if (verdict.code === grpc.status.UNAUTHENTICATED) {
        options.standing?.authFailed(addressOfPeer(call.getPeer()));
      }
      options.onRefused?.({
        method: method.path,
        code: verdict.code,
        caller: describe(who),
        reason: verdict.reason,
      });
      call.sendStatus({ code: verdict.code, details: verdict.reason });
    };
    const checkMessage = (who: Caller, message: unknown, pass: (message: unknown) => void) => {
      if (refused) return;
      // A session whose token was revoked meanwhile has an anonymous caller: its items are
      // refused one by one, never passed unchecked.
      const revoked = rule?.kind === "session" && who.kind === "anonymous";
      if (!readsMessage(rule, who) && !revoked) return pass(message);
      if (rule?.kind === "session") {
        const checked = sessionItemsOf(who, options, message);
        for (const { code, reason } of checked.refusals.slice(0, 1)) {
          const denied = code as grpc.status.PERMISSION_DENIED;
          options.onRefused?.({ method: method.path, code: denied, caller: describe(who), reason });
        }
        return pass(checked.message);
      }
      const verdict = verdictOf(rule, who, options, message);
      if (verdict !== undefined) return refuse(who, verdict);
      pass(message);
    };
    // A session that proved its caller with a token has it proved again for every message (a
    // known token is a cache lookup), so removing the user or rotating the token ends what the
    // stream may do at its next message, as it does for the next unary call. Chained, so that
    // messages keep their order.
    let tokenHeaders: grpc.Metadata | undefined;
    let rechecked: Promise<void> = Promise.resolve();
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const checkHeaders = (who: Caller): void => {
              caller = who;
              if (who.kind !== "anonymous") {
                options.standing?.authenticated(addressOfPeer(call.getPeer()));
              }
              const verdict = verdictOf(rule, who, options);
              if (verdict !== undefined) return refuse(who, verdict);
              nextMetadata(metadata);
            };
            const found = callerOf(call, metadata, options.access);
            if (found instanceof Promise && rule?.kind === "session") tokenHeaders = metadata;
            caller = found;
            if (found instanceof Promise) void found.then(checkHeaders);
            else checkHeaders(found);
          },
          onReceiveMessage(message, nextMessage) {
            const headers = tokenHeaders;
            if (headers !== undefined) {
              rechecked = rechecked.then(async () => {
                await caller; // the headers' own check first
                const now = await callerOf(call, headers, options.access);
                checkMessage(now, message, nextMessage);
              });
              return;
            }
            const who = caller;
            if (who instanceof Promise)
              void who.then((known) => checkMessage(known, message, nextMessage));
            else checkMessage(who, message, nextMessage);
          },
          onReceiveHalfClose(nextHalfClose) {
            if (tokenHeaders === undefined) {
              if (!refused) nextHalfClose();
              return;
            }
            // A token session's half-close follows the messages still being checked.
            rechecked = rechecked.then(() => {
              if (!refused) nextHalfClose();
            });
          },
        });
      },
    });
  };
}
