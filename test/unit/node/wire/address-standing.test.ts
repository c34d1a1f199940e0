import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { AddressStanding, STRIKES_MAX } from "../../../../node/wire/address-standing.js";

const options = { ratePerSecond: 1, burst: 4, trustMs: 60_000 };

describe("AddressStanding", () => {
  it("admits an address never charged, and one within its burst of failures", () => {
    const standing = new AddressStanding(options);
    expect(standing.admits("a", 0)).toBe(true);
    for (let failure = 0; failure < 3; failure++) standing.failed("a", 0);
    expect(standing.admits("a", 0)).toBe(true);
    standing.failed("a", 0);
    expect(standing.admits("a", 0)).toBe(false);
    // Another address has its own budget.
    expect(standing.admits("b", 0)).toBe(true);
  });

  it("refills at ratePerSecond, and an address that keeps failing owes up to a burst more", () => {
    const standing = new AddressStanding(options);
    for (let failure = 0; failure < 20; failure++) standing.failed("a", 0);
    // Floor -4: five tokens to regain before one is whole again.
    expect(standing.admits("a", 4_999)).toBe(false);
    expect(standing.admits("a", 5_000)).toBe(true);
  });

  it("never refuses an address that authenticated within trustMs", () => {
    const standing = new AddressStanding(options);
    standing.authenticated("a", 0);
    for (let failure = 0; failure < 20; failure++) standing.failed("a", 1000);
    expect(standing.admits("a", 59_999)).toBe(true);
    // Trust lapses; the failures still count (refilled meanwhile: -4 + 60 s × 1/s ≥ 1).
    expect(standing.admits("a", 60_000)).toBe(true);
    for (let failure = 0; failure < 8; failure++) standing.failed("a", 60_000);
    expect(standing.admits("a", 60_000)).toBe(false);
  });

  it("says an address is trusted only within trustMs of its last authenticated call", () => {
    const standing = new AddressStanding(options);
    expect(standing.trusted("a", 0)).toBe(false);
    standing.authenticated("a", 0);
    expect(standing.trusted("a", 59_999)).toBe(true);
    expect(standing.trusted("a", 60_000)).toBe(false);
    standing.failed("b", 0);
    expect(standing.trusted("b", 0)).toBe(false);
  });

  it("renews trust on a later authenticated call", () => {
    const standing = new AddressStanding(options);
    standing.authenticated("a", 0);
    standing.authenticated("a", 50_000);
    for (let failure = 0; failure < 8; failure++) standing.failed("a", 108_000);
    expect(standing.admits("a", 109_999)).toBe(true);
    expect(standing.admits("a", 110_001)).toBe(false);
  });

  it("halves the refill rate each time an address spends its budget again, until it authenticates", () => {
    const standing = new AddressStanding(options);
    for (let failure = 0; failure < 8; failure++) standing.failed("a", 0);
    expect(standing.strikes("a")).toBe(1);
    // First strike: the full rate, 5 s from the floor of -4 to 1.
    let nowMs = 5_000;
    expect(standing.admits("a", nowMs - 1)).toBe(false);
    expect(standing.admits("a", nowMs)).toBe(true);
    // Each later one: one connection spends the token it waited for, and the next waits twice
    // as long, up to 2^(STRIKES_MAX - 1) s.
    for (const [strike, waitMs] of [
      [2, 2_000],
      [3, 4_000],
      [4, 8_000],
      [5, 16_000],
      [5, 16_000],
    ] as const) {
      standing.failed("a", nowMs);
      expect(standing.strikes("a")).toBe(strike);
      expect(standing.admits("a", nowMs + waitMs - 1), `strike ${strike}`).toBe(false);
      expect(standing.admits("a", nowMs + waitMs), `strike ${strike}`).toBe(true);
      nowMs += waitMs;
    }
    expect(STRIKES_MAX).toBe(5);
    // A failure that leaves the budget admitting is no strike.
    standing.failed("b", 0);
    expect(standing.strikes("b")).toBe(0);
    // Authenticating forgives: once its trust lapses, the address starts at the full rate.
    standing.authenticated("a", nowMs);
    expect(standing.strikes("a")).toBe(0);
    nowMs += options.trustMs;
    for (let failure = 0; failure < 8; failure++) standing.failed("a", nowMs);
    expect(standing.strikes("a")).toBe(1);
    expect(standing.admits("a", nowMs + 4_999)).toBe(false);
    expect(standing.admits("a", nowMs + 5_000)).toBe(true);
  });

  it("remembers at most addressesMax addresses", () => {
    const standing = new AddressStanding({ ...options, addressesMax: 3 });
    for (let index = 0; index < 10; index++) standing.failed(`10.0.0.${index}`, 0);
    expect(standing.size).toBe(3);
  });

  it("refuses after k instant failures iff burst - k < 1, for as long as the law says", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 10_000 }), (k, t) => {
        const standing = new AddressStanding(options);
        for (let failure = 0; failure < k; failure++) standing.failed("a", 0);
        const left = Math.max(-options.burst, options.burst - k);
        const admittedAtMs = left >= 1 ? 0 : (1 - left) * 1000;
        expect(standing.admits("a", t)).toBe(t >= admittedAtMs);
      }),
    );
  });
});
