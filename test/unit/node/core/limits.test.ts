import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, limitsWith } from "../../../../node/core/limits.js";

describe("limitsWith()", () => {
  it("applies overrides on top of the defaults", () => {
    const made = limitsWith(["siblingsMax=50", "siblingsWarn=10", "replyUnreadMsMax=1000"]);
    if (!made.ok) throw new Error(made.reason);
    expect(made.limits).toEqual({
      ...DEFAULT_LIMITS,
      siblingsMax: 50,
      siblingsWarn: 10,
      replyUnreadMsMax: 1000,
    });
  });

  it.each([
    ["an unknown name", ["siblingMax=5"], /unknown limit in 'siblingMax=5'; limits: keyBytesMax/],
    ["no equals sign", ["siblingsMax"], /unknown limit in 'siblingsMax'/],
    [
      "a value that is not a number",
      ["siblingsMax=lots"],
      /siblingsMax must be a positive integer, got 'lots'/,
    ],
    ["zero", ["siblingsMax=0"], /must be a positive integer, got '0'/],
    ["a fraction", ["siblingsMax=1.5"], /must be a positive integer/],
    ["a warning above its limit", ["siblingsMax=20"], /siblingsWarn=25 exceeds siblingsMax=20/],
    [
      "a value limit above the object limit",
      ["valueBytesMax=99999999"],
      /valueBytesMax=99999999 exceeds objectBytesMax=17825792/,
    ],
  ])("refuses %s, naming it", (_name, overrides, reason) => {
    const made = limitsWith(overrides);
    expect(made.ok ? "accepted" : made.reason).toMatch(reason);
  });
});
