// Goal: the one assert helper: a false condition throws an AssertionError carrying the message, a
// true one returns, fail always throws; the core modules raise it for misuse.
// Method: direct calls, and one misuse of dvv's update().

import { describe, expect, it } from "vitest";
import { AssertionError, assert, fail } from "../../../../node/core/assert.js";
import { EMPTY_CONTEXT } from "../../../../node/core/causal-context.js";
import { EMPTY_DVV_SET, update } from "../../../../node/core/dvv.js";

describe("assert", () => {
  it("returns when the condition holds", () => {
    expect(() => assert(true, "never shown")).not.toThrow();
  });

  it.each([
    ["assert(false)", () => assert(false, "dvv: broken")],
    ["fail", () => fail("dvv: broken")],
  ])("%s throws an AssertionError named so, with the message as given", (_name, check) => {
    expect(check).toThrow(AssertionError);
    expect(check).toThrow(
      expect.objectContaining({ name: "AssertionError", message: "dvv: broken" }),
    );
  });

  it("is what a core module throws when its API is misused", () => {
    const version = { value: new Uint8Array(), contentType: "", metadata: {}, lastModifiedMs: 0 };
    expect(() => update(EMPTY_DVV_SET, EMPTY_CONTEXT, "", { ...version, deleted: false })).toThrow(
      AssertionError,
    );
  });
});
