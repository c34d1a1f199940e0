// Every bound dkv enforces, in one place (TigerBeetle: "put a limit on everything").
// Pure: constants and a type only. Units are last in every name.

/** The configurable limits of one node; the defaults are DESIGN.md section 7. */
export interface Limits {
  /** Largest key accepted from a client. */
  readonly keyBytesMax: number;
  /** Largest bucket name accepted from a client. */
  readonly bucketBytesMax: number;
  /** Largest object (all siblings' values and metadata) a write may produce. */
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
  /** Client requests a node works on at once; beyond it requests are shed. */
  readonly requestsInFlightMax: number;
  /** Read repairs a node runs at once; beyond it repairs are skipped (Riak read_repair_max). */
  readonly readRepairsInFlightMax: number;
  /** The request timeout when a client sets no deadline. */
  readonly requestTimeoutMsDefault: number;
  /**
   * The longest deadline a request gets; a client's later deadline is cut to it. Bounds how long
   * replica traffic can stay in flight, which tombstone reaping relies on.
   */
  readonly requestTimeoutMsMax: number;
  /** Largest gRPC message a node accepts: an object at the limit plus framing. */
  readonly grpcMessageBytesMax: number;
}

const MiB = 1024 * 1024;

/** The defaults of DESIGN.md section 7. */
export const DEFAULT_LIMITS: Limits = {
  keyBytesMax: 64 * 1024,
  bucketBytesMax: 255,
  objectBytesMax: 16 * MiB,
  objectBytesWarn: 4 * MiB,
  siblingsMax: 100,
  siblingsWarn: 25,
  contextBytesMax: 64 * 1024,
  contentTypeBytesMax: 255,
  metadataEntriesMax: 64,
  requestsInFlightMax: 4096,
  readRepairsInFlightMax: 256,
  requestTimeoutMsDefault: 5000,
  requestTimeoutMsMax: 60_000,
  // Siblings can each be near the object limit while a write is refused, and a replica reply
  // carries the whole object; leave room so that our own checks, not gRPC's, produce the error.
  grpcMessageBytesMax: 64 * MiB,
};
