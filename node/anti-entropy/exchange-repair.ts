// The last two steps of an exchange: the confirm pass, which drops differences that were only
// writes in flight, and the repair, which merges each differing key with DVV sync on both
// replicas (fetch theirs, merge into ours, send the merge back when they lack part of it).

import type { AaeObject } from "../../proto/generated/dkv/v1/AaeObject.js";
import type { AaeFetched__Output } from "../../proto/generated/dkv/v1/AaeFetched.js";
import { dvvEquals, type DvvSet } from "../core/dvv.js";
import { HASH_BYTES, unpackHash } from "../core/merkle-tree.js";
import { encodeObject } from "../core/object-codec.js";
import { decodeObject } from "../core/object-decode.js";
import type { PartitionTrees } from "./partition-trees.js";
import { AAE_MESSAGE_LIMITS } from "./aae-options.js";
import {
  chunks,
  protocolError,
  type Difference,
  type ExchangeContext,
  type ExchangeTally,
} from "./exchange-tally.js";

const refOf = ({ bucket, key }: Difference): { bucket: string; key: Uint8Array } => ({
  bucket,
  key,
});

/**
 * The confirm pass (Riak's *_confirm steps, done per key): asks the peer again for the version
 * hashes of the keys found different, and keeps those that still differ from this node's. A
 * write that was merely in flight has reached both replicas by now and drops out; a key still
 * changing stays in, which costs one needless but harmless merge.
 */
export async function confirmDifferences(
  tally: ExchangeTally,
  trees: PartitionTrees,
  differences: readonly Difference[],
): Promise<Difference[]> {
  const confirmed: Difference[] = [];
  for (const chunk of chunks(differences, AAE_MESSAGE_LIMITS.versionsKeysMax)) {
    const partitions = chunk.map((difference) => difference.partition);
    const answer = await tally.ask(
      "versions",
      { versions: { keys: chunk.map(refOf) } },
      partitions,
    );
    if (answer.versions.length !== chunk.length) {
      throw protocolError(`versions: ${answer.versions.length} answers for ${chunk.length} keys`);
    }
    chunk.forEach((difference, index) => {
      const bytes = answer.versions[index]!;
      const theirs = bytes.length === HASH_BYTES ? unpackHash(bytes, 0) : undefined;
      if (trees.versionOf(difference.bucket, difference.key) !== theirs) confirmed.push(difference);
    });
  }
  return confirmed;
}

/**
 * Repairs the keys in batches paced by the token bucket: fetch the peer's objects, merge each
 * into the local replica (Replica.merge: DVV sync under the key's lock, stored only when it
 * changed), and send the merged object to the peer when its copy lacks something, which the
 * peer merges the same way. Tombstones are ordinary siblings here, so a delete travels like any
 * write and a deleted key never comes back. Returns how many keys changed on either side.
 */
export async function repairKeys(
  tally: ExchangeTally,
  context: ExchangeContext,
  differences: readonly Difference[],
): Promise<number> {
  let repaired = 0;
  for (const batch of chunks(differences, AAE_MESSAGE_LIMITS.objectsPerMessageMax)) {
    await context.limiter.take(batch.length, context.signal);
    const fetched = await fetchObjects(tally, batch);
    const outgoing: { readonly object: AaeObject; readonly partition: number }[] = [];
    for (const [index, difference] of batch.entries()) {
      const merge = await mergeLocally(context, difference, fetched[index]!);
      if (merge.send !== undefined) {
        outgoing.push({ object: merge.send, partition: difference.partition });
      }
      if (merge.changedHere || merge.send !== undefined) {
        repaired += 1;
        tally.tally(difference.partition).repaired += 1;
      }
    }
    await storeObjects(tally, outgoing);
  }
  return repaired;
}

/** The peer's objects of a batch, asking again for any it left out to bound a message. */
async function fetchObjects(
  tally: ExchangeTally,
  batch: readonly Difference[],
): Promise<AaeFetched__Output[]> {
  const fetched: AaeFetched__Output[] = [];
  while (fetched.length < batch.length) {
    const rest = batch.slice(fetched.length);
    const partitions = rest.map((difference) => difference.partition);
    const answer = await tally.ask("fetch", { fetch: { keys: rest.map(refOf) } }, partitions);
    if (!(answer.objects.length >= 1 && answer.objects.length <= rest.length)) {
      throw protocolError(`fetch: ${answer.objects.length} objects for ${rest.length} keys`);
    }
    fetched.push(...answer.objects);
  }
  return fetched;
}

/** Merges the peer's copy into this replica; says what, if anything, to send back. */
async function mergeLocally(
  context: ExchangeContext,
  { bucket, key }: Difference,
  theirs: AaeFetched__Output,
): Promise<{ readonly changedHere: boolean; readonly send: AaeObject | undefined }> {
  const { replica, trees } = context;
  const before = trees.versionOf(bucket, key);
  let remote: DvvSet | undefined;
  let merged: DvvSet | undefined;
  if (theirs.found) {
    const decoded = decodeObject(theirs.object);
    if (!decoded.ok) throw protocolError(`peer sent a malformed object: ${decoded.reason}`);
    remote = decoded.object;
    merged = (await replica.merge(bucket, key, remote, { durable: false })).object;
  } else {
    merged = await replica.get(bucket, key);
  }
  const changedHere = trees.versionOf(bucket, key) !== before;
  const peerLacks =
    !context.options.repairOneSide &&
    merged !== undefined &&
    (remote === undefined || !dvvEquals(merged, remote));
  const send =
    peerLacks && merged !== undefined ? { bucket, key, object: encodeObject(merged) } : undefined;
  return { changedHere, send };
}

/** Sends merged objects to the peer in messages bounded by count and bytes. */
async function storeObjects(
  tally: ExchangeTally,
  outgoing: readonly { readonly object: AaeObject; readonly partition: number }[],
): Promise<void> {
  let batch: AaeObject[] = [];
  let partitions: number[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    await tally.ask("store", { store: { objects: batch } }, partitions);
    [batch, partitions, bytes] = [[], [], 0];
  };
  for (const { object, partition } of outgoing) {
    const size = (object.object as Uint8Array).length;
    if (batch.length > 0 && bytes + size > AAE_MESSAGE_LIMITS.objectBytesPerMessageMax)
      await flush();
    batch.push(object);
    partitions.push(partition);
    bytes += size;
  }
  await flush();
}
