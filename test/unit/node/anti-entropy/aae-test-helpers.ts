// Helpers for the anti-entropy tests: a replica with its trees over memory storage, a port that
// carries an exchange to an answerer in-process through the real protobuf encoding, and a fake
// clock.

import { loadProto } from "../../../../proto/load-proto.js";
import type { ExchangeRequest } from "../../../../proto/generated/dkv/v1/ExchangeRequest.js";
import type { ExchangeResponse__Output } from "../../../../proto/generated/dkv/v1/ExchangeResponse.js";
import { MemoryStorage } from "../../../../node/storage/memory-storage.js";
import { Replica } from "../../../../node/replica.js";
import { EMPTY_CONTEXT, type CausalContext } from "../../../../node/core/causal-context.js";
import type { DvvSet } from "../../../../node/core/dvv.js";
import { nodeId, type NodeId } from "../../../../node/core/node-id.js";
import { PartitionTrees } from "../../../../node/anti-entropy/partition-trees.js";
import { ExchangeAnswerer } from "../../../../node/anti-entropy/exchange-answerer.js";
import type {
  ExchangeContext,
  ExchangePort,
} from "../../../../node/anti-entropy/exchange-tally.js";
import {
  DEFAULT_AAE_OPTIONS,
  type AntiEntropyOptions,
} from "../../../../node/anti-entropy/aae-options.js";
import { TokenBucket } from "../../../../node/anti-entropy/token-bucket.js";
import type { Clock } from "../../../../node/clock.js";

export const PARTITIONS = 8;

/** One replica: storage, Replica, and trees kept by its write listener. */
export interface Side {
  readonly node: NodeId;
  readonly storage: MemoryStorage;
  readonly replica: Replica;
  readonly trees: PartitionTrees;
}

export async function makeSide(name: string, options: { ready?: boolean } = {}): Promise<Side> {
  const storage = new MemoryStorage();
  await storage.open();
  const replica = new Replica(storage, `${name}.test`);
  const trees = new PartitionTrees(PARTITIONS);
  replica.onWrite((bucket, key, _before, after) => trees.apply(bucket, key, after));
  if (options.ready ?? true) trees.markReady();
  return { node: nodeId(name), storage, replica, trees };
}

const encoder = new TextEncoder();

/** A client write coordinated at `side`. */
export async function write(
  side: Side,
  key: string,
  value: string,
  options: { context?: CausalContext; deleted?: boolean; bucket?: string } = {},
): Promise<DvvSet> {
  const version = {
    value: encoder.encode(value),
    contentType: "text/plain",
    metadata: {},
    lastModifiedMs: 1000,
    deleted: options.deleted ?? false,
  };
  const result = await side.replica.coordinate(
    options.bucket ?? "b",
    encoder.encode(key),
    options.context ?? EMPTY_CONTEXT,
    version,
    { durable: false, check: () => undefined },
  );
  return result.object;
}

/** Copies a key's object from one side to the other, as replication would. */
export async function replicate(from: Side, to: Side, key: string, bucket = "b"): Promise<void> {
  const object = await from.replica.get(bucket, encoder.encode(key));
  if (object === undefined) throw new Error(`${from.node} has no ${key}`);
  await to.replica.merge(bucket, encoder.encode(key), object, { durable: false });
}

/** The live values of a key at a side, sorted ("(deleted)" for tombstones). */
export async function valuesAt(side: Side, key: string, bucket = "b"): Promise<string[]> {
  const object = await side.replica.get(bucket, encoder.encode(key));
  const decoder = new TextDecoder();
  return (object?.siblings ?? [])
    .map((sibling) => (sibling.deleted ? "(deleted)" : decoder.decode(sibling.value)))
    .sort();
}

/** Every partition replicated by both sides (n = 2 of 2 nodes). */
export const allPrimaries = (a: NodeId, b: NodeId) => (): readonly NodeId[] => [a, b];

/** A port to `answerer`, through the real request/response protobuf encoding. */
export function directPort(
  answerer: ExchangeAnswerer,
  from: NodeId,
  hooks: { beforeAnswer?: (request: ExchangeRequest) => Promise<void> } = {},
): ExchangePort & { readonly steps: string[] } {
  const method = (
    loadProto().definition["dkv.v1.AntiEntropy"] as unknown as {
      Exchange: {
        requestSerialize: (value: unknown) => Buffer;
        requestDeserialize: (bytes: Buffer) => never;
        responseSerialize: (value: unknown) => Buffer;
        responseDeserialize: (bytes: Buffer) => ExchangeResponse__Output;
      };
    }
  ).Exchange;
  let sent = 0;
  let received = 0;
  const steps: string[] = [];
  return {
    steps,
    bytesSent: () => sent,
    bytesReceived: () => received,
    async ask(request) {
      const requestBytes = method.requestSerialize(request);
      sent += requestBytes.length + 5;
      const decoded = method.requestDeserialize(requestBytes);
      steps.push((decoded as { step: string }).step);
      await hooks.beforeAnswer?.(request);
      const response = await answerer.answer(decoded, from);
      const responseBytes = method.responseSerialize(response);
      received += responseBytes.length + 5;
      return method.responseDeserialize(responseBytes);
    },
  };
}

/** The answerer of `side`, replicating every partition with `peer`. */
export function answererOf(side: Side, peer: NodeId): ExchangeAnswerer {
  return new ExchangeAnswerer({
    self: side.node,
    trees: side.trees,
    replica: side.replica,
    primariesOf: allPrimaries(side.node, peer),
  });
}

/**
 * A clock whose sleeps return at once, recording what was asked and moving time on by the
 * sleep; `onSleep` runs first. It sets no timers.
 */
export function fakeClock(onSleep?: (ms: number) => Promise<void>): Clock & { slept: number[] } {
  let nowMs = 0;
  const slept: number[] = [];
  return {
    slept,
    nowMs: () => nowMs,
    monotonicMs: () => nowMs,
    setTimer() {
      throw new Error("fakeClock sets no timers");
    },
    defer(callback) {
      queueMicrotask(callback);
    },
    async sleep(ms) {
      slept.push(ms);
      await onSleep?.(ms);
      nowMs += ms;
    },
  };
}

/** The opening side's context with a fake clock and the given options. */
export function contextOf(
  side: Side,
  clock: Clock,
  options: Partial<AntiEntropyOptions> = {},
): ExchangeContext {
  const merged = { ...DEFAULT_AAE_OPTIONS, ...options };
  return {
    trees: side.trees,
    replica: side.replica,
    options: merged,
    limiter: new TokenBucket(merged.repairKeysPerSecond, 64, clock),
    clock,
  };
}

export const ALL_PARTITIONS = Array.from({ length: PARTITIONS }, (_, p) => p);
