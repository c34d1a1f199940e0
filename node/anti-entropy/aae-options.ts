// The knobs and bounds of anti-entropy (DESIGN §5, §7: every batch and loop bounded), with
// defaults and their reasons. Pure data.

import { DEFAULT_TREE_SHAPE, type TreeShape } from "../core/merkle-tree.js";

/** How one node runs anti-entropy. */
export interface AntiEntropyOptions {
  /** Every pair of replicas of a partition is compared once within this interval. */
  readonly intervalMs: number;
  /** Keys repaired per second by this node's exchanges, so repair never starves requests. */
  readonly repairKeysPerSecond: number;
  /**
   * Most differences one exchange collects and repairs; the rest wait for the next exchange.
   * Bounds the memory and duration of an exchange after a replica lost its data.
   */
  readonly repairKeysPerExchangeMax: number;
  /**
   * Pause between finding differences and confirming them: writes merely in flight land on
   * both replicas meanwhile and drop out (Riak's root_confirm/branch_confirm passes).
   */
  readonly confirmDelayMs: number;
  /** A peer that does not answer one step within this time fails the exchange. */
  readonly replyTimeoutMs: number;
  /** Entries indexed per chunk of the start-up rebuild, between yields to the event loop. */
  readonly rebuildChunkEntries: number;
  /**
   * Trees kept across clean restarts (tree-snapshot.ts) are trusted for at most this long after
   * they were last built by reading every object; an older snapshot is not loaded, and the
   * rebuild reads (and so checks) all the data again. Riak's anti_entropy_expire: one week.
   */
  readonly treeExpiryMs: number;
  readonly shape: TreeShape;
  /**
   * Test-only breakage, never set in production: the simulation's `ae-one-side` mutation, where
   * an exchange merges the peer's copy here but never sends the merge back, so only the opening
   * side of a difference is repaired.
   */
  readonly repairOneSide: boolean;
}

/** Defaults: the interval of DESIGN §5 (10 min); repair pacing in the spirit of Riak's. */
export const DEFAULT_AAE_OPTIONS: AntiEntropyOptions = Object.freeze({
  intervalMs: 600_000,
  repairKeysPerSecond: 2_000,
  repairKeysPerExchangeMax: 10_000,
  confirmDelayMs: 500,
  replyTimeoutMs: 30_000,
  rebuildChunkEntries: 1_000,
  treeExpiryMs: 7 * 24 * 3_600_000,
  shape: DEFAULT_TREE_SHAPE,
  repairOneSide: false,
});

/** Per-message bounds of the exchange protocol; a request beyond them is refused. */
export const AAE_MESSAGE_LIMITS = Object.freeze({
  /** Partitions in a roots request: Q ≤ 4096, so 32 KiB of roots at most. */
  rootsPartitionsMax: 4096,
  /** Partitions per branches request: 64 × 32 branches × 8 bytes = 16 KiB. */
  branchesPartitionsMax: 64,
  /** Branches per leaves request: 64 × 32 leaves × 8 bytes = 16 KiB. */
  leavesBranchesMax: 64,
  /** Leaves per keys request. */
  keysLeavesMax: 256,
  /** Keys per keys response; whole leaves only, so one oversized leaf may exceed it. */
  keysPerResponseMax: 4096,
  /** Keys per versions (confirm) request. */
  versionsKeysMax: 1024,
  /** Keys per fetch or store message. */
  objectsPerMessageMax: 64,
  /** Object bytes per fetch response or store request (always at least one object). */
  objectBytesPerMessageMax: 8 * 1024 * 1024,
  /** Requests a callee buffers from one caller; the protocol needs one at a time. */
  pendingRequestsMax: 4,
});

/** Throws when an option is out of range: a configuration error, caught at start-up. */
export function checkAntiEntropyOptions(options: AntiEntropyOptions): void {
  const positive: (keyof AntiEntropyOptions)[] = [
    "intervalMs",
    "repairKeysPerSecond",
    "repairKeysPerExchangeMax",
    "replyTimeoutMs",
    "rebuildChunkEntries",
    "treeExpiryMs",
  ];
  for (const name of positive) {
    const value = options[name];
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new Error(`anti-entropy ${name} must be a positive number, got ${String(value)}`);
    }
  }
  if (!(Number.isFinite(options.confirmDelayMs) && options.confirmDelayMs >= 0)) {
    throw new Error(`anti-entropy confirmDelayMs must be >= 0, got ${options.confirmDelayMs}`);
  }
}
