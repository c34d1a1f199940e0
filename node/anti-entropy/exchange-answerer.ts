// The answering side of an anti-entropy exchange: one response per request, read from this
// node's trees and replica. Transport-free, so the exchange runs in tests without gRPC;
// exchange-server.ts puts it behind the AntiEntropy.Exchange stream.

import type { ExchangeRequest__Output } from "../../proto/generated/dkv/v1/ExchangeRequest.js";
import type { ExchangeResponse } from "../../proto/generated/dkv/v1/ExchangeResponse.js";
import type { AaeKeyRef__Output } from "../../proto/generated/dkv/v1/AaeKeyRef.js";
import type { AaeFetched } from "../../proto/generated/dkv/v1/AaeFetched.js";
import type { AaeObject__Output } from "../../proto/generated/dkv/v1/AaeObject.js";
import type { AaeKeyVersion } from "../../proto/generated/dkv/v1/AaeKeyVersion.js";
import type { NodeId } from "../core/node-id.js";
import { KvError } from "../core/errors.js";
import { partitionOfKey } from "../core/key-hash.js";
import { HASH_BYTES, leafCount, packHashes } from "../core/merkle-tree.js";
import { encodeObject } from "../core/object-codec.js";
import { decodeObject } from "../core/object-decode.js";
import type { Replica } from "../replica.js";
import type { PartitionTrees } from "./partition-trees.js";
import { AAE_MESSAGE_LIMITS } from "./aae-options.js";
import type { PrimariesOf } from "./exchange-schedule.js";

/** What the answering side needs. */
export interface AnswererDeps {
  readonly self: NodeId;
  readonly trees: PartitionTrees;
  readonly replica: Replica;
  readonly primariesOf: PrimariesOf;
}

const limits = AAE_MESSAGE_LIMITS;

function invalid(message: string): KvError {
  return new KvError("invalid-argument", `anti-entropy: ${message}`);
}

function checkCount(what: string, count: number, max: number): void {
  if (count > max) throw invalid(`${count} ${what} in one request, at most ${max}`);
}

/** Answers the steps of exchanges opened by peers. */
export class ExchangeAnswerer {
  readonly #deps: AnswererDeps;

  constructor(deps: AnswererDeps) {
    this.#deps = deps;
  }

  /** The response to one request of the exchange opened by `from`; throws a KvError if bad. */
  async answer(request: ExchangeRequest__Output, from: NodeId): Promise<ExchangeResponse> {
    switch (request.step) {
      case "roots":
        return { roots: this.#roots(request.roots ?? undefined, from) };
      case "branches":
        return { branches: this.#branches(request.branches?.partitions ?? [], from) };
      case "leaves":
        return {
          leaves: this.#leaves(
            request.leaves?.partitions ?? [],
            request.leaves?.branches ?? [],
            from,
          ),
        };
      case "keys":
        return {
          keys: this.#keys(request.keys?.partitions ?? [], request.keys?.leaves ?? [], from),
        };
      case "versions":
        return { versions: this.#versions(request.versions?.keys ?? [], from) };
      case "fetch":
        return { fetch: await this.#fetch(request.fetch?.keys ?? [], from) };
      case "store":
        return { store: await this.#store(request.store?.objects ?? [], from) };
      default:
        throw invalid("a request must name a step");
    }
  }

  #roots(
    request:
      | {
          partitions: number[];
          partition_count: number;
          branch_count: number;
          leaves_per_branch: number;
        }
      | undefined,
    from: NodeId,
  ): { partitions: number[]; roots: Uint8Array } {
    const { trees } = this.#deps;
    if (request === undefined) throw invalid("empty roots request");
    checkCount("partitions", request.partitions.length, limits.rootsPartitionsMax);
    const sameShape =
      request.partition_count === trees.partitionCount &&
      request.branch_count === trees.shape.branchCount &&
      request.leaves_per_branch === trees.shape.leavesPerBranch;
    if (!sameShape) {
      throw new KvError(
        "precondition-failed",
        `anti-entropy: peer has Q=${request.partition_count} and trees of ` +
          `${request.branch_count}×${request.leaves_per_branch}, this node Q=${trees.partitionCount} ` +
          `and ${trees.shape.branchCount}×${trees.shape.leavesPerBranch}`,
      );
    }
    // While the trees are rebuilt nothing is comparable: an incomplete tree would report
    // every key it has not indexed yet as a difference.
    const partitions = trees.ready
      ? request.partitions.filter((partition) => this.#shared(partition, from))
      : [];
    return { partitions, roots: packHashes(partitions.map((partition) => trees.root(partition))) };
  }

  #branches(partitions: number[], from: NodeId): { hashes: Uint8Array } {
    checkCount("partitions", partitions.length, limits.branchesPartitionsMax);
    const { trees } = this.#deps;
    const size = trees.shape.branchCount * HASH_BYTES;
    const hashes = new Uint8Array(partitions.length * size);
    partitions.forEach((partition, index) => {
      this.#checkShared(partition, from);
      hashes.set(trees.branchHashes(partition), index * size);
    });
    return { hashes };
  }

  #leaves(partitions: number[], branches: number[], from: NodeId): { hashes: Uint8Array } {
    checkCount("branches", partitions.length, limits.leavesBranchesMax);
    if (partitions.length !== branches.length)
      throw invalid("partitions and branches differ in length");
    const { trees } = this.#deps;
    const size = trees.shape.leavesPerBranch * HASH_BYTES;
    const hashes = new Uint8Array(partitions.length * size);
    partitions.forEach((partition, index) => {
      this.#checkShared(partition, from);
      const branch = branches[index]!;
      if (!(branch < trees.shape.branchCount)) throw invalid(`branch ${branch} outside the tree`);
      hashes.set(trees.leafHashes(partition, branch), index * size);
    });
    return { hashes };
  }

  #keys(
    partitions: number[],
    leaves: number[],
    from: NodeId,
  ): { leaves_done: number; keys: AaeKeyVersion[] } {
    checkCount("leaves", partitions.length, limits.keysLeavesMax);
    if (partitions.length !== leaves.length)
      throw invalid("partitions and leaves differ in length");
    const { trees } = this.#deps;
    const keys: AaeKeyVersion[] = [];
    let done = 0;
    for (const [index, partition] of partitions.entries()) {
      this.#checkShared(partition, from);
      const leaf = leaves[index]!;
      if (!(leaf < leafCount(trees.shape))) throw invalid(`leaf ${leaf} outside the tree`);
      const inLeaf = trees.leafKeys(partition, leaf);
      // Whole leaves only, and at least one, so the caller can compare leaf by leaf.
      if (done > 0 && keys.length + inLeaf.length > limits.keysPerResponseMax) break;
      for (const entry of inLeaf) {
        keys.push({ bucket: entry.bucket, key: entry.key, version: packHashes([entry.version]) });
      }
      done += 1;
    }
    return { leaves_done: done, keys };
  }

  #versions(keys: AaeKeyRef__Output[], from: NodeId): { versions: Uint8Array[] } {
    checkCount("keys", keys.length, limits.versionsKeysMax);
    const { trees } = this.#deps;
    const versions = keys.map(({ bucket, key }) => {
      this.#checkKey(bucket, key, from);
      const version = trees.versionOf(bucket, key);
      return version === undefined ? new Uint8Array(0) : packHashes([version]);
    });
    return { versions };
  }

  async #fetch(keys: AaeKeyRef__Output[], from: NodeId): Promise<{ objects: AaeFetched[] }> {
    checkCount("keys", keys.length, limits.objectsPerMessageMax);
    const objects: AaeFetched[] = [];
    let bytes = 0;
    for (const { bucket, key } of keys) {
      if (objects.length > 0 && bytes >= limits.objectBytesPerMessageMax) break;
      this.#checkKey(bucket, key, from);
      const object = await this.#deps.replica.get(bucket, key);
      const encoded = object === undefined ? new Uint8Array(0) : encodeObject(object);
      bytes += encoded.length;
      objects.push({ found: object !== undefined, object: encoded });
    }
    return { objects };
  }

  async #store(objects: AaeObject__Output[], from: NodeId): Promise<{ changed: number }> {
    checkCount("objects", objects.length, limits.objectsPerMessageMax);
    const { replica, trees } = this.#deps;
    let changed = 0;
    for (const { bucket, key, object } of objects) {
      this.#checkKey(bucket, key, from);
      const decoded = decodeObject(object);
      if (!decoded.ok) throw invalid(`object is malformed: ${decoded.reason}`);
      const before = trees.versionOf(bucket, key);
      await replica.merge(bucket, key, decoded.object, { durable: false });
      if (trees.versionOf(bucket, key) !== before) changed += 1;
    }
    return { changed };
  }

  #shared(partition: number, from: NodeId): boolean {
    const { trees, self, primariesOf } = this.#deps;
    if (!(Number.isInteger(partition) && partition >= 0 && partition < trees.partitionCount)) {
      return false;
    }
    const primaries = primariesOf(partition);
    return primaries.includes(self) && primaries.includes(from);
  }

  #checkKey(bucket: string, key: Uint8Array, from: NodeId): void {
    this.#checkShared(partitionOfKey(bucket, key, this.#deps.trees.partitionCount), from);
  }

  #checkShared(partition: number, from: NodeId): void {
    if (!this.#deps.trees.ready)
      throw new KvError("unavailable", "anti-entropy: trees are rebuilding");
    if (!this.#shared(partition, from)) {
      throw invalid(
        `partition ${partition} is not replicated by both ${this.#deps.self} and ${from}`,
      );
    }
  }
}
