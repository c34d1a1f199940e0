// Every bound dkv enforces, in one place (TigerBeetle: "put a limit on everything").
// Pure: constants and a type only. One naming style (TigerBeetle's `latency_ms_max`): what is
// counted with its unit, then the qualifier `Max`, `Warn` or `Default`, last; a bound narrower
// than the node starts with its scope (`connection...`). These are the `--limit NAME=` names.

/** The configurable limits of one node; the defaults are DESIGN.md section 7. */
export interface Limits {
  /** Largest key accepted from a client. */
  readonly keyBytesMax: number;
  /** Largest bucket name accepted from a client. */
  readonly bucketBytesMax: number;
  /** Largest value of one write. */
  readonly valueBytesMax: number;
  /**
   * Largest object a write may produce: the values, content types and metadata of all siblings
   * plus the encoded causal context (objectLimitBytes in node/core/object-codec.ts).
   */
  readonly objectBytesMax: number;
  /** Objects above this size are stored but logged as a warning. */
  readonly objectBytesWarn: number;
  /** Most siblings a write may leave behind; beyond it the write is refused. */
  readonly siblingsMax: number;
  /** Sibling counts above this are logged as a warning. */
  readonly siblingsWarn: number;
  /** Largest client context; it is absorbed into the stored object, so it is bounded. */
  readonly contextBytesMax: number;
  /** Largest content type string. */
  readonly contentTypeBytesMax: number;
  /** Most user metadata entries on one write. */
  readonly metadataEntriesMax: number;
  /** Bytes of user metadata (keys and values, UTF-8) on one write. */
  readonly metadataBytesMax: number;
  /** Client requests a node works on at once; beyond it requests are shed. */
  readonly requestsInFlightMax: number;
  /**
   * Client requests one connection may have in flight once the node is busy (more than half of
   * requestsInFlightMax): its fair share is the larger of this and requestsInFlightMax divided
   * by one more than the connections with requests in flight (a share kept for a newcomer).
   * One greedy client cannot starve the rest.
   */
  readonly connectionRequestsInFlightMax: number;
  /** Most items in one BatchGet or BatchPut; a larger batch is refused whole. */
  readonly batchItemsMax: number;
  /**
   * Items of one batch coordinated at once; the rest wait for a slot. Each item also counts
   * against requestsInFlightMax while it runs, and is shed (its own RESOURCE_EXHAUSTED) past it.
   */
  readonly batchItemsInFlightMax: number;
  /**
   * Items of one KV.Session a node works on at once. Past it the node stops reading the
   * stream (the rest of the message that crossed it waits for a slot) and HTTP/2 flow control
   * holds the client, so a pipelining client needs no retry logic. Each running item also
   * counts against requestsInFlightMax, and is shed alone (its own RESOURCE_EXHAUSTED) past it.
   */
  readonly sessionItemsInFlightMax: number;
  /**
   * Bytes of requests and replies a node holds at once, over all services: messages being
   * received or worked on, and replies not yet read by their callers. Past it new calls are
   * refused with RESOURCE_EXHAUSTED before their messages are read.
   */
  readonly requestBytesInFlightMax: number;
  /**
   * The same bound for one connection. A connection whose unread replies keep it past this
   * bound is closed.
   */
  readonly connectionBytesInFlightMax: number;
  /** A reply its caller has not read this long after it was sent is cancelled (RST_STREAM). */
  readonly replyUnreadMsMax: number;
  /**
   * A partition transfer stream (Transfer.Fetch) whose receiver reads nothing for this long is
   * ended with DEADLINE_EXCEEDED, which frees the sender's stream slot; the receiver resumes
   * from its cursor. Without it a stalled receiver would hold one of the sender's few slots.
   */
  readonly transferUnreadMsMax: number;
  /** Read repairs a node runs at once; beyond it repairs are skipped (Riak read_repair_max). */
  readonly readRepairsInFlightMax: number;
  /**
   * Bytes of recently read objects the log engine keeps in memory (a write refreshes a cached
   * key), the oldest out first (node/storage/object-cache.ts); 1 keeps none.
   */
  readonly objectCacheBytesMax: number;
  /**
   * Bytes of hints a node keeps for one down primary (hinted handoff); past it the node declines
   * to stand in for that primary and the coordinator moves on to the next node. Bounds the disk
   * one long outage can fill.
   */
  readonly hintBytesMax: number;
  /** The request timeout when a client sets no deadline. */
  readonly requestTimeoutMsDefault: number;
  /**
   * The longest deadline a request gets; a client's later deadline is cut to it. Bounds how long
   * replica traffic can stay in flight, which tombstone reaping relies on.
   */
  readonly requestTimeoutMsMax: number;
  /**
   * Largest gRPC message a node accepts or sends on its internal services (replica, handoff):
   * room for two objects at the limit, as a merge of two concurrent writes can briefly hold.
   */
  readonly grpcMessageBytesMax: number;
  /** Largest request message of the public KV service: a value at the limit plus the rest. */
  readonly kvMessageBytesMax: number;
  /** Largest request message of the small services (admin, anti-entropy, health, reflection). */
  readonly controlMessageBytesMax: number;
  /**
   * Open connections to the public port from one remote IP address; more are closed at accept,
   * before any TLS work. Loopback is not exempt. A quarter of connectionsMax: one address (an
   * application server behind NAT, a local cluster's nodes and tools) may legitimately hold
   * hundreds, and still cannot take the whole node (Cassandra's per-IP bound is off by default).
   */
  readonly addressConnectionsMax: number;
  /** Open connections to the public port from everyone (net.Server maxConnections). */
  readonly connectionsMax: number;
  /**
   * A connection that has not finished its TLS handshake (and HTTP/2 setup) this long after it
   * was accepted is closed, so a silent socket cannot hold a slot (Node's own default: 120 s).
   */
  readonly connectionHandshakeMsMax: number;
  /** A connection with no call open for this long is sent GOAWAY (grpc.max_connection_idle_ms). */
  readonly connectionIdleMsMax: number;
  /**
   * Token checks that ran scrypt and failed, per second, from one remote address; past the
   * burst a token whose hash is not already known is refused without running scrypt.
   */
  readonly addressTokenFailuresMax: number;
  /**
   * Calls refused UNAUTHENTICATED on one connection before the node closes it. A caller that
   * cannot prove who it is gains nothing by asking again on the same connection, and each
   * refused call still costs the node a stream and a place in admission.
   */
  readonly connectionAuthFailuresMax: number;
  /**
   * Calls refused UNAUTHENTICATED per second from one remote address, with a burst of twice
   * connectionAuthFailuresMax; past it, new connections from the address are closed at accept,
   * before their TLS handshake, until the budget refills. Each connection the address opens
   * counts as one more. Each time the address spends the budget again, its refill rate halves,
   * down to 1/16 of this (node/wire/address-standing.ts). An address that authenticated a call
   * in the last 10 minutes is exempt, and forgiven (a NAT or a host shared with good clients).
   */
  readonly addressAuthFailuresMax: number;
  /**
   * TLS handshakes under way at once from one remote address that has not authenticated a call
   * in the last 10 minutes; more are closed at accept. A handshake costs a node ~11 ms of CPU,
   * so a thousand connections opened together by a stranger would otherwise cost it seconds.
   */
  readonly addressHandshakesMax: number;
  /**
   * TLS handshakes per second the node spends, all addresses together, on connections from
   * addresses it does not trust yet (none of their calls authenticated in the last 10 minutes,
   * and no member of the cluster is there), with a burst of twice this; more such connections
   * are closed at accept, before TLS. The per-address bounds above cannot stop a flood from
   * many addresses: at ~5 ms of CPU per handshake, 32 a second is at most a sixth of a core,
   * whatever the number of addresses. Clients with an address the node trusts are not held to
   * it, and a restarted node trusts its members' addresses from its stored layout.
   */
  readonly strangerHandshakeRateMax: number;
}

/**
 * Largest counter a context may carry for one actor. A counter counts the writes one actor
 * coordinated for one key, so no real context comes near it; a forged one near 2^53 would make
 * the next write's counter overflow. Fixed, not configurable: stored data depends on it.
 */
export const CONTEXT_COUNTER_MAX = 2 ** 48;

/**
 * Largest certificate, key or CA bundle file a node reads. A bundle of a few PEM certificates is
 * a few KiB; a bigger file is refused before it is read into memory.
 */
export const CREDENTIAL_FILE_BYTES_MAX = 256 * 1024;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The defaults of DESIGN.md section 7. */
export const DEFAULT_LIMITS: Limits = {
  keyBytesMax: 64 * 1024,
  bucketBytesMax: 255,
  valueBytesMax: 16 * MiB,
  objectBytesMax: 17 * MiB,
  objectBytesWarn: 4 * MiB,
  siblingsMax: 100,
  siblingsWarn: 25,
  contextBytesMax: 64 * 1024,
  contentTypeBytesMax: 255,
  metadataEntriesMax: 64,
  metadataBytesMax: 64 * 1024,
  requestsInFlightMax: 4096,
  connectionRequestsInFlightMax: 512,
  batchItemsMax: 1000,
  batchItemsInFlightMax: 128,
  // A connection's fair share of requests (connectionRequestsInFlightMax): one session may
  // hold what one busy connection may.
  sessionItemsInFlightMax: 512,
  requestBytesInFlightMax: 512 * MiB,
  connectionBytesInFlightMax: 128 * MiB,
  replyUnreadMsMax: 60_000,
  transferUnreadMsMax: 30_000,
  readRepairsInFlightMax: 256,
  objectCacheBytesMax: 32 * MiB,
  hintBytesMax: GiB,
  requestTimeoutMsDefault: 5000,
  requestTimeoutMsMax: 60_000,
  // A replica message carries a whole object; two concurrent writes through different
  // coordinators can briefly merge past the object limit before one is refused and retracted.
  grpcMessageBytesMax: 2 * 17 * MiB + MiB,
  // value + key + context + metadata + content type, with room for protobuf framing.
  kvMessageBytesMax: 16 * MiB + 64 * 1024 + 64 * 1024 + 64 * 1024 + 64 * 1024,
  controlMessageBytesMax: 4 * MiB,
  addressConnectionsMax: 1024,
  connectionsMax: 4096,
  connectionHandshakeMsMax: 10_000,
  connectionIdleMsMax: 300_000,
  addressTokenFailuresMax: 4,
  connectionAuthFailuresMax: 8,
  addressAuthFailuresMax: 1,
  addressHandshakesMax: 8,
  strangerHandshakeRateMax: 32,
};

/**
 * The longest a write's copies are still sent after the write began: its deadline (cut to
 * requestTimeoutMsMax), then the window its hinted copy gets to reach a spare (one default
 * request time, shared by every spare tried: coordinator/write-slot.ts). A node reaps a tombstone
 * only once it has held it this long (tombstone-reaper.ts): every write the tombstone supersedes
 * began before the delete, so no copy of one can land anywhere after the reap, on a spare least
 * of all, where no reap guard would answer it.
 */
export function writeLifeMs(
  limits: Pick<Limits, "requestTimeoutMsMax" | "requestTimeoutMsDefault">,
): number {
  return limits.requestTimeoutMsMax + hintedCopyWindowMs(limits);
}

/** How long after a write's deadline its hinted copy may still be handed to spares. */
export function hintedCopyWindowMs(limits: Pick<Limits, "requestTimeoutMsDefault">): number {
  return limits.requestTimeoutMsDefault;
}

/** Pairs of limits where the first may not exceed the second. */
const ORDERED: readonly (readonly [keyof Limits, keyof Limits])[] = [
  ["valueBytesMax", "objectBytesMax"],
  ["objectBytesWarn", "objectBytesMax"],
  ["siblingsWarn", "siblingsMax"],
  ["objectBytesMax", "grpcMessageBytesMax"],
  ["requestTimeoutMsDefault", "requestTimeoutMsMax"],
  ["connectionRequestsInFlightMax", "requestsInFlightMax"],
  ["batchItemsInFlightMax", "batchItemsMax"],
  ["sessionItemsInFlightMax", "requestsInFlightMax"],
  ["connectionBytesInFlightMax", "requestBytesInFlightMax"],
  ["addressConnectionsMax", "connectionsMax"],
];

/**
 * The defaults with `overrides` ("name=value" each, value a positive integer), or a reason
 * naming the bad entry: an unknown name, a value that is not a positive integer, or a pair that
 * contradicts another limit (a value limit above the object limit, say).
 */
export function limitsWith(
  overrides: readonly string[],
  base: Limits = DEFAULT_LIMITS,
):
  { readonly ok: true; readonly limits: Limits } | { readonly ok: false; readonly reason: string } {
  const limits: Record<string, number> = { ...base };
  for (const entry of overrides) {
    const equals = entry.indexOf("=");
    const name = entry.slice(0, equals);
    const value = Number(entry.slice(equals + 1));
    if (equals <= 0 || !(name in base)) {
      const names = Object.keys(base).join(", ");
      return { ok: false, reason: `unknown limit in '${entry}'; limits: ${names}` };
    }
    if (!Number.isSafeInteger(value) || value < 1) {
      return {
        ok: false,
        reason: `${name} must be a positive integer, got '${entry.slice(equals + 1)}'`,
      };
    }
    limits[name] = value;
  }
  for (const [lower, upper] of ORDERED) {
    if ((limits[lower] ?? 0) > (limits[upper] ?? 0)) {
      return {
        ok: false,
        reason: `${lower}=${limits[lower]} exceeds ${upper}=${limits[upper]}`,
      };
    }
  }
  return { ok: true, limits: limits as unknown as Limits };
}
