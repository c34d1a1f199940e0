// The phi-accrual failure detector of one peer (Hayashibara et al., SRDS 2004; Akka's variant
// with an acceptable pause and a floor under the standard deviation). Pure: heartbeat arrival
// times come in as arguments, suspicion (phi) comes out; no clock, timers or IO.

/** How a detector turns a history of heartbeat arrivals into suspicion. */
export interface PhiAccrualOptions {
  /** Inter-arrival samples kept (a ring buffer); older ones fall out, so the history adapts. */
  readonly windowSamplesMax: number;
  /**
   * Floor under the measured standard deviation. Heartbeats on an idle LAN arrive like
   * clockwork (σ of a few ms), and without a floor the first 50 ms hiccup would convict.
   */
  readonly stdDeviationMsMin: number;
  /**
   * Silence tolerated on top of the mean interval before suspicion starts to rise: a GC pause,
   * a busy event loop on either side, a slow reply. It shifts the whole distribution right.
   */
  readonly acceptablePauseMs: number;
  /** The interval assumed before any has been measured (the configured heartbeat interval). */
  readonly firstIntervalMsEstimate: number;
}

/** What the detector currently believes about the arrivals of heartbeats. */
export interface ArrivalStats {
  readonly samples: number;
  readonly meanMs: number;
  /** The measured standard deviation, before the floor is applied. */
  readonly stdDeviationMs: number;
}

/**
 * Suspicion of one peer. phi(t) = -log10(P(an interval longer than t)), where t is the silence
 * since the last heartbeat and intervals are taken as normally distributed with the window's
 * mean (plus the acceptable pause) and standard deviation (at least the floor).
 *
 * Laws (unit-tested): phi never decreases while no heartbeat (or other evidence) arrives; a
 * heartbeat or evidence drops it to its minimum (-log10(1 - Q(-(mean + pause)/σ)) ≈ 0); with a regular history, phi reaches a
 * threshold T after `silenceMsAtPhi(T)` ms of silence, which grows with the pause and with σ.
 */
export class PhiAccrualDetector {
  readonly #options: PhiAccrualOptions;
  readonly #intervalsMs: number[] = [];
  #next = 0;
  /** The last heartbeat: intervals are measured between heartbeats only. */
  #lastHeartbeatMs: number | undefined;
  /** Where the current silence started: the last heartbeat or later evidence of life. */
  #silenceSinceMs: number | undefined;
  #meanMs = 0;
  #stdDeviationMs = 0;

  constructor(options: PhiAccrualOptions) {
    assertOptions(options);
    this.#options = options;
    this.#recompute();
  }

  /** A heartbeat arrived at nowMs: record the interval since the previous one. */
  heartbeat(nowMs: number): void {
    if (this.#lastHeartbeatMs !== undefined) {
      this.#record(Math.max(0, nowMs - this.#lastHeartbeatMs));
    }
    this.#lastHeartbeatMs = nowMs;
    this.#silenceSinceMs = nowMs;
  }

  /**
   * A heartbeat arrived after an outage: restart the silence clock without recording the gap,
   * which would only measure how long the peer was away and skew the history (Akka does the
   * same with the first heartbeat after a failure).
   */
  resume(nowMs: number): void {
    this.#lastHeartbeatMs = nowMs;
    this.#silenceSinceMs = nowMs;
  }

  /**
   * The peer showed it was alive at nowMs by other means than a heartbeat (a request it sent
   * us): the silence restarts, but no interval is recorded, because such evidence arrives at
   * the pace of traffic, not of heartbeats, and would distort the history.
   */
  evidence(nowMs: number): void {
    if (this.#silenceSinceMs === undefined || nowMs <= this.#silenceSinceMs) return;
    this.#silenceSinceMs = nowMs;
  }

  /**
   * This process was not running for pauseMs (a stalled event loop, a GC pause, SIGSTOP): that
   * time says nothing about the peer, so it is not counted as silence (Cassandra suppresses
   * convictions after a local pause for the same reason). Never moves past nowMs.
   */
  discount(pauseMs: number, nowMs: number): void {
    if (pauseMs <= 0) return;
    if (this.#lastHeartbeatMs !== undefined) {
      this.#lastHeartbeatMs = Math.min(this.#lastHeartbeatMs + pauseMs, nowMs);
    }
    if (this.#silenceSinceMs !== undefined) {
      this.#silenceSinceMs = Math.min(this.#silenceSinceMs + pauseMs, nowMs);
    }
  }

  /** Silence since the last heartbeat or evidence of life (0 before the first heartbeat). */
  silenceMs(nowMs: number): number {
    return this.#silenceSinceMs === undefined ? 0 : Math.max(0, nowMs - this.#silenceSinceMs);
  }

  /** The suspicion level at nowMs; 0 before the first heartbeat. */
  phi(nowMs: number): number {
    if (this.#silenceSinceMs === undefined) return 0;
    return this.#phiOfSilence(this.silenceMs(nowMs));
  }

  /** How long a silence must last for phi to reach `phi`, given the current history. */
  silenceMsAtPhi(phi: number): number {
    if (!(phi > 0)) throw new Error(`phi must be positive, got ${phi}`);
    return this.#expectedMs() + this.#sigmaMs() * upperTailQuantile(Math.pow(10, -phi));
  }

  /** The window's mean and deviation (before the pause and the floor are applied). */
  stats(): ArrivalStats {
    return {
      samples: this.#intervalsMs.length,
      meanMs: this.#meanMs,
      stdDeviationMs: this.#stdDeviationMs,
    };
  }

  #phiOfSilence(silenceMs: number): number {
    return phiOf(silenceMs, this.#expectedMs(), this.#sigmaMs());
  }

  #expectedMs(): number {
    return this.#meanMs + this.#options.acceptablePauseMs;
  }

  #sigmaMs(): number {
    return Math.max(this.#stdDeviationMs, this.#options.stdDeviationMsMin);
  }

  #record(intervalMs: number): void {
    if (this.#intervalsMs.length < this.#options.windowSamplesMax) {
      this.#intervalsMs.push(intervalMs);
    } else {
      this.#intervalsMs[this.#next] = intervalMs;
      this.#next = (this.#next + 1) % this.#options.windowSamplesMax;
    }
    this.#recompute();
  }

  /** Mean and deviation over the window; O(window) per heartbeat, bounded by windowSamplesMax. */
  #recompute(): void {
    const count = this.#intervalsMs.length;
    if (count === 0) {
      this.#meanMs = this.#options.firstIntervalMsEstimate;
      this.#stdDeviationMs = this.#options.firstIntervalMsEstimate / 4;
      return;
    }
    let sum = 0;
    for (const interval of this.#intervalsMs) sum += interval;
    const mean = sum / count;
    let squares = 0;
    for (const interval of this.#intervalsMs) squares += (interval - mean) * (interval - mean);
    this.#meanMs = mean;
    this.#stdDeviationMs = Math.sqrt(squares / count);
  }
}

/**
 * phi of a silence under a normal distribution of intervals: -log10(Q((silence - mean) / σ)),
 * where Q is the upper tail of the standard normal. Finite for any finite input (computed in
 * the log domain, so it keeps growing instead of saturating at Infinity).
 */
export function phiOf(silenceMs: number, meanMs: number, stdDeviationMs: number): number {
  if (!(stdDeviationMs > 0)) throw new Error(`σ must be positive, got ${stdDeviationMs}`);
  return -log10UpperTail((silenceMs - meanMs) / stdDeviationMs);
}

/** log10 of Q(y) = P(Z > y) for a standard normal Z. */
export function log10UpperTail(y: number): number {
  const z = Math.abs(y) / Math.SQRT2;
  // Q(y) = erfc(y/√2)/2. For y ≥ 0 stay in the log domain so deep tails do not underflow.
  const lnErfc = lnErfcNonNegative(z);
  if (y >= 0) return (Math.log(0.5) + lnErfc) / Math.LN10;
  return Math.log10(1 - 0.5 * Math.exp(lnErfc));
}

/**
 * ln(erfc(z)) for z ≥ 0, by the Chebyshev fit of Press et al. (Numerical Recipes §6.2,
 * "erfcc"): relative error below 1.2e-7 everywhere, which keeps phi accurate far in the tail.
 */
function lnErfcNonNegative(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  const coefficients = [
    -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
    1.48851587, -0.82215223, 0.17087277,
  ];
  let polynomial = 0;
  for (let index = coefficients.length - 1; index >= 0; index--) {
    polynomial = polynomial * t + (coefficients[index] ?? 0);
  }
  return Math.log(t) - z * z + polynomial;
}

/** The y with Q(y) = probability (0 < probability < 1), by bisection on log10 Q. */
export function upperTailQuantile(probability: number): number {
  if (!(probability > 0 && probability < 1)) {
    throw new Error(`probability must be in (0, 1), got ${probability}`);
  }
  const target = Math.log10(probability);
  let low = -40;
  let high = 40;
  // 80 halvings of an interval of 80 reach well below double precision at these magnitudes.
  for (let step = 0; step < 80; step++) {
    const middle = (low + high) / 2;
    if (log10UpperTail(middle) > target) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

function assertOptions(options: PhiAccrualOptions): void {
  const { windowSamplesMax, stdDeviationMsMin, acceptablePauseMs, firstIntervalMsEstimate } =
    options;
  if (!Number.isInteger(windowSamplesMax) || windowSamplesMax < 1 || windowSamplesMax > 10_000) {
    throw new Error(`windowSamplesMax must be an integer in 1..10000, got ${windowSamplesMax}`);
  }
  if (!(stdDeviationMsMin > 0)) {
    throw new Error(`stdDeviationMsMin must be positive, got ${stdDeviationMsMin}`);
  }
  if (!(acceptablePauseMs >= 0)) {
    throw new Error(`acceptablePauseMs must be ≥ 0, got ${acceptablePauseMs}`);
  }
  if (!(firstIntervalMsEstimate > 0)) {
    throw new Error(`firstIntervalMsEstimate must be positive, got ${firstIntervalMsEstimate}`);
  }
}
