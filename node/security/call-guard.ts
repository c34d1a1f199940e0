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
import { ForwardingCall } from "../wire/forwarding-call.js";
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

const NO_HEADERS_YET: Caller = { kind: "anonymous", reason: "no headers yet" };

/** The interceptor: install it on the server of every node that runs with TLS. */
export function callGuard(options: CallGuardOptions): grpc.ServerInterceptor {
  return (method, call) => new GuardedCall(call, method.path, options).asIntercepted();
}

/**
 * One call under the guard, a layer with nothing between it and the next (forwarding-call.ts).
 * A caller known from its connection's certificate is checked at once; one that must prove a
 * token waits for the lookup, and the call's later events wait in order behind it (`#pending`).
 */
class GuardedCall extends ForwardingCall {
  readonly #path: string;
  readonly #rule: CallRule | undefined;
  readonly #options: CallGuardOptions;
  /** Settled once the headers are checked; a message that arrives before waits for it. */
  #caller: Caller | Promise<Caller> = NO_HEADERS_YET;
  #refused = false;
  #cancelled = false;
  /**
   * A session that proved its caller with a token has it proved again for every message (a
   * known token is a cache lookup), so removing the user or rotating the token ends what the
   * stream may do at its next message, as it does for the next unary call.
   */
  #tokenHeaders: grpc.Metadata | undefined;
  /** The events waiting behind a token check, chained so that they keep their order. */
  #pending: Promise<void> | undefined;

  constructor(next: grpc.ServerInterceptingCallInterface, path: string, options: CallGuardOptions) {
    super(next);
    this.#path = path;
    this.#rule = ruleOf(path);
    this.#options = options;
  }

  override onReceiveMetadata(metadata: grpc.Metadata): void {
    const found = callerOf(this, metadata, this.#options.access);
    this.#caller = found;
    if (found instanceof Promise) {
      if (this.#rule?.kind === "session") this.#tokenHeaders = metadata;
      this.#pending = found
        .then((who) => this.#checkHeaders(who, metadata))
        .catch((error: unknown) => this.#fail(error));
    } else {
      this.#checkHeaders(found, metadata);
    }
  }

  override onReceiveMessage(message: unknown): void {
    const headers = this.#tokenHeaders;
    if (headers !== undefined) {
      this.#pending = this.#pending!.then(async () => {
        const now = await callerOf(this, headers, this.#options.access);
        this.#checkMessage(now, message);
      }).catch((error: unknown) => this.#fail(error));
    } else if (this.#pending !== undefined) {
      this.#pending = this.#pending
        .then(() => this.#checkMessage(this.#caller as Caller, message))
        .catch((error: unknown) => this.#fail(error));
    } else {
      this.#checkMessage(this.#caller as Caller, message);
    }
  }

  override onReceiveHalfClose(): void {
    if (this.#pending === undefined) this.#halfClose();
    else {
      this.#pending = this.#pending
        .then(() => this.#halfClose())
        .catch((error: unknown) => this.#fail(error));
    }
  }

  #halfClose(): void {
    if (!this.#refused && !this.#cancelled) this.listener?.onReceiveHalfClose();
  }

  /**
   * A step behind a token check threw (a bug, not the caller's doing): the call ends INTERNAL
   * without the error's text, and no later step runs.
   */
  #fail(_error: unknown): void {
    if (this.#refused || this.#cancelled) return;
    this.#refused = true;
    this.nextCall.sendStatus({
      code: grpc.status.INTERNAL,
      details: "the call could not be checked",
    });
  }

  override onCancel(): void {
    this.#cancelled = true;
    this.listener?.onCancel();
  }

  #checkHeaders(who: Caller, metadata: grpc.Metadata): void {
    if (this.#cancelled) return;
    this.#caller = who;
    if (who.kind !== "anonymous") {
      this.#options.standing?.authenticated(addressOfPeer(this.getPeer()));
    }
    const verdict = verdictOf(this.#rule, who, this.#options);
    if (verdict !== undefined) return this.#refuse(who, verdict);
    this.listener?.onReceiveMetadata(metadata);
  }

  #checkMessage(who: Caller, message: unknown): void {
    if (this.#refused || this.#cancelled) return;
    const rule = this.#rule;
    // A session whose token was revoked meanwhile has an anonymous caller: its items are
    // refused one by one, never passed unchecked.
    const revoked = rule?.kind === "session" && who.kind === "anonymous";
    if (!readsMessage(rule, who) && !revoked) return this.listener?.onReceiveMessage(message);
    if (rule?.kind === "session") {
      const checked = sessionItemsOf(who, this.#options, message);
      for (const { code, reason } of checked.refusals.slice(0, 1)) {
        const denied = code as grpc.status.PERMISSION_DENIED;
        this.#options.onRefused?.({
          method: this.#path,
          code: denied,
          caller: describe(who),
          reason,
        });
      }
      return this.listener?.onReceiveMessage(checked.message);
    }
    const verdict = verdictOf(rule, who, this.#options, message);
    if (verdict !== undefined) return this.#refuse(who, verdict);
    this.listener?.onReceiveMessage(message);
  }

  #refuse(who: Caller, verdict: NonNullable<Verdict>): void {
    if (this.#refused) return;
    this.#refused = true;
    if (verdict.code === grpc.status.UNAUTHENTICATED) {
      this.#options.standing?.authFailed(addressOfPeer(this.getPeer()));
    }
    this.#options.onRefused?.({
      method: this.#path,
      code: verdict.code,
      caller: describe(who),
      reason: verdict.reason,
    });
    this.nextCall.sendStatus({ code: verdict.code, details: verdict.reason });
  }
}
