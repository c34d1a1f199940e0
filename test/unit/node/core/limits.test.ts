import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, limitsWith } from "../../../../node/core/limits.js";

describe("limitsWith()", () => {
  it("applies overrides on top of the defaults", () => {
    const made = limitsWith([
      "siblingsMax=50",
      "siblingsWarn=10",
      "replyUnreadMsMax=1000",
      "hintBytesMax=400",
    ]);
    if (!made.ok) throw new Error(made.reason);
    expect(made.limits).toEqual({
      ...DEFAULT_LIMITS,
      siblingsMax: 50,
      siblingsWarn: 10,
      replyUnreadMsMax: 1000,
      hintBytesMax: 400,
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
    [
      "a connection's share above the node's requests",
      ["connectionRequestsInFlightMax=5000"],
      /connectionRequestsInFlightMax=5000 exceeds requestsInFlightMax=4096/,
    ],
  ])("refuses %s, naming it", (_name, overrides, reason) => {
    const made = limitsWith(overrides);
    expect(made.ok ? "accepted" : made.reason).toMatch(reason);
  });
});

describe("the names of the limits", () => {
  const names = Object.keys(DEFAULT_LIMITS);

  it.each(names)("%s ends in its one qualifier, with any scope first", (name) => {
    const qualifier = /(Max|Warn|Default)$/.exec(name)?.[0];
    expect(qualifier, `${name} ends in Max, Warn or Default`).toBeDefined();
    const stem = name.slice(0, name.length - (qualifier ?? "").length);
    expect(stem, `${name}: the qualifier comes once, last`).not.toMatch(/Max|Warn|Default|Per/);
  });

  // Users set limits by these names (`dkv serve --limit NAME=VALUE`), so each one is documented.
  const docs = ["../../../../README.md", "../../../../docs/OPERATIONS.md"]
    .map((file) => readFileSync(new URL(file, import.meta.url), "utf8"))
    .join("\n");

  it.each(names)("%s is documented in README.md or docs/OPERATIONS.md", (name) => {
    expect(docs).toContain(`\`${name}\``);
  });
});
