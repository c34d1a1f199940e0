// The failure detector's settings (DESIGN.md §5): heartbeat cadence, phi threshold and the
// phi-accrual shape, with the defaults chosen so that a saturated cluster does not flap.

import type { PhiAccrualOptions } from "../core/phi-accrual.js";

/** Everything the heartbeat loop and the per-peer detectors are configured with. */
export interface FailureDetectorOptions extends PhiAccrualOptions {
  /** How often each peer is pinged (Admin.Ping). */
  readonly heartbeatIntervalMs: number;
  /** A peer is convicted (down) once its phi reaches this (Cassandra's default is 8 too). */
  readonly phiThreshold: number;
  /**
   * Deadline of one ping. Long on purpose: a slow reply from a busy peer is still a heartbeat,
   * and only one ping per peer is in flight, so a long deadline never piles up calls.
   */
  readonly pingTimeoutMs: number;
  /** How often phi is evaluated and this process's own stalls are measured. */
  readonly checkIntervalMs: number;
  /**
   * Lateness of a check tolerated as normal jitter. Beyond it, this process itself stalled (a
   * saturated CPU, GC, SIGSTOP), and the excess is not counted as any peer's silence.
   */
  readonly localStallMsMin: number;
}

/**
 * Defaults. Silence needed to convict a peer with a regular history:
 * mean (500) + acceptable pause (1500) + 5.61 σ (σ ≥ 200) ≈ 3.1 s at phi 8, which leaves room
 * for a loaded history (larger mean and σ) within the 5 s DESIGN.md asks for; a refused
 * connection convicts at once. Busy peers are kept up by the requests they send (heardFrom),
 * not by a long pause. docs/OPERATIONS.md "Failure detection" has the measurements.
 */
export const DEFAULT_FAILURE_DETECTOR: FailureDetectorOptions = {
  heartbeatIntervalMs: 500,
  phiThreshold: 8,
  windowSamplesMax: 200,
  stdDeviationMsMin: 200,
  acceptablePauseMs: 1500,
  firstIntervalMsEstimate: 500,
  pingTimeoutMs: 10_000,
  checkIntervalMs: 100,
  localStallMsMin: 250,
};

/**
 * The defaults overridden by `overrides`, with firstIntervalMsEstimate following the heartbeat
 * interval unless given. Throws a message naming the setting on a value out of range.
 */
export function failureDetectorOptions(
  overrides: Partial<FailureDetectorOptions> = {},
): FailureDetectorOptions {
  const interval = overrides.heartbeatIntervalMs ?? DEFAULT_FAILURE_DETECTOR.heartbeatIntervalMs;
  const options: FailureDetectorOptions = {
    ...DEFAULT_FAILURE_DETECTOR,
    firstIntervalMsEstimate: interval,
    ...overrides,
  };
  const ranges: [keyof FailureDetectorOptions, number, number][] = [
    ["heartbeatIntervalMs", 10, 60_000],
    ["phiThreshold", 1, 50],
    ["windowSamplesMax", 1, 10_000],
    ["stdDeviationMsMin", 1, 60_000],
    ["acceptablePauseMs", 0, 600_000],
    ["firstIntervalMsEstimate", 1, 60_000],
    ["pingTimeoutMs", 10, 600_000],
    ["checkIntervalMs", 5, 60_000],
    ["localStallMsMin", 1, 600_000],
  ];
  for (const [name, low, high] of ranges) {
    const value = options[name];
    if (!(Number.isFinite(value) && value >= low && value <= high)) {
      throw new Error(`${name} must be a number from ${low} to ${high}, got ${value}`);
    }
  }
  return options;
}
