import { describe, expect, it } from "vitest";
import { FailedTokenBudget } from "../../../../node/security/failed-token-budget.js";

describe("FailedTokenBudget", () => {
  it("allows a burst of twice the rate from one address, then the rate", () => {
    const budget = new FailedTokenBudget({ ratePerSecond: 4 });
    const taken = Array.from({ length: 12 }, () => budget.take("a", 0)).filter(Boolean).length;
    expect(taken).toBe(8);
    expect(budget.take("a", 200)).toBe(false);
    expect(budget.take("a", 250)).toBe(true);
    expect(budget.take("a", 250)).toBe(false);
    // Another address has its own budget.
    expect(budget.take("b", 250)).toBe(true);
  });

  it("gives back a check whose token proved good", () => {
    const budget = new FailedTokenBudget({ ratePerSecond: 1 });
    expect(budget.take("a", 0)).toBe(true);
    expect(budget.take("a", 0)).toBe(true);
    expect(budget.take("a", 0)).toBe(false);
    budget.refund("a", 0);
    expect(budget.take("a", 0)).toBe(true);
  });

  it("remembers at most addressesMax addresses", () => {
    const budget = new FailedTokenBudget({ ratePerSecond: 1, addressesMax: 3 });
    for (let index = 0; index < 10; index++) budget.take(`10.0.0.${index}`, 0);
    expect(budget.size).toBe(3);
  });
});
