// The opening side of an anti-entropy exchange (DESIGN §5, Riak Tictac AAE): compare roots,
// then the branches of differing partitions, then the leaves of differing branches, then the
// keys and version hashes of differing leaves; confirm and repair (exchange-repair.ts). Every
// step costs bytes in proportion to what differs, not to the number of keys.

import type { NodeId } from "../core/node-id.js";
import { keyHash, partitionOf } from "../core/key-hash.js";
import { HASH_BYTES, differingSlots, leafOf, unpackHash } from "../core/merkle-tree.js";
import type { PartitionTrees } from "./partition-trees.js";
import { parseStorageKeyString, storageKeyString } from "../storage/storage-key.js";
import { AAE_MESSAGE_LIMITS } from "./aae-options.js";
import { confirmDifferences, repairKeys } from "./exchange-repair.js";
import {
  ExchangeTally,
  chunks,
  protocolError,
  type Difference,
  type ExchangeContext,
  type ExchangePort,
  type PartitionTally,
} from "./exchange-tally.js";

/** The outcome of one exchange. */
export interface ExchangeReport {
  readonly peer: NodeId;
  /** Partitions both sides could compare (the peer leaves out any it cannot). */
  readonly partitions: readonly number[];
  /** Confirmed differences, and the keys of them that a merge changed on either side. */
  readonly differences: number;
  readonly repaired: number;
  /** Differences found beyond repairKeysPerExchangeMax, left for the next exchange. */
  readonly truncated: boolean;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly perPartition: ReadonlyMap<number, PartitionTally>;
}

/**
 * One exchange with `peer` over `partitions` (those both replicate): finds the keys whose
 * versions differ, confirms them after a pause, and repairs each with DVV sync on both sides.
 * Rejects when the conversation fails; what was repaired until then stays repaired.
 */
export async function runExchange(
  port: ExchangePort,
  context: ExchangeContext,
  peer: NodeId,
  partitions: readonly number[],
): Promise<ExchangeReport> {
  const tally = new ExchangeTally(port);
  const { compared, differing } = await compareRoots(tally, context.trees, partitions);
  const branches = await compareBranches(tally, context.trees, differing);
  const leaves = await compareLeaves(tally, context.trees, branches);
  const found = await compareKeys(tally, context, leaves);
  let repaired = 0;
  let confirmed: Difference[] = [];
  if (found.differences.length > 0) {
    await context.clock.sleep(context.options.confirmDelayMs, context.signal);
    confirmed = await confirmDifferences(tally, context.trees, found.differences);
    for (const difference of confirmed) tally.tally(difference.partition).differences += 1;
    repaired = await repairKeys(tally, context, confirmed);
  }
  return {
    peer,
    partitions: compared,
    differences: confirmed.length,
    repaired,
    truncated: found.truncated,
    bytesSent: port.bytesSent(),
    bytesReceived: port.bytesReceived(),
    perPartition: tally.perPartition,
  };
}

/** Step 1: the roots of every shared partition; returns those compared and those differing. */
async function compareRoots(
  tally: ExchangeTally,
  trees: PartitionTrees,
  partitions: readonly number[],
): Promise<{ compared: number[]; differing: number[] }> {
  if (partitions.length > AAE_MESSAGE_LIMITS.rootsPartitionsMax) {
    throw new Error(`${partitions.length} partitions exceed one roots request`);
  }
  const request = {
    partitions: [...partitions],
    partition_count: trees.partitionCount,
    branch_count: trees.shape.branchCount,
    leaves_per_branch: trees.shape.leavesPerBranch,
  };
  const answer = await tally.ask("roots", { roots: request }, partitions);
  const asked = new Set(partitions);
  if (answer.roots.length !== answer.partitions.length * HASH_BYTES) {
    throw protocolError(
      `${answer.partitions.length} partitions but ${answer.roots.length} root bytes`,
    );
  }
  const compared: number[] = [];
  const differing: number[] = [];
  answer.partitions.forEach((partition, index) => {
    if (!asked.has(partition)) throw protocolError(`root of partition ${partition} not asked for`);
    compared.push(partition);
    if (unpackHash(answer.roots, index) !== trees.root(partition)) differing.push(partition);
  });
  return { compared, differing };
}

interface BranchRef {
  readonly partition: number;
  readonly branch: number;
}

interface LeafRef {
  readonly partition: number;
  readonly leaf: number;
}

/** Step 2: every branch hash of the differing partitions. */
async function compareBranches(
  tally: ExchangeTally,
  trees: PartitionTrees,
  partitions: readonly number[],
): Promise<BranchRef[]> {
  const size = trees.shape.branchCount * HASH_BYTES;
  const differing: BranchRef[] = [];
  for (const chunk of chunks(partitions, AAE_MESSAGE_LIMITS.branchesPartitionsMax)) {
    const answer = await tally.ask("branches", { branches: { partitions: chunk } }, chunk);
    if (answer.hashes.length !== chunk.length * size) {
      throw protocolError(`branches: ${answer.hashes.length} bytes for ${chunk.length} partitions`);
    }
    chunk.forEach((partition, index) => {
      const remote = answer.hashes.subarray(index * size, (index + 1) * size);
      for (const branch of differingSlots(trees.branchHashes(partition), remote)) {
        differing.push({ partition, branch });
      }
    });
  }
  return differing;
}

/** Step 3: the leaf hashes under the differing branches. */
async function compareLeaves(
  tally: ExchangeTally,
  trees: PartitionTrees,
  branches: readonly BranchRef[],
): Promise<LeafRef[]> {
  const width = trees.shape.leavesPerBranch;
  const size = width * HASH_BYTES;
  const differing: LeafRef[] = [];
  for (const chunk of chunks(branches, AAE_MESSAGE_LIMITS.leavesBranchesMax)) {
    const partitions = chunk.map((ref) => ref.partition);
    const request = { leaves: { partitions, branches: chunk.map((ref) => ref.branch) } };
    const answer = await tally.ask("leaves", request, partitions);
    if (answer.hashes.length !== chunk.length * size) {
      throw protocolError(`leaves: ${answer.hashes.length} bytes for ${chunk.length} branches`);
    }
    chunk.forEach(({ partition, branch }, index) => {
      const remote = answer.hashes.subarray(index * size, (index + 1) * size);
      for (const slot of differingSlots(trees.leafHashes(partition, branch), remote)) {
        differing.push({ partition, leaf: branch * width + slot });
      }
    });
  }
  return differing;
}

/**
 * Step 4: the keys and version hashes of the differing leaves, compared with this node's;
 * stops collecting at repairKeysPerExchangeMax differences.
 */
async function compareKeys(
  tally: ExchangeTally,
  context: ExchangeContext,
  leaves: readonly LeafRef[],
): Promise<{ differences: Difference[]; truncated: boolean }> {
  const { trees, options } = context;
  const differences: Difference[] = [];
  let next = 0;
  while (next < leaves.length) {
    if (differences.length >= options.repairKeysPerExchangeMax)
      return { differences, truncated: true };
    const chunk = leaves.slice(next, next + AAE_MESSAGE_LIMITS.keysLeavesMax);
    const partitions = chunk.map((ref) => ref.partition);
    const request = { keys: { partitions, leaves: chunk.map((ref) => ref.leaf) } };
    const answer = await tally.ask("keys", request, partitions);
    if (!(answer.leaves_done >= 1 && answer.leaves_done <= chunk.length)) {
      throw protocolError(`keys: ${answer.leaves_done} leaves done of ${chunk.length}`);
    }
    const done = chunk.slice(0, answer.leaves_done);
    const remote = groupByLeaf(answer.keys, trees);
    for (const { partition, leaf } of done) {
      const theirs = remote.get(`${partition}/${leaf}`) ?? new Map<string, RemoteKey>();
      differences.push(...leafDifferences(trees, partition, leaf, theirs));
    }
    next += answer.leaves_done;
  }
  const truncated = differences.length > options.repairKeysPerExchangeMax;
  return { differences: differences.slice(0, options.repairKeysPerExchangeMax), truncated };
}

interface RemoteKey {
  readonly bucket: string;
  readonly key: Uint8Array;
  readonly version: bigint | undefined;
}

/** The peer's keys by "partition/leaf", then by key id. */
function groupByLeaf(
  keys: readonly { bucket: string; key: Uint8Array; version: Uint8Array }[],
  trees: PartitionTrees,
): Map<string, Map<string, RemoteKey>> {
  const byLeaf = new Map<string, Map<string, RemoteKey>>();
  for (const { bucket, key, version } of keys) {
    const hash = keyHash(bucket, key);
    const where = `${partitionOf(hash, trees.partitionCount)}/${leafOf(hash, trees.shape)}`;
    let leaf = byLeaf.get(where);
    if (leaf === undefined) byLeaf.set(where, (leaf = new Map()));
    const parsed = version.length === HASH_BYTES ? unpackHash(version, 0) : undefined;
    leaf.set(storageKeyString(bucket, key), { bucket, key, version: parsed });
  }
  return byLeaf;
}

/** The keys of one leaf whose version hashes differ between this node and the peer. */
function leafDifferences(
  trees: PartitionTrees,
  partition: number,
  leaf: number,
  theirs: ReadonlyMap<string, RemoteKey>,
): Difference[] {
  const differences: Difference[] = [];
  for (const [id, remote] of theirs) {
    if (trees.versionOfId(id) !== remote.version) {
      differences.push({ bucket: remote.bucket, key: remote.key, partition });
    }
  }
  for (const id of trees.leafIds(partition, leaf)) {
    if (!theirs.has(id)) differences.push({ ...parseStorageKeyString(id), partition });
  }
  return differences;
}
