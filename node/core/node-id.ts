// Node identifiers: a branded string so that a node id cannot be mixed up with a bucket, key or
// address. Pure: validation only, no IO.

/** A node's stable name, as it appears in the ring and in version-vector dots. */
export type NodeId = string & { readonly __brand: "NodeId" };

/** Longest node id: ids travel in every dot of every version vector, so they stay short. */
const nodeIdLengthMax = 64;

/** 1..64 characters of `[A-Za-z0-9_.-]`: safe in file names, log lines and metric labels. */
const nodeIdPattern = /^[A-Za-z0-9_.-]{1,64}$/;

/** True when `value` is a well-formed node id (1..64 characters of `[A-Za-z0-9_.-]`). */
export function isValidNodeId(value: string): boolean {
  return value.length <= nodeIdLengthMax && nodeIdPattern.test(value);
}

/**
 * Brands `value` as a {@link NodeId}. Throws when it is not valid (see {@link isValidNodeId}):
 * a malformed id is a configuration or programming error, never a request error.
 */
export function nodeId(value: string): NodeId {
  if (!isValidNodeId(value)) {
    throw new Error(`invalid node id ${JSON.stringify(value)}: want 1..64 of [A-Za-z0-9_.-]`);
  }
  return value as NodeId;
}
